import { existsSync, readFileSync } from "node:fs";
import { CONTROL_PLANE_ENV_VARS } from "@edge/control-plane";
import { EDGE_NODE_ENV_VARS } from "@edge/edge-node";
import { ROUTER_ENV_VARS } from "@edge/router";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";

/**
 * Docker cannot run on this machine, so the compose topology is proven with real
 * processes elsewhere (skeleton.test.ts, routing.test.ts) and its files are checked here: every
 * variable a service sets is one its app reads, the wiring between services
 * agrees, and the images run as non-root from multi-stage builds.
 */
const root = new URL("../../", import.meta.url);
const composeText = readFileSync(new URL("deploy/compose/docker-compose.yml", root), "utf8");
const dockerfile = readFileSync(new URL("deploy/compose/Dockerfile", root), "utf8");

interface Service {
  image?: string;
  build?: { context: string; dockerfile: string; target: string };
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  depends_on?: Record<string, { condition: string }>;
  restart?: string;
  stop_grace_period?: string;
  healthcheck?: { test: string[]; interval: string };
}
const compose = parse(composeText, { merge: true }) as { services: Record<string, Service> };
const services = compose.services;
const edgeNodes = Object.entries(services).filter(([, s]) => s.build?.target === "edge-node");
const controlPlane = services["control-plane"] as Service;
const controlPlanes = Object.entries(services).filter(([, s]) => s.build?.target === "control-plane");
const router = services.router as Service;

