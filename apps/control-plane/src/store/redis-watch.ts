import type { Redis } from "ioredis";
import type { Logger } from "pino";
import type { ChangeWatch, WatchHandlers } from "./types.js";

/** How long one XREAD blocks before it is issued again (an idle feed costs one command per this). */
const BLOCK_MS = 10_000;
const RETRY_MIN_MS = 100;
const RETRY_MAX_MS = 2_000;

/**
 * Follows the Redis change stream on a connection of its own (XREAD BLOCK
 * holds the connection it runs on). It resumes from the last entry id it saw,
 * so a dropped connection loses nothing that is still in the stream; after an
 * outage it reports a change anyway (the stream is capped, and Redis may have
 * restarted), and if the stream's newest id is now older than the one it
 * knew (Redis came back without its data), it starts over from there.
 */
export function watchChanges(
  redis: Redis,
  key: string,
  handlers: WatchHandlers,
  log: Logger | undefined,
): ChangeWatch {
  // No automatic reconnect: ioredis would park the blocked XREAD across it without settling
  // it. Here a broken connection fails the command, and the loop reconnects and resumes.
  const reader = redis.duplicate({ lazyConnect: true, retryStrategy: () => null });
  // Failures reach the loop through the failing command; this only keeps ioredis from printing them.
  reader.on("error", (error: Error) => log?.debug({ err: error }, "change feed connection error"));
  let closed = false;
  let lastId: string | null = null;
  let wakeUp: (() => void) | null = null;

  const pause = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        wakeUp = null;
        resolve();
      }
      wakeUp = done;
    });

  const newestId = async (): Promise<string> => {
    const newest = await reader.xrevrange(key, "+", "-", "COUNT", 1);
    return newest[0]?.[0] ?? "0-0";
  };

  const run = async (): Promise<void> => {
    // Starts as if recovering: the first successful read reports "established".
    let failing = true;
    let reported = false;
    let retryMs = RETRY_MIN_MS;
    while (!closed) {
      try {
        if (reader.status === "wait" || reader.status === "end") await reader.connect();
        if (failing) {
          const newest = await newestId();
          lastId ??= newest;
          if (compareIds(newest, lastId) < 0) {
            log?.warn({ lastId, newest }, "the change stream went back: Redis lost data (is AOF on?)");
            lastId = newest;
          }
          failing = false;
          reported = false;
          retryMs = RETRY_MIN_MS;
          log?.info("change feed live");
          handlers.onChange();
        }
        const from: string = lastId ?? "$";
        const reply = (await reader.xread("COUNT", 1000, "BLOCK", BLOCK_MS, "STREAMS", key, from)) as Array<
          [string, Array<[string, string[]]>]
        > | null;
        const entries = reply?.[0]?.[1] ?? [];
        const last = entries[entries.length - 1];
        if (last !== undefined) {
          lastId = last[0];
          handlers.onChange(revisionOf(last[1]));
        }
      } catch (error) {
        if (closed) return;
        if (!reported) handlers.onError(error);
        failing = true;
        reported = true;
        await pause(retryMs);
        retryMs = Math.min(RETRY_MAX_MS, retryMs * 2);
      }
    }
  };
  const running = run();

  return {
    close: async () => {
      closed = true;
      wakeUp?.();
      reader.disconnect();
      await running;
    },
  };
}

/** Orders stream ids `<ms>-<seq>`. */
export function compareIds(a: string, b: string): number {
  const [aMs = 0, aSeq = 0] = a.split("-").map(Number);
  const [bMs = 0, bSeq = 0] = b.split("-").map(Number);
  return aMs !== bMs ? aMs - bMs : aSeq - bSeq;
}

/** The `rev` field of a change entry (fields come as [name, value, name, value, ...]). */
function revisionOf(fields: string[]): number | undefined {
  const index = fields.indexOf("rev");
  const revision = index >= 0 && index % 2 === 0 ? Number(fields[index + 1]) : Number.NaN;
  return Number.isSafeInteger(revision) ? revision : undefined;
}
