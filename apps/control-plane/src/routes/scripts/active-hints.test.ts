import { randomBytes } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { createSqliteStore } from "../../store/sqlite.js";
import type { Store } from "../../store/types.js";
import { type Harness, HELLO, startHarness } from "../../test-harness.js";
import { ActiveHints } from "./active-hints.js";

const V2 = "export default { fetch() { return new Response('v2'); } };\n";
const V3 = "export default { fetch() { return new Response('v3'); } };\n";
const env = { EDGE_SECRETS_KEY: randomBytes(32).toString("hex") };

const opened: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const item of opened.splice(0).reverse()) await item.close();
});

/** Two API replicas on one store: each deploy route keeps its own hints. */
async function twoReplicas(): Promise<{ a: Harness; b: Harness; store: Store }> {
  const store = createSqliteStore(":memory:");
  opened.push(store);
  const a = await startHarness({ env, store });
  const b = await startHarness({ env, store });
  opened.push(a, b);
  return { a, b, store };
}

describe("a deploy on a replica whose idea of the active version is stale", () => {
  it("inherits the settings of the version another replica rolled back to", async () => {
    const { a, b, store } = await twoReplicas();
    expect((await a.putJson("/v1/scripts/app", { source: HELLO, vars: { COLOR: "red" } })).statusCode).toBe(
      201,
    );
    expect((await a.putJson("/v1/scripts/app", { source: V2, vars: { COLOR: "blue" } })).statusCode).toBe(
      201,
    );
    const rolledBack = await b.request({
      method: "POST",
      url: "/v1/scripts/app/rollback",
      headers: { "content-type": "application/json" },
      payload: JSON.stringify({ version: 1 }),
    });
    expect(rolledBack.statusCode).toBe(200);

    const res = await a.deploy("app", V3);
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ version: 3 });
    expect(await store.getActive("app")).toMatchObject({ version: 3, source: V3, vars: { COLOR: "red" } });
  });

  it("is checked against the active version's names, not the stale ones", async () => {
    const { a, b, store } = await twoReplicas();
    expect((await a.putJson("/v1/scripts/app", { source: HELLO, secrets: { TOKEN: "t" } })).statusCode).toBe(
      201,
    );
    // Another replica removes the secret; this one still remembers a version holding it.
    const unset = await b.putJson("/v1/scripts/app/secrets", { unset: ["TOKEN"] });
    expect(unset.statusCode).toBe(201);

    const res = await a.putJson("/v1/scripts/app", { source: V2, vars: { TOKEN: "plain" } });
    expect(res.statusCode).toBe(201);
    expect(await store.getActive("app")).toMatchObject({ version: 3, vars: { TOKEN: "plain" }, secrets: {} });
  });

  it("still refuses a var that clashes with a secret of the active version", async () => {
    const { a } = await twoReplicas();
    expect((await a.putJson("/v1/scripts/app", { source: HELLO, secrets: { TOKEN: "t" } })).statusCode).toBe(
      201,
    );
    const res = await a.putJson("/v1/scripts/app", { source: V2, vars: { TOKEN: "plain" } });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe("EDGE_ENV_CONFLICT");
  });
});

describe("ActiveHints", () => {
  it("keeps the settings only, and forgets the least recently written script beyond its size", () => {
    const hints = new ActiveHints(2);
    const settings = (version: number) => ({ version, vars: {}, secrets: {}, bindings: {}, crons: [] });
    hints.remember("a", { ...settings(1), source: "big" } as never);
    hints.remember("b", settings(1));
    hints.remember("a", settings(2));
    hints.remember("c", settings(1));
    expect(hints.get("a")).toEqual(settings(2));
    expect(hints.get("b")).toBeUndefined();
    expect(hints.get("c")).toEqual(settings(1));
    hints.remember("c", null);
    expect(hints.get("c")).toBeUndefined();
  });
});