describe("deploy/compose", () => {
  it("runs redis, a control plane and at least three edge nodes in different cities", () => {
    expect(services.redis?.image).toMatch(/^redis:/);
    expect(controlPlane.build?.target).toBe("control-plane");
    expect(edgeNodes.length).toBeGreaterThanOrEqual(3);
    const pops = edgeNodes.map(([, s]) => s.environment?.EDGE_POP);
    expect(new Set(pops).size).toBe(edgeNodes.length);
    for (const [, s] of edgeNodes) {
      const lat = Number(s.environment?.EDGE_LAT);
      const lon = Number(s.environment?.EDGE_LON);
      expect(lat).toBeGreaterThanOrEqual(-90);
      expect(lat).toBeLessThanOrEqual(90);
      expect(lon).toBeGreaterThanOrEqual(-180);
      expect(lon).toBeLessThanOrEqual(180);
    }
  });

  it("restarts every service that exits unexpectedly, checks its health, and lets it drain before SIGKILL", () => {
    const apps = [...controlPlanes, ...edgeNodes, ["router", router] as const];
    for (const [name, s] of [...apps, ["redis", services.redis as Service] as const]) {
      expect(s.restart, name).toBe("unless-stopped");
      expect(s.healthcheck?.test[0], name).toBe("CMD");
    }
    for (const [name, s] of apps) {
      const graceMs = Number(s.environment?.EDGE_SHUTDOWN_GRACE_MS);
      const stopSeconds = Number(s.stop_grace_period?.replace(/s$/, ""));
      expect(graceMs, name).toBeGreaterThan(0);
      expect(stopSeconds * 1000, name).toBeGreaterThan(graceMs);
    }
  });

  it("sets only variables the apps actually read", () => {
    for (const [, cp] of controlPlanes) {
      for (const key of Object.keys(cp.environment ?? {})) expect(CONTROL_PLANE_ENV_VARS).toContain(key);
    }
    for (const [, s] of edgeNodes) {
      for (const key of Object.keys(s.environment ?? {})) expect(EDGE_NODE_ENV_VARS).toContain(key);
    }
    for (const key of Object.keys(router.environment ?? {})) expect(ROUTER_ENV_VARS).toContain(key);
  });

  it("wires the control plane to Redis and every edge node to the control plane's gRPC port", () => {
    expect(controlPlane.environment?.EDGE_STORE).toBe("redis://redis:6379");
    expect(controlPlane.depends_on?.redis?.condition).toBe("service_healthy");
    const grpcPort = controlPlane.environment?.EDGE_GRPC_ADDRESS?.split(":").pop();
    for (const [name, s] of edgeNodes) {
      // Every replica, so a node fails over when its control plane dies.
      expect(s.environment?.EDGE_CONTROL_PLANE?.split(",")).toEqual(
        controlPlanes.map(([cpName]) => `${cpName}:${grpcPort}`),
      );
      expect(s.environment?.EDGE_CACHE_DIR).toBeDefined();
      expect(s.volumes).toContain(`${name}-cache:${s.environment?.EDGE_CACHE_DIR}`);
      const port = s.environment?.EDGE_HTTP_PORT;
      expect(s.ports).toContain(`${port}:${port}`);
      expect(s.environment?.EDGE_PUBLIC_HTTP_ADDRESS).toBe(`${name}:${port}`);
    }
    const apiPort = controlPlane.environment?.EDGE_API_PORT;
    expect(controlPlane.ports).toContain(`${apiPort}:${apiPort}`);
  });

  it("runs the router against the control plane's API, with HTTP and DNS (UDP and TCP) published", () => {
    expect(router.build?.target).toBe("router");
    const env = router.environment ?? {};
    expect(env.EDGE_API_URL).toBe(`http://control-plane:${controlPlane.environment?.EDGE_API_PORT}`);
    expect(env.EDGE_ADMIN_TOKEN).toBe(controlPlane.environment?.EDGE_ADMIN_TOKEN);
    expect(router.depends_on?.["control-plane"]?.condition).toBe("service_healthy");
    expect([env.EDGE_ROUTER_HOST, env.EDGE_DNS_HOST]).toEqual(["0.0.0.0", "0.0.0.0"]);
    const http = env.EDGE_ROUTER_PORT;
    const dns = env.EDGE_DNS_PORT;
    expect(router.ports).toEqual(
      expect.arrayContaining([`${http}:${http}`, `${dns}:${dns}/udp`, `${dns}:${dns}/tcp`]),
    );
    // The zone the router answers for is the one the nodes serve, and the default PoP is one of them.
    for (const [, s] of edgeNodes)
      expect(s.environment?.EDGE_ZONE ?? "localhost").toBe(env.EDGE_ZONE ?? "localhost");
    const pops = edgeNodes.map(([, s]) => s.environment?.EDGE_POP);
    if (env.EDGE_DEFAULT_POP !== undefined) expect(pops).toContain(env.EDGE_DEFAULT_POP);
  });

  it("ships with per-node enrolment on, each node presenting its own token", () => {
    for (const [, cp] of controlPlanes) expect(cp.environment?.EDGE_NODE_ENROLMENT).toBe("1");
    const tokens = edgeNodes.map(([, s]) => s.environment?.EDGE_NODE_TOKEN);
    for (const token of tokens) expect(token).toMatch(/^\$\{EDGE_NODE_TOKEN_[A-Z]+:-\}$/);
    expect(new Set(tokens).size).toBe(edgeNodes.length);
  });

  it("runs two control-plane replicas on the same Redis, each with its own id", () => {
    expect(controlPlanes.length).toBeGreaterThanOrEqual(2);
    const ids = controlPlanes.map(([, cp]) => cp.environment?.EDGE_CONTROL_PLANE_ID);
    expect(new Set(ids).size).toBe(controlPlanes.length);
    for (const [, cp] of controlPlanes) {
      expect(cp.environment?.EDGE_STORE).toBe("redis://redis:6379");
      expect(cp.environment?.EDGE_ADMIN_TOKEN).toBe(controlPlane.environment?.EDGE_ADMIN_TOKEN);
    }
  });

  it("keeps Redis durable enough for an acknowledged deploy (AOF, fsync always)", () => {
    const command = services.redis?.command ?? [];
    expect(command.join(" ")).toContain("--appendonly yes");
    expect(command.join(" ")).toContain("--appendfsync always");
  });

  it("builds every image in stages, runs them as a non-root user and starts the built entry points", () => {
    const stages = [...dockerfile.matchAll(/^FROM\s+\S+\s+AS\s+(\S+)/gim)].map((m) => m[1]);
    expect(stages).toEqual(
      expect.arrayContaining(["build", "runtime", "control-plane", "edge-node", "router"]),
    );
    expect(dockerfile).toContain("--filter=@edge/router");
    expect(dockerfile).toMatch(/^USER node$/m);
    const entries = [...dockerfile.matchAll(/^CMD \[(.+)\]$/gm)].map(
      (m) => JSON.parse(`[${m[1]}]`) as string[],
    );
    const mains = entries.map((cmd) => cmd[cmd.length - 1] as string);
    expect(mains).toEqual([
      "apps/control-plane/dist/main.js",
      "apps/edge-node/dist/main.js",
      "apps/router/dist/main.js",
    ]);
    for (const main of mains) expect(existsSync(new URL(main, root))).toBe(true);
    expect(entries[1]).toContain("--no-node-snapshot");
    for (const [, s] of [
      ["control-plane", controlPlane] as const,
      ["router", router] as const,
      ...edgeNodes,
    ]) {
      expect(s.build?.dockerfile).toBe("deploy/compose/Dockerfile");
      expect(new URL(`deploy/compose/${s.build?.context}/`, root).href).toBe(root.href);
    }
  });
});
