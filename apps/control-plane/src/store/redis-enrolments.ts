import type { Redis } from "ioredis";
import { decodeEnrolment, encodeEnrolment } from "./enrolment-codec.js";
import type { NodeEnrolment } from "./types.js";

export interface RedisEnrolments {
  create(enrolment: NodeEnrolment): Promise<boolean>;
  get(nodeId: string): Promise<NodeEnrolment | null>;
  list(): Promise<NodeEnrolment[]>;
  delete(nodeId: string): Promise<boolean>;
}

/** Node enrolments in one Redis hash (`<p>enrolments`: node id -> JSON). */
export function redisEnrolments(redis: Redis, key: string): RedisEnrolments {
  return {
    async create(enrolment) {
      return (await redis.hsetnx(key, enrolment.nodeId, encodeEnrolment(enrolment))) === 1;
    },
    async get(nodeId) {
      const json = await redis.hget(key, nodeId);
      return json === null ? null : decodeEnrolment(json);
    },
    async list() {
      const all = await redis.hgetall(key);
      return Object.keys(all)
        .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
        .map((id) => decodeEnrolment(all[id]!));
    },
    async delete(nodeId) {
      return (await redis.hdel(key, nodeId)) === 1;
    },
  };
}
