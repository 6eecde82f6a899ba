import { randomBytes } from "node:crypto";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { type Harness, HELLO, startHarness } from "../../test-harness.js";

const SECRETS_KEY = randomBytes(32).toString("hex");
const PLAINTEXT = "pl41ntext-s3cret-value";
const V2 = 'export default { fetch() { return new Response("v2"); } };\n';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function harness(env: Record<string, string> = { EDGE_SECRETS_KEY: SECRETS_KEY }): Promise<Harness> {
  h = await startHarness({ env });
  return h;
}

/** Every GET that shows a script or its versions, as raw text. */
async function everyGet(h: Harness, name: string): Promise<string> {
  const urls = [
    `/v1/scripts/${name}`,
    `/v1/scripts/${name}/versions`,
    "/v1/scripts",
    `/v1/scripts/${name}/source`,
  ];
  const bodies = await Promise.all(urls.map((url) => h.request({ method: "GET", url })));
  return bodies.map((res) => res.body).join("\n");
}

describe("PUT /v1/scripts/:name/vars", () => {
  it("replaces the vars in a new active version with the same code and limits", async () => {
    const h = await harness();
    await h.putJson("/v1/scripts/app", { source: HELLO, vars: { A: "1", B: "2" }, limits: { cpuMs: 20 } });
    const res = await h.putJson("/v1/scripts/app/vars", { vars: { C: "3" } });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({
      name: "app",
      version: 2,
      vars: { C: "3" },
      active: true,
      secrets: [],
    });
    const v1 = await h.store.getVersion("app", 1);
    const v2 = await h.store.getActive("app");
    expect(v2).toMatchObject({ version: 2, source: v1?.source, sha256: v1?.sha256, limits: v1?.limits });
    expect(v2?.vars).toEqual({ C: "3" });
    expect(h.hub.changes).toBe(2);
  });

  it("sets and unsets single names, leaving the others alone", async () => {
    const h = await harness();
    await h.putJson("/v1/scripts/app", { source: HELLO, vars: { A: "1", B: "2" } });
    const res = await h.putJson("/v1/scripts/app/vars", {
      set: { B: "two", C: "3" },
      unset: ["A", "MISSING"],
    });
    expect(res.json().vars).toEqual({ B: "two", C: "3" });
  });

  it("answers 404 for an unknown script and 400 for a body that is neither form", async () => {
    const h = await harness();
    expect((await h.putJson("/v1/scripts/ghost/vars", { vars: {} })).json().error.code).toBe(
      "EDGE_SCRIPT_NOT_FOUND",
    );
    await h.deploy("app", HELLO);
    for (const body of [{}, { vars: {}, set: {} }, { vars: { A: 1 } }, { set: { "": "x" } }, { other: 1 }]) {
      const res = await h.putJson("/v1/scripts/app/vars", body);
      expect(res.statusCode).toBe(400);
      expect(res.json().error.code).toBe("EDGE_INVALID_BODY");
    }
    expect(await h.store.getSummary("app")).toMatchObject({ latestVersion: 1 });
  });
});

