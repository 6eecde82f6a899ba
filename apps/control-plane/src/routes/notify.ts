import type { FastifyBaseLogger } from "fastify";
import type { PushHub } from "../push/types.js";

/**
 * Tells the hub the store changed. The change is already durable, so a hub
 * failure must not turn a successful write into an error response: it is
 * logged, and nodes catch up on the next change or reconnect.
 */
export function notifyChanged(hub: PushHub, log: FastifyBaseLogger): void {
  try {
    hub.notifyChanged();
  } catch (err) {
    log.error({ err }, "push hub failed to take a change");
  }
}
