import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { NodeView } from "../../push/types.js";
import { type Harness, HELLO, startHarness } from "../../test-harness.js";

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(async () => {
  await h.close();
});

const V2 = "export default { fetch() { return new Response('v2'); } };\n";

function post(url: string, payload?: unknown) {
  return h.request({
    method: "POST",
    url,
    ...(payload === undefined
      ? {}
      : { headers: { "content-type": "application/json" }, payload: JSON.stringify(payload) }),
  });
}

/** v1 active, v2 stored with `?activate=false`. */
async function staged(name = "hello") {
  await h.deploy(name, HELLO);
  const res = await h.request({
    method: "PUT",
    url: `/v1/scripts/${name}?activate=false`,
    headers: { "content-type": "application/javascript" },
    payload: V2,
  });
  expect(res.statusCode).toBe(201);
  expect(res.json().version).toBe(2);
}

describe("PUT /v1/scripts/:name?activate=false", () => {
  it("stores a new version without making it active, and still tells the hub", async () => {
    await staged();
    expect(await h.store.getSummary("hello")).toMatchObject({ activeVersion: 1, latestVersion: 2 });
    expect(h.hub.changes).toBe(2);
  });

  it("activates a script's first version anyway: there is nothing else to serve", async () => {
    const res = await h.request({
      method: "PUT",
      url: "/v1/scripts/fresh?activate=false",
      headers: { "content-type": "application/javascript" },
      payload: HELLO,
    });
    expect(res.statusCode).toBe(201);
    expect((await h.store.getSummary("fresh"))?.activeVersion).toBe(1);
  });

  it("refuses an activate value other than true or false with 400 EDGE_INVALID_QUERY", async () => {
    const res = await h.request({
      method: "PUT",
      url: "/v1/scripts/hello?activate=maybe",
      headers: { "content-type": "application/javascript" },
      payload: HELLO,
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe("EDGE_INVALID_QUERY");
  });
});

describe("POST /v1/scripts/:name/deploy", () => {
  it("starts a rollout to a share of traffic, shown as `staged`, and tells the hub", async () => {
    await staged();
    const changes = h.hub.changes;
    const res = await post("/v1/scripts/hello/deploy", { version: 2, percent: 10 });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      name: "hello",
      version: 1,
      activeVersion: 1,
      staged: { version: 2, percent: 10, pops: null, startedAt: expect.any(String) },
      rollout: [],
    });
    expect(h.hub.changes).toBe(changes + 1);
    const view = (await h.request({ method: "GET", url: "/v1/scripts/hello" })).json();
    expect(view.staged).toMatchObject({ version: 2, percent: 10 });
  });

  it("starts a rollout to named PoPs, and a second deploy replaces the first", async () => {
    await staged();
    await post("/v1/scripts/hello/deploy", { version: 2, percent: 10 });
    const res = await post("/v1/scripts/hello/deploy", { version: 2, pops: ["fra", "sin"] });
    expect(res.statusCode).toBe(200);
    expect(res.json().staged).toMatchObject({ version: 2, percent: null, pops: ["fra", "sin"] });
  });

  it("shows in `rollout` which node runs which version, with the canary share where it splits", async () => {
    await staged();
    await post("/v1/scripts/hello/deploy", { version: 2, percent: 25 });
    h.hub.nodeList = [
      node("fra-1", "fra", { hello: 1 }, { hello: { version: 2, percent: 25 } }),
      node("sin-1", "sin", { hello: 1 }),
    ];
    const view = (await h.request({ method: "GET", url: "/v1/scripts/hello" })).json();
    expect(view.rollout).toEqual([
      { nodeId: "fra-1", pop: "fra", version: 1, canary: { version: 2, percent: 25 } },
      { nodeId: "sin-1", pop: "sin", version: 1 },
    ]);
  });

  it.each([
    ["no version", { percent: 10 }],
    ["both percent and pops", { version: 2, percent: 10, pops: ["fra"] }],
    ["neither percent nor pops", { version: 2 }],
    ["percent 0", { version: 2, percent: 0 }],
    ["percent 101", { version: 2, percent: 101 }],
    ["a fractional percent", { version: 2, percent: 2.5 }],
    ["no PoPs", { version: 2, pops: [] }],
    ["a bad PoP code", { version: 2, pops: ["FRA!"] }],
    ["a repeated PoP", { version: 2, pops: ["fra", "fra"] }],
  ])("refuses %s with 400 EDGE_INVALID_BODY", async (_, payload) => {
    await staged();
    const res = await post("/v1/scripts/hello/deploy", payload);
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe("EDGE_INVALID_BODY");
    expect((await h.store.getSummary("hello"))?.rollout).toBeNull();
  });

  it("answers 409 EDGE_ROLLOUT_CONFLICT for the active version, 404 for an unknown version or script", async () => {
    await staged();
    const active = await post("/v1/scripts/hello/deploy", { version: 1, percent: 10 });
    expect(active.statusCode).toBe(409);
    expect(active.json().error.code).toBe("EDGE_ROLLOUT_CONFLICT");
    const missing = await post("/v1/scripts/hello/deploy", { version: 9, percent: 10 });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error.code).toBe("EDGE_VERSION_NOT_FOUND");
    const ghost = await post("/v1/scripts/ghost/deploy", { version: 2, percent: 10 });
    expect(ghost.statusCode).toBe(404);
    expect(ghost.json().error.code).toBe("EDGE_SCRIPT_NOT_FOUND");
  });
});

describe("promoting and rolling back a rollout", () => {
  it("promotes: the rolled-out version becomes active and nothing is staged", async () => {
    await staged();
    await post("/v1/scripts/hello/deploy", { version: 2, pops: ["fra"] });
    const res = await post("/v1/scripts/hello/promote");
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ version: 2, activeVersion: 2, staged: null });
    expect((await h.store.getActive("hello"))?.version).toBe(2);
  });

  it("rolls back without a version: the rollout ends and the active version stays", async () => {
    await staged();
    await post("/v1/scripts/hello/deploy", { version: 2, percent: 50 });
    const changes = h.hub.changes;
    const res = await post("/v1/scripts/hello/rollback");
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ version: 1, activeVersion: 1 });
    expect((await h.store.getSummary("hello"))?.rollout).toBeNull();
    expect(h.hub.changes).toBe(changes + 1);
  });

  it("ends the rollout on a rollback to a version too", async () => {
    await staged();
    await post("/v1/scripts/hello/deploy", { version: 2, percent: 50 });
    const res = await post("/v1/scripts/hello/rollback", { version: 1 });
    expect(res.statusCode).toBe(200);
    expect((await h.store.getSummary("hello"))?.rollout).toBeNull();
  });

  it("answers 409 EDGE_NO_ROLLOUT to a promote without a rollout, 404 for an unknown script", async () => {
    await staged();
    const res = await post("/v1/scripts/hello/promote");
    expect(res.statusCode).toBe(409);
    expect(res.json().error.code).toBe("EDGE_NO_ROLLOUT");
    expect((await post("/v1/scripts/ghost/promote")).statusCode).toBe(404);
  });
});

function node(
  id: string,
  pop: string,
  scripts: Record<string, number>,
  canaries: NodeView["canaries"] = {},
): NodeView {
  return {
    id,
    pop,
    lat: 0,
    lon: 0,
    httpAddress: "127.0.0.1:1",
    status: "healthy",
    lastSeen: new Date(0).toISOString(),
    configVersion: 1,
    scripts,
    canaries,
    inFlight: 0,
    lastNack: null,
    nackCount: 0,
    parked: {},
    failingChecks: [],
    controlPlaneId: "cp-test",
  };
}