describe("secrets", () => {
  it("are stored encrypted: the raw SQLite row holds neither the value nor its base64", async () => {
    const h = await harness();
    await h.deploy("app", HELLO);
    expect((await h.putJson("/v1/scripts/app/secrets", { secrets: { TOKEN: PLAINTEXT } })).statusCode).toBe(
      201,
    );
    const raw = new Database(h.dbPath, { readonly: true });
    try {
      const rows = raw.prepare("SELECT * FROM versions").all();
      const dump = JSON.stringify(rows);
      expect(dump).toContain("TOKEN");
      expect(dump).not.toContain(PLAINTEXT);
      expect(dump).not.toContain(Buffer.from(PLAINTEXT).toString("base64").slice(0, 16));
    } finally {
      raw.close();
    }
  });

  it("are never returned by a GET: the script and its versions show their names only", async () => {
    const h = await harness();
    await h.putJson("/v1/scripts/app", {
      source: HELLO,
      vars: { PUBLIC: "yes" },
      secrets: { TOKEN: PLAINTEXT, DB: "x" },
    });
    const script = await h.request({ method: "GET", url: "/v1/scripts/app" });
    expect(script.json()).toMatchObject({ vars: { PUBLIC: "yes" }, secrets: ["DB", "TOKEN"] });
    const versions = await h.request({ method: "GET", url: "/v1/scripts/app/versions" });
    expect(versions.json().versions[0]).toMatchObject({ vars: { PUBLIC: "yes" }, secrets: ["DB", "TOKEN"] });
    expect(await everyGet(h, "app")).not.toContain(PLAINTEXT);
  });

  it("are set and unset by name, each change a new version that keeps the code and vars", async () => {
    const h = await harness();
    await h.putJson("/v1/scripts/app", { source: HELLO, vars: { A: "1" }, secrets: { OLD: "o", KEEP: "k" } });
    const kept = (await h.store.getActive("app"))?.secrets.KEEP;
    const res = await h.putJson("/v1/scripts/app/secrets", { set: { NEW: PLAINTEXT }, unset: ["OLD"] });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ version: 2, vars: { A: "1" }, secrets: ["KEEP", "NEW"] });
    expect(JSON.stringify(res.json())).not.toContain(PLAINTEXT);
    // An untouched secret keeps its sealed form; it is not re-encrypted.
    expect((await h.store.getActive("app"))?.secrets.KEEP).toBe(kept);
  });

  it("and vars survive a code deploy that does not name them; naming them replaces them", async () => {
    const h = await harness();
    await h.putJson("/v1/scripts/app", { source: HELLO, vars: { A: "1" }, secrets: { TOKEN: PLAINTEXT } });
    await h.deploy("app", V2);
    expect(await h.store.getActive("app")).toMatchObject({ version: 2, source: V2, vars: { A: "1" } });
    expect(Object.keys((await h.store.getActive("app"))!.secrets)).toEqual(["TOKEN"]);
    await h.putJson("/v1/scripts/app", { source: HELLO, vars: {}, secrets: {} });
    expect(await h.store.getActive("app")).toMatchObject({ version: 3, vars: {}, secrets: {} });
  });

  it("roll back together with the code: a rollback restores the version's code, vars and secrets", async () => {
    const h = await harness();
    await h.putJson("/v1/scripts/app", { source: HELLO, vars: { MODE: "one" }, secrets: { TOKEN: "first" } });
    await h.putJson("/v1/scripts/app", { source: V2, vars: { MODE: "two" }, secrets: { OTHER: "second" } });
    await h.putJson("/v1/scripts/app/vars", { set: { MODE: "three" } });
    const res = await h.request({
      method: "POST",
      url: "/v1/scripts/app/rollback",
      headers: { "content-type": "application/json" },
      payload: JSON.stringify({ version: 1 }),
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ version: 1, vars: { MODE: "one" }, secrets: ["TOKEN"] });
    expect(await h.store.getActive("app")).toMatchObject({
      version: 1,
      source: HELLO,
      vars: { MODE: "one" },
    });
  });

  it("cannot share a name with a var", async () => {
    const h = await harness();
    await h.putJson("/v1/scripts/app", { source: HELLO, vars: { TOKEN: "plain" } });
    const clash = await h.putJson("/v1/scripts/app/secrets", { set: { TOKEN: PLAINTEXT } });
    expect(clash.statusCode).toBe(400);
    expect(clash.json().error).toMatchObject({
      code: "EDGE_ENV_CONFLICT",
      message: expect.stringContaining("TOKEN"),
    });
    const deploy = await h.putJson("/v1/scripts/other", {
      source: HELLO,
      vars: { K: "a" },
      secrets: { K: "b" },
    });
    expect(deploy.json().error.code).toBe("EDGE_ENV_CONFLICT");
    expect(await h.store.getSummary("app")).toMatchObject({ latestVersion: 1 });
  });

  it("without EDGE_SECRETS_KEY are refused with an error naming the variable, while the rest still works", async () => {
    const h = await harness({});
    const deploy = await h.putJson("/v1/scripts/app", { source: HELLO, secrets: { TOKEN: PLAINTEXT } });
    expect(deploy.statusCode).toBe(501);
    expect(deploy.json().error).toMatchObject({
      code: "EDGE_SECRETS_DISABLED",
      message: expect.stringContaining("EDGE_SECRETS_KEY"),
    });
    expect(await h.store.getSummary("app")).toBeNull();
    expect((await h.deploy("app", HELLO)).statusCode).toBe(201);
    expect((await h.putJson("/v1/scripts/app/secrets", { set: { TOKEN: "x" } })).statusCode).toBe(501);
    expect((await h.putJson("/v1/scripts/app/secrets", { unset: ["TOKEN"] })).statusCode).toBe(201);
    expect((await h.putJson("/v1/scripts/app/vars", { vars: { A: "1" } })).statusCode).toBe(201);
  });
});
