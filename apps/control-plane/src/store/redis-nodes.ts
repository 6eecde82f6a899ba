import type { Redis } from "ioredis";
import { decodeNodeStates, encodeNodeState } from "./codec.js";
import { lua, runScript } from "./redis-scripts.js";
import type { NodeState } from "./types.js";

/**
 * Node states in one Redis hash (`<p>nodes`: id -> JSON state). Soft state,
 * not config: no revision bump, no change-feed entry.
 */

/**
 * KEYS: nodes hash. ARGV: id, JSON state, lastSeenMs, repeated. A state older
 * (by lastSeenMs) than the stored one is skipped: a replica that lost a node
 * late must not overwrite what the replica now serving it saved.
 */
const SAVE_NODE_STATES = lua(`
for i = 1, #ARGV, 3 do
  local current = redis.call('HGET', KEYS[1], ARGV[i])
  if not current or cjson.decode(current).lastSeenMs <= tonumber(ARGV[i + 2]) then
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
  end
end
return 0
`);

/**
 * KEYS: nodes hash. ARGV: cutoff (epoch ms). Removes the states last seen
 * before it, checked in the same step, so a state a replica saves meanwhile
 * (a node that came back) is never lost. Returns how many it removed.
 */
const PRUNE_NODE_STATES = lua(`
local cutoff = tonumber(ARGV[1])
local all = redis.call('HGETALL', KEYS[1])
local removed = 0
for i = 1, #all, 2 do
  if cjson.decode(all[i + 1]).lastSeenMs < cutoff then
    redis.call('HDEL', KEYS[1], all[i])
    removed = removed + 1
  end
end
return removed
`);

export interface RedisNodeStates {
  save(states: NodeState[]): Promise<void>;
  list(): Promise<NodeState[]>;
  prune(lastSeenBefore: number): Promise<number>;
}

export function redisNodeStates(redis: Redis, key: string): RedisNodeStates {
  return {
    async save(states) {
      if (states.length === 0) return;
      const args = states.flatMap((state) => [state.id, encodeNodeState(state), state.lastSeenMs]);
      await runScript(redis, SAVE_NODE_STATES, [key], args);
    },
    async list() {
      const all = await redis.hgetall(key);
      return decodeNodeStates(
        Object.keys(all)
          .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
          .map((id) => all[id]!),
      );
    },
    async prune(lastSeenBefore) {
      return Number(await runScript(redis, PRUNE_NODE_STATES, [key], [lastSeenBefore]));
    },
  };
}
