import { Writable } from "node:stream";
import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { buildApp } from "./app.js";
import { loadConfig } from "./config.js";
import { createSqliteStore } from "./store/sqlite.js";
import {
  type Harness,
  HELLO,
  recordingHub,
  startHarness,
  TEST_TOKEN,
  telemetryDeps,
} from "./test-harness.js";

let h: Harness;

describe("health endpoints", () => {
  beforeEach(async () => {
    h = await startHarness();
  });
  afterEach(async () => {
    await h.close();
  });

  it("answers /healthz with ok and no token", async () => {
    const res = await h.app.inject({ method: "GET", url: "/healthz" });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: "ok" });
  });

  it("answers /readyz with ok while the store is reachable", async () => {
    const res = await h.app.inject({ method: "GET", url: "/readyz" });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: "ok" });
  });

  it("answers /readyz with 503 EDGE_STORE_UNAVAILABLE once the store is closed, and /healthz still 200", async () => {
    await h.store.close();
    const ready = await h.app.inject({ method: "GET", url: "/readyz" });
    expect(ready.statusCode).toBe(503);
    expect(ready.json().error.code).toBe("EDGE_STORE_UNAVAILABLE");
    const health = await h.app.inject({ method: "GET", url: "/healthz" });
    expect(health.statusCode).toBe(200);
  });
});

describe("bearer authentication on /v1", () => {
  beforeEach(async () => {
    h = await startHarness();
  });
  afterEach(async () => {
    await h.close();
  });

  const routes = [
    { method: "GET", url: "/v1/scripts" },
    { method: "GET", url: "/v1/scripts/hello" },
    { method: "GET", url: "/v1/scripts/hello/versions" },
    { method: "GET", url: "/v1/scripts/hello/source" },
    { method: "PUT", url: "/v1/scripts/hello" },
    { method: "POST", url: "/v1/scripts/hello/rollback" },
    { method: "DELETE", url: "/v1/scripts/hello" },
    { method: "GET", url: "/v1/nodes" },
    { method: "GET", url: "/v1/metrics" },
    { method: "GET", url: "/v1/no-such-route" },
  ] as const;

  it.each(routes)("rejects $method $url without a token with 401 EDGE_UNAUTHORIZED", async (route) => {
    const res = await h.app.inject({ ...route });
    expect(res.statusCode).toBe(401);
    expect(res.json()).toEqual({ error: { code: "EDGE_UNAUTHORIZED", message: expect.any(String) } });
    expect(res.headers["www-authenticate"]).toMatch(/^Bearer/);
  });

  it.each([
    ["a wrong token", `Bearer not-the-token`],
    ["a token with a prefix of the right one", `Bearer ${TEST_TOKEN.slice(0, -1)}`],
    ["the right token with another scheme", `Basic ${TEST_TOKEN}`],
    ["the right token without a scheme", TEST_TOKEN],
    ["an empty bearer", "Bearer "],
  ])("rejects %s with 401", async (_, authorization) => {
    const res = await h.app.inject({ method: "GET", url: "/v1/scripts", headers: { authorization } });
    expect(res.statusCode).toBe(401);
    expect(res.json().error.code).toBe("EDGE_UNAUTHORIZED");
  });

  it("does not deploy anything when the token is wrong", async () => {
    const res = await h.app.inject({
      method: "PUT",
      url: "/v1/scripts/hello",
      headers: { authorization: "Bearer wrong", "content-type": "application/javascript" },
      payload: HELLO,
    });
    expect(res.statusCode).toBe(401);
    expect(await h.store.listScripts()).toEqual([]);
    expect(h.hub.changes).toBe(0);
  });

  it("accepts the right token, whatever the case of the scheme", async () => {
    for (const scheme of ["Bearer", "bearer", "BEARER"]) {
      const res = await h.app.inject({
        method: "GET",
        url: "/v1/scripts",
        headers: { authorization: `${scheme} ${TEST_TOKEN}` },
      });
      expect(res.statusCode).toBe(200);
    }
  });

  it("uses the development token when EDGE_DEV=1 and no token is configured", async () => {
    const dev = await startHarness({ env: { EDGE_DEV: "1", EDGE_ADMIN_TOKEN: "" } });
    try {
      const res = await dev.app.inject({
        method: "GET",
        url: "/v1/scripts",
        headers: { authorization: "Bearer dev-admin-token" },
      });
      expect(res.statusCode).toBe(200);
    } finally {
      await dev.close();
    }
  });
});

