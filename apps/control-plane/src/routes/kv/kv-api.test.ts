import { afterEach, describe, expect, it } from "vitest";
import { type Harness, HELLO, startHarness } from "../../test-harness.js";

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function harness(): Promise<Harness> {
  h = await startHarness();
  return h;
}

async function createNamespace(h: Harness, name: string) {
  return h.request({ method: "POST", url: "/v1/kv/namespaces", payload: { name } });
}

function putValue(
  h: Harness,
  ns: string,
  key: string,
  value: string | Buffer,
  extra: { query?: string; metadata?: string } = {},
) {
  return h.request({
    method: "PUT",
    url: `/v1/kv/namespaces/${ns}/values/${encodeURIComponent(key)}${extra.query ?? ""}`,
    headers: {
      "content-type": "application/octet-stream",
      ...(extra.metadata !== undefined ? { "x-edge-kv-metadata": extra.metadata } : {}),
    },
    payload: value,
  });
}

describe("KV namespaces API", () => {
  it("creates a namespace with 201, refuses a duplicate with 409, lists, renames and deletes it", async () => {
    const h = await harness();
    const created = await createNamespace(h, "sessions");
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({ name: "sessions", id: expect.stringMatching(/^[0-9a-f]{32}$/) });
    expect(typeof created.json().createdAt).toBe("string");
    const again = await createNamespace(h, "sessions");
    expect(again.statusCode).toBe(409);
    expect(again.json().error.code).toBe("EDGE_KV_NAMESPACE_EXISTS");
    const bad = await createNamespace(h, "no spaces");
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe("EDGE_KV_INVALID_NAME");
    const listed = await h.request({ method: "GET", url: "/v1/kv/namespaces" });
    expect(listed.json().namespaces.map((ns: { name: string }) => ns.name)).toEqual(["sessions"]);
    const renamed = await h.request({
      method: "PATCH",
      url: "/v1/kv/namespaces/sessions",
      payload: { name: "users" },
    });
    expect(renamed.statusCode).toBe(200);
    expect(renamed.json()).toMatchObject({ name: "users", id: created.json().id });
    expect((await h.request({ method: "DELETE", url: "/v1/kv/namespaces/users" })).statusCode).toBe(204);
    const gone = await h.request({ method: "DELETE", url: "/v1/kv/namespaces/users" });
    expect(gone.statusCode).toBe(404);
    expect(gone.json().error.code).toBe("EDGE_KV_NAMESPACE_NOT_FOUND");
  });
});

