import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type Harness, HELLO, startHarness } from "../../test-harness.js";

let h: Harness;

const V2 = "export default { fetch() { return new Response('v2'); } };\n";

beforeEach(async () => {
  h = await startHarness();
  await h.deploy("hello", HELLO);
  await h.deploy("hello", V2);
});
afterEach(async () => {
  await h.close();
});

function rollback(name: string, payload: unknown, type = "application/json") {
  return h.request({
    method: "POST",
    url: `/v1/scripts/${name}/rollback`,
    headers: { "content-type": type },
    payload: typeof payload === "string" ? payload : JSON.stringify(payload),
  });
}

async function storedState() {
  return { scripts: await h.store.listScripts(), revision: await h.store.revision(), changes: h.hub.changes };
}

describe("POST /v1/scripts/:name/rollback", () => {
  it("makes the requested version active, answers with its metadata and tells the hub", async () => {
    const changesBefore = h.hub.changes;
    const res = await rollback("hello", { version: 1 });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ name: "hello", version: 1, activeVersion: 1, latestVersion: 2 });
    expect(res.json()).not.toHaveProperty("source");
    expect((await h.store.getActive("hello"))?.source).toBe(HELLO);
    expect(h.hub.changes).toBe(changesBefore + 1);
  });

  it("is visible in the versions listing and the script view afterwards", async () => {
    await rollback("hello", { version: 1 });
    const versions = (await h.request({ method: "GET", url: "/v1/scripts/hello/versions" })).json().versions;
    expect(versions.map((v: { version: number; active: boolean }) => [v.version, v.active])).toEqual([
      [2, false],
      [1, true],
    ]);
    const script = (await h.request({ method: "GET", url: "/v1/scripts/hello" })).json();
    expect(script).toMatchObject({ version: 1, activeVersion: 1, latestVersion: 2 });
    const source = await h.request({ method: "GET", url: "/v1/scripts/hello/source" });
    expect(source.body).toBe(HELLO);
  });

  it("gives the next deploy a new number rather than reusing one", async () => {
    await rollback("hello", { version: 1 });
    const res = await h.deploy("hello", V2);
    expect(res.json().version).toBe(3);
  });

  it("answers 404 EDGE_VERSION_NOT_FOUND for a version that does not exist, changing nothing", async () => {
    const before = await storedState();
    const res = await rollback("hello", { version: 9 });
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe("EDGE_VERSION_NOT_FOUND");
    expect(await storedState()).toEqual(before);
  });

  it("answers 404 EDGE_SCRIPT_NOT_FOUND for an unknown script", async () => {
    const res = await rollback("ghost", { version: 1 });
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe("EDGE_SCRIPT_NOT_FOUND");
  });

  it.each([
    ["a missing version", {}],
    ["a string version", { version: "1" }],
    ["version 0", { version: 0 }],
    ["an unknown key", { version: 1, force: true }],
    ["an array", [1]],
  ])("answers 400 EDGE_INVALID_BODY for %s, changing nothing", async (_, payload) => {
    const before = await storedState();
    const res = await rollback("hello", payload);
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe("EDGE_INVALID_BODY");
    expect(await storedState()).toEqual(before);
  });

  it("answers 400 EDGE_INVALID_BODY when there is no body", async () => {
    const res = await h.request({ method: "POST", url: "/v1/scripts/hello/rollback" });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe("EDGE_INVALID_BODY");
  });

  it("answers 415 for a JavaScript body, which only deploys accept", async () => {
    const res = await rollback("hello", "1", "application/javascript");
    expect(res.statusCode).toBe(415);
    expect(res.json().error.code).toBe("EDGE_UNSUPPORTED_MEDIA_TYPE");
  });
});
