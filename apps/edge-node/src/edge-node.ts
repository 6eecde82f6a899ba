import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { createIsolateRunner, type IsolateRunner } from "@edge/isolate-host";
import type { Logger } from "pino";
import { Agent } from "./agent/agent.js";
import { ConfigCache } from "./cache/config-cache.js";
import type { EdgeNodeConfig } from "./config.js";
import { ScheduledRuns } from "./cron/scheduled-runs.js";
import { createFront } from "./http/front.js";
import { CacheStore } from "./http-cache/cache-store.js";
import { KvNode } from "./kv/kv-node.js";
import { KvReplica } from "./kv/replica.js";
import { MetricsCollector } from "./metrics/collector.js";
import { NodeStatsSampler } from "./metrics/node-stats.js";
import { createEdgeRegistry } from "./metrics/prometheus.js";
import { MetricsShipper } from "./metrics/shipper.js";
import { ScriptRegistry } from "./script-registry.js";
import { EdgeTail } from "./tail/edge-tail.js";

export interface EdgeNode {
  /**
   * Restores the config cached on disk (so it serves at once, control plane
   * or not), binds the HTTP front, then connects to the control plane.
   */
  start(): Promise<{ httpPort: number }>;
  stop(): Promise<void>;
  readonly agent: Agent;
  readonly registry: ScriptRegistry;
  readonly cache: ConfigCache;
  /** Workers KV: the local replica and the provider scripts' bindings use. */
  readonly kv: KvNode;
  /** The Cache API's on-disk store (`caches.default`, `caches.open()`). */
  readonly httpCache: CacheStore;
}

/** Wires one edge node: isolate runner, script registry, HTTP front and agent. */
export function createEdgeNode(
  config: EdgeNodeConfig,
  deps: { logger: Logger; runner?: IsolateRunner },
): EdgeNode {
  const logger = deps.logger.child({ nodeId: config.nodeId, pop: config.pop });
  const metrics = new MetricsCollector();
  // Opened (and restored from disk) before anything serves: reads work with the control plane down.
  const kv = new KvNode(new KvReplica(join(config.cacheDir, "kv")), logger, {
    record: (caller, namespaceId, op, count) =>
      metrics.recordKv(caller.script, caller.version, namespaceId, op, count),
  });
  const httpCache = new CacheStore(join(config.cacheDir, "http-cache"), {
    ...config.httpCache,
    record: (script, event, count) => metrics.recordCache(script, event, count),
  });
  const runner =
    deps.runner ??
    createIsolateRunner({
      maxLimits: config.maxLimits,
      logger,
      threads: config.isolateThreads,
      kv,
      cache: httpCache,
      admission: config.admission,
      startupCpuMs: config.startupCpuMs,
      maxHostBytes: config.maxHostBytes,
      warmIsolates: config.warmIsolates.perScript,
      warmIsolatesMaxBytes: config.warmIsolates.maxBytes,
      fetch: {
        maxSubrequests: config.fetch.maxSubrequests,
        forbiddenTargets: [...config.fetch.forbiddenTargets, ...ownAddresses(config)],
        denyInternal: config.fetch.denyInternal,
        allowTargets: config.fetch.allowTargets,
      },
    });
  const cache = new ConfigCache(config.cacheDir, logger, config.cacheKey);
  // Persisted after each applied push, in the background: the ACK does not wait for the disk.
  // A crash in between is harmless: the hello after restart says what the node really holds.
  const registry: ScriptRegistry = new ScriptRegistry(runner, logger, {
    onChange: () => void cache.save(registry.snapshot()),
    maxPrepared: config.maxPreparedScripts,
    pushPrepareMax: config.pushPrepareMax,
  });
  const stats = new NodeStatsSampler();
  const tail = new EdgeTail({ pop: config.pop, nodeId: config.nodeId, ...config.tail });
  const inFlight = () => front.inFlight();
  const prometheus = createEdgeRegistry({
    pop: config.pop,
    collector: metrics,
    stats,
    inFlight,
    tail,
    cacheBytes: () => httpCache.bytes,
  });
  const front = createFront({ config, registry, runner, metrics, tail, prometheus, logger });
  let boundPort = config.httpPort;
  const agent = new Agent({
    config,
    registry,
    metrics: new MetricsShipper(metrics, stats, inFlight),
    tail,
    logger,
    httpAddress: () => config.publicHttpAddress ?? `${config.httpHost}:${boundPort}`,
    inFlight: front.inFlight,
    failingChecks: () => (cache.failing ? ["config-cache"] : []),
    kv,
    retrying: () => registry.retrying(),
    failedAfterAck: () => registry.failedAfterAck(),
    scheduled: new ScheduledRuns({
      registry,
      runner,
      logger,
      observe: (outcome) => {
        metrics.record(outcome);
        tail.observe(outcome);
      },
    }),
  });

  return {
    agent,
    registry,
    cache,
    kv,
    httpCache,
    async start() {
      const cached = await cache.load();
      if (cached !== null) registry.restore(cached);
      await new Promise<void>((resolve, reject) => {
        front.server.once("error", reject);
        front.server.listen(config.httpPort, config.httpHost, () => {
          front.server.off("error", reject);
          resolve();
        });
      });
      boundPort = (front.server.address() as AddressInfo).port;
      stats.start();
      agent.start();
      return { httpPort: boundPort };
    },
    async stop() {
      await agent.stop();
      await registry.close();
      await cache.flush();
      stats.stop();
      await new Promise<void>((resolve) => {
        front.server.close(() => resolve());
        front.server.closeIdleConnections();
      });
      if (!deps.runner) await runner.dispose();
      kv.close();
      httpCache.close();
    },
  };
}

/** This node's own HTTP front, which its scripts must not call back into. */
function ownAddresses(config: EdgeNodeConfig): string[] {
  const own = config.publicHttpAddress === null ? [] : [config.publicHttpAddress];
  if (config.httpPort !== 0) own.push(`${config.httpHost}:${config.httpPort}`);
  return own;
}