describe("KV values API", () => {
  it("stores raw bytes with metadata and a TTL, reads them back, and 404s after a delete", async () => {
    const h = await harness();
    await createNamespace(h, "data");
    const bytes = Buffer.from([0, 1, 2, 250, 255]);
    const put = await putValue(h, "data", "path/to/key é", bytes, {
      query: "?expiration_ttl=120",
      metadata: '{"owner":"ana"}',
    });
    expect(put.statusCode).toBe(200);
    const got = await h.request({
      method: "GET",
      url: `/v1/kv/namespaces/data/values/${encodeURIComponent("path/to/key é")}`,
    });
    expect(got.statusCode).toBe(200);
    expect([...got.rawPayload]).toEqual([...bytes]);
    expect(got.headers["x-edge-kv-metadata"]).toBe('{"owner":"ana"}');
    const expiration = Number(got.headers["x-edge-kv-expiration"]);
    expect(expiration).toBeGreaterThan(Date.now() / 1000 + 100);
    const meta = await h.request({
      method: "GET",
      url: "/v1/kv/namespaces/data/metadata/path%2Fto%2Fkey%20%C3%A9",
    });
    expect(meta.json()).toEqual({ key: "path/to/key é", metadata: { owner: "ana" }, expiration });
    const del = await h.request({
      method: "DELETE",
      url: "/v1/kv/namespaces/data/values/path%2Fto%2Fkey%20%C3%A9",
    });
    expect(del.statusCode).toBe(204);
    const after = await h.request({
      method: "GET",
      url: "/v1/kv/namespaces/data/values/path%2Fto%2Fkey%20%C3%A9",
    });
    expect(after.statusCode).toBe(404);
    expect(after.json().error.code).toBe("EDGE_KV_KEY_NOT_FOUND");
  });

  it("refuses Cloudflare's out-of-limit keys, expirations and metadata with precise 400s", async () => {
    const h = await harness();
    await createNamespace(h, "data");
    const longKey = await putValue(h, "data", "k".repeat(513), "v");
    expect(longKey.statusCode).toBe(400);
    expect(longKey.json().error.code).toBe("EDGE_KV_INVALID_KEY");
    const soon = await putValue(h, "data", "k", "v", { query: "?expiration_ttl=30" });
    expect(soon.statusCode).toBe(400);
    expect(soon.json().error).toEqual({
      code: "EDGE_KV_INVALID_EXPIRATION",
      message: "Invalid expiration_ttl of 30. Expiration TTL must be at least 60.",
    });
    const past = await putValue(h, "data", "k", "v", { query: "?expiration=1000" });
    expect(past.json().error.code).toBe("EDGE_KV_INVALID_EXPIRATION");
    const bigMeta = await putValue(h, "data", "k", "v", { metadata: JSON.stringify("x".repeat(1100)) });
    expect(bigMeta.statusCode).toBe(400);
    expect(bigMeta.json().error.code).toBe("EDGE_KV_INVALID_METADATA");
    const notJson = await putValue(h, "data", "k", "v", { metadata: "{nope" });
    expect(notJson.json().error.code).toBe("EDGE_KV_INVALID_METADATA");
    const noNs = await putValue(h, "missing", "k", "v");
    expect(noNs.statusCode).toBe(404);
  });

  it("refuses a value over 25 MiB with 413", async () => {
    const h = await harness();
    await createNamespace(h, "data");
    const res = await putValue(h, "data", "big", Buffer.alloc(25 * 1024 * 1024 + 1));
    expect(res.statusCode).toBe(413);
    expect(res.json().error.code).toBe("EDGE_KV_VALUE_TOO_LARGE");
  });

  it("lists keys by prefix with a cursor, and bulk writes and deletes in Cloudflare's format", async () => {
    const h = await harness();
    await createNamespace(h, "data");
    const written = await h.putJson("/v1/kv/namespaces/data/bulk", [
      { key: "user:1", value: "a", metadata: { n: 1 } },
      { key: "user:2", value: "Yg==", base64: true, expiration_ttl: 3600 },
      { key: "user:3", value: "c" },
      { key: "other", value: "o" },
    ]);
    expect(written.statusCode).toBe(200);
    const first = await h.request({ method: "GET", url: "/v1/kv/namespaces/data/keys?prefix=user:&limit=2" });
    expect(first.json()).toMatchObject({
      keys: [
        { name: "user:1", metadata: { n: 1 } },
        { name: "user:2", expiration: expect.any(Number) },
      ],
      list_complete: false,
    });
    const second = await h.request({
      method: "GET",
      url: `/v1/kv/namespaces/data/keys?prefix=user:&limit=2&cursor=${first.json().cursor}`,
    });
    expect(second.json()).toEqual({ keys: [{ name: "user:3" }], list_complete: true });
    const b = await h.request({ method: "GET", url: "/v1/kv/namespaces/data/values/user:2" });
    expect(b.body).toBe("b");
    const badLimit = await h.request({ method: "GET", url: "/v1/kv/namespaces/data/keys?limit=1001" });
    expect(badLimit.statusCode).toBe(400);
    const deleted = await h.request({
      method: "POST",
      url: "/v1/kv/namespaces/data/bulk/delete",
      payload: ["user:1", "user:2"],
    });
    expect(deleted.json()).toEqual({ deleted: 2 });
    const rest = await h.request({ method: "GET", url: "/v1/kv/namespaces/data/keys" });
    expect(rest.json().keys.map((k: { name: string }) => k.name)).toEqual(["other", "user:3"]);
  });
});

describe("KV bindings in deploys", () => {
  it("binds a namespace by name, refuses an unknown one with 400, and a rollback restores the old bindings", async () => {
    const h = await harness();
    const ns = (await createNamespace(h, "cache")).json();
    const missing = await h.putJson("/v1/scripts/app", {
      source: HELLO,
      bindings: { CACHE: { type: "kv", namespace: "nope" } },
    });
    expect(missing.statusCode).toBe(400);
    expect(missing.json().error.code).toBe("EDGE_KV_INVALID_BINDING");
    const v1 = await h.putJson("/v1/scripts/app", {
      source: HELLO,
      bindings: { CACHE: { type: "kv", namespace: "cache" } },
    });
    expect(v1.statusCode).toBe(201);
    // A code-only deploy keeps the bindings; vars changes keep them too.
    await h.deploy("app", HELLO);
    await h.putJson("/v1/scripts/app/vars", { vars: { A: "1" } });
    const shown = await h.request({ method: "GET", url: "/v1/scripts/app" });
    expect(shown.json().bindings).toEqual({ CACHE: { type: "kv", namespace: "cache", namespaceId: ns.id } });
    await h.putJson("/v1/scripts/app", { source: HELLO, bindings: {} });
    expect((await h.request({ method: "GET", url: "/v1/scripts/app" })).json().bindings).toEqual({});
    await h.request({ method: "POST", url: "/v1/scripts/app/rollback", payload: { version: 1 } });
    expect((await h.request({ method: "GET", url: "/v1/scripts/app" })).json().bindings).toEqual({
      CACHE: { type: "kv", namespace: "cache", namespaceId: ns.id },
    });
    const clash = await h.putJson("/v1/scripts/app", {
      source: HELLO,
      vars: { CACHE: "x" },
      bindings: { CACHE: { type: "kv", namespace: "cache" } },
    });
    expect(clash.statusCode).toBe(400);
  });
});
