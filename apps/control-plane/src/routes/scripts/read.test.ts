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

function node(id: string, pop: string, scripts: Record<string, number>): NodeView {
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
    canaries: {},
    inFlight: 0,
    lastNack: null,
    nackCount: 0,
    parked: {},
    failingChecks: [],
    controlPlaneId: "cp-test",
  };
}

describe("GET /v1/scripts", () => {
  it("lists nothing before any deploy", async () => {
    const res = await h.request({ method: "GET", url: "/v1/scripts" });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ scripts: [], cursor: null });
  });

  it("pages by name with limit and cursor, the last page's cursor null; a bad cursor or limit is 400", async () => {
    for (const name of ["delta", "alpha", "charlie", "bravo", "echo"]) await h.deploy(name, HELLO);
    const names: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = cursor === null ? "?limit=2" : `?limit=2&cursor=${cursor}`;
      const body = (await h.request({ method: "GET", url: `/v1/scripts${query}` })).json();
      names.push(...body.scripts.map((s: { name: string }) => s.name));
      cursor = body.cursor;
      pages++;
    } while (cursor !== null && pages < 10);
    expect(names).toEqual(["alpha", "bravo", "charlie", "delta", "echo"]);
    expect(pages).toBe(3);
    for (const query of ["?limit=0", "?limit=1001", "?cursor=NOT%20A%20NAME"]) {
      const res = await h.request({ method: "GET", url: `/v1/scripts${query}` });
      expect(res.statusCode).toBe(400);
    }
  });

  it("lists every script with its active and latest version and ISO times", async () => {
    await h.deploy("beta", HELLO);
    await h.deploy("alpha", HELLO);
    await h.deploy("alpha", V2);
    const res = await h.request({ method: "GET", url: "/v1/scripts" });
    const { scripts } = res.json();
    expect(scripts).toHaveLength(2);
    const alpha = scripts.find((s: { name: string }) => s.name === "alpha");
    expect(alpha).toEqual({
      name: "alpha",
      activeVersion: 2,
      latestVersion: 2,
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      updatedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
  });
});

describe("GET /v1/scripts/:name", () => {
  it("shows the active version's metadata without its source", async () => {
    await h.deploy("hello", HELLO);
    await h.deploy("hello", V2);
    const res = await h.request({ method: "GET", url: "/v1/scripts/hello" });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    const stored = await h.store.getActive("hello");
    expect(body).toEqual({
      name: "hello",
      version: 2,
      language: "js",
      sha256: stored?.sha256,
      vars: {},
      secrets: [],
      limits: { cpuMs: 50, memoryMb: 128, wallMs: 30_000 },
      bindings: {},
      triggers: { crons: [] },
      createdAt: new Date(stored!.createdAt).toISOString(),
      updatedAt: expect.any(String),
      activeVersion: 2,
      latestVersion: 2,
      modules: null,
      staged: null,
      rollout: [],
    });
    expect(body).not.toHaveProperty("source");
  });

  it("shows which version each node that has the script runs, leaving out nodes without it", async () => {
    h.hub.nodeList = [
      node("node-a", "fra", { hello: 2, other: 1 }),
      node("node-b", "sin", { hello: 1 }),
      node("node-c", "iad", { other: 1 }),
    ];
    await h.deploy("hello", HELLO);
    await h.deploy("hello", V2);
    const res = await h.request({ method: "GET", url: "/v1/scripts/hello" });
    expect(res.json().rollout).toEqual([
      { nodeId: "node-a", pop: "fra", version: 2 },
      { nodeId: "node-b", pop: "sin", version: 1 },
    ]);
  });

  it("answers 404 EDGE_SCRIPT_NOT_FOUND for an unknown script", async () => {
    const res = await h.request({ method: "GET", url: "/v1/scripts/ghost" });
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe("EDGE_SCRIPT_NOT_FOUND");
  });

  it("answers 400 EDGE_INVALID_NAME for a name that could never exist", async () => {
    const res = await h.request({ method: "GET", url: "/v1/scripts/Not_Valid" });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe("EDGE_INVALID_NAME");
  });
});

describe("GET /v1/scripts/:name/versions", () => {
  it("lists versions newest first, marking the active one", async () => {
    await h.deploy("hello", HELLO);
    await h.deploy("hello", V2);
    const res = await h.request({ method: "GET", url: "/v1/scripts/hello/versions" });
    expect(res.statusCode).toBe(200);
    const { versions } = res.json();
    expect(versions.map((v: { version: number; active: boolean }) => [v.version, v.active])).toEqual([
      [2, true],
      [1, false],
    ]);
    expect(versions[0]).toEqual({
      name: "hello",
      version: 2,
      sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
      vars: {},
      secrets: [],
      limits: { cpuMs: 50, memoryMb: 128, wallMs: 30_000 },
      bindings: {},
      createdAt: expect.any(String),
      active: true,
    });
    expect(versions[0]).not.toHaveProperty("source");
  });

  it("answers 404 EDGE_SCRIPT_NOT_FOUND for an unknown script", async () => {
    const res = await h.request({ method: "GET", url: "/v1/scripts/ghost/versions" });
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe("EDGE_SCRIPT_NOT_FOUND");
  });
});

describe("GET /v1/scripts/:name/source", () => {
  beforeEach(async () => {
    await h.deploy("hello", HELLO);
    await h.deploy("hello", V2);
  });

  it("returns the active version's original source as JavaScript", async () => {
    const res = await h.request({ method: "GET", url: "/v1/scripts/hello/source" });
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toBe("application/javascript; charset=utf-8");
    expect(res.headers["x-edge-script-version"]).toBe("2");
    expect(res.body).toBe(V2);
  });

  it("returns an older version's source with ?version=", async () => {
    const res = await h.request({ method: "GET", url: "/v1/scripts/hello/source?version=1" });
    expect(res.statusCode).toBe(200);
    expect(res.body).toBe(HELLO);
  });

  it("answers 404 EDGE_VERSION_NOT_FOUND for a version that does not exist", async () => {
    const res = await h.request({ method: "GET", url: "/v1/scripts/hello/source?version=3" });
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe("EDGE_VERSION_NOT_FOUND");
  });

  it("answers 404 EDGE_SCRIPT_NOT_FOUND for an unknown script, with or without a version", async () => {
    for (const url of ["/v1/scripts/ghost/source", "/v1/scripts/ghost/source?version=1"]) {
      const res = await h.request({ method: "GET", url });
      expect(res.statusCode).toBe(404);
      expect(res.json().error.code).toBe("EDGE_SCRIPT_NOT_FOUND");
    }
  });

  it.each(["0", "-1", "two", "1.5", ""])(
    "answers 400 EDGE_INVALID_QUERY for ?version=%s",
    async (version) => {
      const res = await h.request({ method: "GET", url: `/v1/scripts/hello/source?version=${version}` });
      expect(res.statusCode).toBe(400);
      expect(res.json().error.code).toBe("EDGE_INVALID_QUERY");
    },
  );
});
