import type { Server } from "node:http";
import type { EdgeNodeConfig } from "../config.js";

/** Applies the front's connection and timeout bounds to its server. */
export function applyServerLimits(server: Server, limits: EdgeNodeConfig["front"]): void {
  server.maxConnections = limits.maxConnections;
  // Slow clients (slowloris, stalled uploads) are cut off well before Node's 300 s default.
  server.headersTimeout = limits.headersTimeoutMs;
  server.requestTimeout = limits.requestTimeoutMs;
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;
  server.maxHeadersCount = 200;
}

export class BodyBudgetExceededError extends Error {
  readonly code = "EDGE_OVERLOADED";
  constructor() {
    super("the node holds too many request bodies in memory right now; retry shortly");
  }
}

/**
 * The request-body bytes every request on the node holds at once, bounded:
 * each request takes bytes as they arrive and gives them all back when it
 * ends, so stalled uploads cannot hold the node's memory without limit.
 */
export class BodyBudget {
  readonly #max: number;
  #used = 0;

  constructor(max: number) {
    this.#max = max;
  }

  get used(): number {
    return this.#used;
  }

  /** A per-request account: take() throws BodyBudgetExceededError past the node's budget; release() returns all. */
  account(): { take(bytes: number): void; release(): void } {
    let held = 0;
    return {
      take: (bytes) => {
        if (this.#used + bytes > this.#max) throw new BodyBudgetExceededError();
        this.#used += bytes;
        held += bytes;
      },
      release: () => {
        this.#used -= held;
        held = 0;
      },
    };
  }
}

/** Response header names a script cannot set: the node's own. */
export const NODE_HEADERS = new Set(["x-edge-pop", "x-edge-script-version"]);

/** The size of a response head's headers as sent (name, ": ", value, CRLF). */
export function headerBytes(headers: ReadonlyArray<readonly [string, string]>): number {
  let total = 0;
  for (const [name, value] of headers) total += Buffer.byteLength(name) + Buffer.byteLength(value) + 4;
  return total;
}
