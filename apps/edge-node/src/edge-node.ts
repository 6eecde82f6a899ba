import type { AddressInfo } from "node:net";
import { createIsolateRunner, type IsolateRunner } from "@edge/isolate-host";
import type { Logger } from "pino";
import { Agent } from "./agent/agent.js";
import type { EdgeNodeConfig } from "./config.js";
import { createFront } from "./http/front.js";
import { MetricsCollector } from "./metrics/collector.js";
import { ScriptRegistry } from "./script-registry.js";

export interface EdgeNode {
  /** Binds the HTTP front, then connects to the control plane. */
  start(): Promise<{ httpPort: number }>;
  stop(): Promise<void>;
  readonly agent: Agent;
  readonly registry: ScriptRegistry;
}

/** Wires one edge node: isolate runner, script registry, HTTP front and agent. */
export function createEdgeNode(
  config: EdgeNodeConfig,
  deps: { logger: Logger; runner?: IsolateRunner },
): EdgeNode {
  const logger = deps.logger.child({ nodeId: config.nodeId, pop: config.pop });
  const runner = deps.runner ?? createIsolateRunner({ maxLimits: config.maxLimits, logger });
  const registry = new ScriptRegistry(runner, logger);
  const metrics = new MetricsCollector();
  const front = createFront({ config, registry, runner, metrics, logger });
  let boundPort = config.httpPort;
  const agent = new Agent({
    config,
    registry,
    metrics,
    logger,
    httpAddress: () => config.publicHttpAddress ?? `${config.httpHost}:${boundPort}`,
    inFlight: front.inFlight,
  });

  return {
    agent,
    registry,
    async start() {
      await new Promise<void>((resolve, reject) => {
        front.server.once("error", reject);
        front.server.listen(config.httpPort, config.httpHost, () => {
          front.server.off("error", reject);
          resolve();
        });
      });
      boundPort = (front.server.address() as AddressInfo).port;
      agent.start();
      return { httpPort: boundPort };
    },
    async stop() {
      await agent.stop();
      await new Promise<void>((resolve) => {
        front.server.close(() => resolve());
        front.server.closeIdleConnections();
      });
      if (!deps.runner) runner.dispose();
    },
  };
}