describe("error responses", () => {
  afterEach(async () => {
    await h.close();
  });

  it("answers an unknown /v1 route with 404 EDGE_NOT_FOUND once authenticated", async () => {
    h = await startHarness();
    const res = await h.request({ method: "GET", url: "/v1/no-such-route?x=1" });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({
      error: { code: "EDGE_NOT_FOUND", message: "No route for GET /v1/no-such-route" },
    });
  });

  it("answers an unknown route outside /v1 with 404 EDGE_NOT_FOUND", async () => {
    h = await startHarness();
    const res = await h.app.inject({ method: "POST", url: "/nothing-here" });
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe("EDGE_NOT_FOUND");
  });

  it("answers a malformed URL with 400 EDGE_BAD_REQUEST in the usual error shape", async () => {
    h = await startHarness();
    const res = await h.request({ method: "GET", url: "/v1/scripts/%E0%A4%A" });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe("EDGE_BAD_REQUEST");
  });

  it("answers a script name too long for the router with 400 EDGE_INVALID_NAME", async () => {
    h = await startHarness();
    const res = await h.request({ method: "GET", url: `/v1/scripts/${"a".repeat(200)}` });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe("EDGE_INVALID_NAME");
  });

  it("answers 503 EDGE_STORE_UNAVAILABLE without internals when the store fails", async () => {
    h = await startHarness();
    await h.store.close();
    const res = await h.request({ method: "GET", url: "/v1/scripts" });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toEqual({
      error: { code: "EDGE_STORE_UNAVAILABLE", message: "The store is unavailable" },
    });
  });

  it("answers 500 EDGE_INTERNAL without the cause's message when a dependency throws", async () => {
    const hub = recordingHub();
    hub.nodes = () => {
      throw new Error("secret internal detail");
    };
    h = await startHarness({ hub });
    const res = await h.request({ method: "GET", url: "/v1/nodes" });
    expect(res.statusCode).toBe(500);
    expect(res.json()).toEqual({ error: { code: "EDGE_INTERNAL", message: "Internal error" } });
    expect(res.body).not.toContain("secret");
  });

  it("still acknowledges a deploy when the hub fails to take the change, since the version is stored", async () => {
    const hub = recordingHub();
    hub.notifyChanged = () => {
      throw new Error("hub is down");
    };
    h = await startHarness({ hub });
    const res = await h.deploy("hello", HELLO);
    expect(res.statusCode).toBe(201);
    expect((await h.store.getActive("hello"))?.version).toBe(1);
  });
});

describe("logging", () => {
  it("logs a system error with its cause while the client sees only the code", async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const hub = recordingHub();
    hub.nodes = () => {
      throw new Error("secret internal detail");
    };
    const store = createSqliteStore(":memory:");
    const app = await buildApp(loadConfig({ EDGE_ADMIN_TOKEN: TEST_TOKEN }), {
      store,
      hub,
      ...telemetryDeps(hub),
      logger: pino({ level: "info" }, sink),
    });
    try {
      const res = await app.inject({
        method: "GET",
        url: "/v1/nodes",
        headers: { authorization: `Bearer ${TEST_TOKEN}` },
      });
      expect(res.body).not.toContain("secret");
      const failure = lines.map((line) => JSON.parse(line)).find((entry) => entry.msg === "request failed");
      expect(failure).toMatchObject({ level: 50, component: "http", reqId: expect.any(String) });
      expect(failure.err.code).toBe("EDGE_INTERNAL");
      expect(failure.err.stack).toContain("secret internal detail");
    } finally {
      await app.close();
      await store.close();
    }
  });
});
