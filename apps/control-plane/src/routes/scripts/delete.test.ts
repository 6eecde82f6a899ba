import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type Harness, HELLO, startHarness } from "../../test-harness.js";

let h: Harness;

beforeEach(async () => {
  h = await startHarness();
});
afterEach(async () => {
  await h.close();
});

describe("DELETE /v1/scripts/:name", () => {
  it("answers 204 with no body, tells the hub, and the script is gone everywhere", async () => {
    await h.deploy("hello", HELLO);
    await h.deploy("keep", HELLO);
    const changesBefore = h.hub.changes;

    const res = await h.request({ method: "DELETE", url: "/v1/scripts/hello" });
    expect(res.statusCode).toBe(204);
    expect(res.body).toBe("");
    expect(h.hub.changes).toBe(changesBefore + 1);

    for (const url of ["/v1/scripts/hello", "/v1/scripts/hello/versions", "/v1/scripts/hello/source"]) {
      const after = await h.request({ method: "GET", url });
      expect(after.statusCode).toBe(404);
      expect(after.json().error.code).toBe("EDGE_SCRIPT_NOT_FOUND");
    }
    const list = (await h.request({ method: "GET", url: "/v1/scripts" })).json();
    expect(list.scripts.map((s: { name: string }) => s.name)).toEqual(["keep"]);
  });

  it("answers 404 EDGE_SCRIPT_NOT_FOUND for an unknown or already deleted script, changing nothing", async () => {
    await h.deploy("hello", HELLO);
    await h.request({ method: "DELETE", url: "/v1/scripts/hello" });
    const revision = await h.store.revision();
    const changes = h.hub.changes;

    for (const name of ["hello", "ghost"]) {
      const res = await h.request({ method: "DELETE", url: `/v1/scripts/${name}` });
      expect(res.statusCode).toBe(404);
      expect(res.json().error.code).toBe("EDGE_SCRIPT_NOT_FOUND");
    }
    expect(await h.store.revision()).toBe(revision);
    expect(h.hub.changes).toBe(changes);
  });

  it("never reuses a deleted script's version numbers when it is deployed again", async () => {
    await h.deploy("hello", HELLO);
    await h.deploy("hello", HELLO);
    await h.request({ method: "DELETE", url: "/v1/scripts/hello" });
    const res = await h.deploy("hello", HELLO);
    expect(res.json().version).toBe(3);
    const versions = (await h.request({ method: "GET", url: "/v1/scripts/hello/versions" })).json().versions;
    expect(versions.map((v: { version: number }) => v.version)).toEqual([3]);
  });
});
