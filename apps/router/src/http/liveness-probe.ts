import { type ClientRequest, request } from "node:http";
import type { HostPort } from "../node-address.js";

export interface LivenessProbe {
  /**
   * Whether the node at `target` still answers at all: any response head to
   * `GET /healthz` within `timeoutMs`. Never rejects.
   */
  alive(target: HostPort): Promise<boolean>;
  /** Ends the probes still waiting (they answer `false`). */
  close(): void;
}

/**
 * Tells a frozen node (its event loop answers nothing) from one that is only
 * slow to answer one request (a script waiting on its origin): the first is
 * held down, the second is not.
 */
export function createLivenessProbe(timeoutMs: number): LivenessProbe {
  const pending = new Set<ClientRequest>();
  return {
    alive(target) {
      return new Promise((resolve) => {
        // A fresh connection: the kept-alive ones may sit behind the request that stalled.
        const req = request({
          host: target.host,
          port: target.port,
          path: "/healthz",
          // Never inside a zone (RFC 2606), so an edge node answers for itself, whatever its address.
          headers: { host: "router-probe.invalid" },
          agent: false,
        });
        pending.add(req);
        const timer = setTimeout(() => req.destroy(), timeoutMs);
        const done = (alive: boolean) => {
          clearTimeout(timer);
          pending.delete(req);
          req.destroy();
          resolve(alive);
        };
        req.on("response", () => done(true));
        req.on("error", () => done(false));
        req.on("close", () => done(false));
        req.end();
      });
    },
    close() {
      for (const req of pending) req.destroy();
    },
  };
}
