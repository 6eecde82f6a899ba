import { createHash } from "node:crypto";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AppCluster, multipart, startAppCluster } from "./app-cluster.js";

/**
 * Real apps, written against public frameworks and libraries (devDependencies
 * of this package), bundled and deployed by the real `edgectl deploy` (the
 * same esbuild path users get) to a real control plane and edge node, and
 * called over HTTP with exact bodies and headers asserted. The apps are in
 * `test-e2e/real-apps/`.
 */

const cluster: AppCluster = await startAppCluster();
afterAll(() => cluster.close());

/**
 * Which runtime APIs the node offers, asked of the node itself by a probe
 * script: tests that need an API another stream is still building are in
 * their own describe blocks, skipped until the probe finds the API, so they
 * run by themselves once it lands.
 */
await cluster.deploy("probe", "real-apps/probe/app.js");
const has = (await cluster.call("probe", "/")).json() as {
  compressionStreams: boolean;
  formData: boolean;
  ecdsa: boolean;
  ed25519: boolean;
  rsa: boolean;
};

const JWT_SECRET = "a-secret-only-the-tests-know";

describe("Hono", () => {
  beforeAll(() => cluster.deploy("hono", "real-apps/hono/app.ts", { JWT_SECRET }));

  it("answers a plain route, and its notFound handler for anything else", async () => {
    const home = await cluster.call("hono", "/");
    expect(home.status).toBe(200);
    // A string body's default type, as the Fetch standard spells it (c.text() leaves it to Response).
    expect(home.headers["content-type"]).toBe("text/plain;charset=UTF-8");
    expect(home.text).toBe("hello from hono");
    const missing = await cluster.call("hono", "/nowhere");
    expect(missing.status).toBe(404);
    expect(missing.json()).toEqual({ missing: "/nowhere" });
  });

  it("routes with path params and reads the query", async () => {
    const res = await cluster.call("hono", "/users/ada/posts/42?sort=new");
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toBe("application/json");
    expect(res.json()).toEqual({ user: "ada", post: 42, sort: "new" });
  });

  it("hono/cors answers a preflight and marks a cross-origin response", async () => {
    const preflight = await cluster.call("hono", "/api/data", {
      method: "OPTIONS",
      headers: {
        origin: "https://app.example",
        "access-control-request-method": "POST",
        "access-control-request-headers": "x-trace",
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers).toMatchObject({
      "access-control-allow-origin": "https://app.example",
      "access-control-allow-methods": "GET,POST",
      "access-control-allow-headers": "x-trace",
      "access-control-max-age": "600",
      vary: "Origin, Access-Control-Request-Headers",
    });
    expect(preflight.text).toBe("");
    const res = await cluster.call("hono", "/api/data", { headers: { origin: "https://app.example" } });
    expect(res.status).toBe(200);
    expect(res.headers["access-control-allow-origin"]).toBe("https://app.example");
    expect(res.headers.vary).toBe("Origin");
    expect(res.json()).toEqual({ data: [1, 2, 3] });
  });

  it("hono/etag sends the SHA-1 ETag of the body, and 304 without a body when it matches", async () => {
    const body = "a document that does not change";
    const tag = `"${createHash("sha1").update(body).digest("hex")}"`;
    const first = await cluster.call("hono", "/etag/doc");
    expect(first.status).toBe(200);
    expect(first.headers.etag).toBe(tag);
    expect(first.text).toBe(body);
    const again = await cluster.call("hono", "/etag/doc", { headers: { "if-none-match": tag } });
    expect(again.status).toBe(304);
    expect(again.headers.etag).toBe(tag);
    expect(again.text).toBe("");
  });

  it("hono/jwt (HS256) lets a token it signed through and refuses a request without one", async () => {
    const issued = await cluster.call("hono", "/token", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ sub: "ada" }),
    });
    expect(issued.status).toBe(200);
    const { token } = issued.json() as { token: string };
    expect(token.split(".")).toHaveLength(3);
    const header = JSON.parse(Buffer.from(token.split(".")[0]!, "base64url").toString("utf8"));
    expect(header).toEqual({ alg: "HS256", typ: "JWT" });
    const me = await cluster.call("hono", "/auth/me", { headers: { authorization: `Bearer ${token}` } });
    expect(me.status).toBe(200);
    expect(me.json()).toEqual({ sub: "ada", role: "admin" });
    const anonymous = await cluster.call("hono", "/auth/me");
    expect(anonymous.status).toBe(401);
    expect(anonymous.text).toBe("Unauthorized");
    const tampered = await cluster.call("hono", "/auth/me", {
      headers: { authorization: `Bearer ${token.slice(0, -2)}xx` },
    });
    expect(tampered.status).toBe(401);
  });
});

// Waits for rt-body: c.req.parseBody() calls request.formData() (multipart and urlencoded).
describe.skipIf(!has.formData)("Hono body parsing (needs formData() from the rt-body stream)", () => {
  beforeAll(() => cluster.deploy("hono", "real-apps/hono/app.ts", { JWT_SECRET }));

  it("c.req.parseBody() reads an application/x-www-form-urlencoded POST", async () => {
    const res = await cluster.call("hono", "/form", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "name=Ada+Lovelace&lang=en%2Fgb",
    });
    expect(res.status).toBe(200);
    expect(res.json()).toEqual({ name: "Ada Lovelace", lang: "en/gb" });
  });

  it("c.req.parseBody() reads a multipart/form-data POST with a file part", async () => {
    const form = multipart([["title", "notes"]], {
      field: "doc",
      name: "notes.txt",
      type: "text/plain",
      content: "line one\nline two",
    });
    const res = await cluster.call("hono", "/form", {
      method: "POST",
      headers: { "content-type": form.contentType },
      body: form.body,
    });
    expect(res.status).toBe(200);
    expect(res.json()).toEqual({
      title: "notes",
      doc: { name: "notes.txt", type: "text/plain", text: "line one\nline two" },
    });
  });
});

// Waits for rt-text: hono/compress pipes the body through CompressionStream.
describe.skipIf(!has.compressionStreams)(
  "Hono compress (needs CompressionStream from the rt-text stream)",
  () => {
    beforeAll(() => cluster.deploy("hono", "real-apps/hono/app.ts", { JWT_SECRET }));

    it("hono/compress gzips a large body for a client that accepts gzip", async () => {
      const res = await cluster.call("hono", "/big", { headers: { "accept-encoding": "gzip" } });
      expect(res.status).toBe(200);
      expect(res.headers["content-encoding"]).toBe("gzip");
      expect(gunzipSync(res.body).toString("utf8")).toBe("compress me please. ".repeat(200));
    });
  },
);

describe("itty-router", () => {
  beforeAll(() => cluster.deploy("itty", "real-apps/itty-router/app.ts"));

  it("routes with params and query, and returns the handler's object as JSON", async () => {
    const res = await cluster.call("itty", "/items/abc?q=shoes");
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toBe("application/json; charset=utf-8");
    expect(res.json()).toEqual({ id: "abc", q: "shoes" });
  });

  it("reads a JSON body, and answers status errors and unknown routes as JSON", async () => {
    const echo = await cluster.call("itty", "/echo", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ a: [1, "two"] }),
    });
    expect(echo.json()).toEqual({ got: { a: [1, "two"] } });
    const teapot = await cluster.call("itty", "/teapot");
    expect(teapot.status).toBe(418);
    expect(teapot.json()).toEqual({ status: 418, error: "short and stout" });
    const missing = await cluster.call("itty", "/nope");
    expect(missing.status).toBe(404);
    expect(missing.json()).toEqual({ status: 404, error: "Not Found" });
  });
});

describe("jose", () => {
  beforeAll(() => cluster.deploy("jose", "real-apps/jose/app.ts", { SECRET: JWT_SECRET }));

  it("signs and verifies an HS256 JWT, and refuses one whose payload was changed", async () => {
    const res = await cluster.call("jose", "/HS256");
    expect(res.status).toBe(200);
    expect(res.json()).toEqual({
      alg: "HS256",
      sub: "user-1",
      scope: "read",
      parts: 3,
      refused: "ERR_JWS_SIGNATURE_VERIFICATION_FAILED",
    });
  });
});

// Waits for rt-crypto: asymmetric keys (ECDSA P-256, Ed25519, RSASSA-PKCS1-v1_5) in crypto.subtle.
describe.skipIf(!(has.ecdsa || has.ed25519 || has.rsa))(
  "jose with key pairs (needs ECDSA, Ed25519 and RSA from the rt-crypto stream)",
  () => {
    beforeAll(() => cluster.deploy("jose", "real-apps/jose/app.ts", { SECRET: JWT_SECRET }));

    // Each algorithm runs once the node has its key type.
    for (const [alg, ready] of [
      ["ES256", has.ecdsa],
      ["EdDSA", has.ed25519],
      ["RS256", has.rsa],
    ] as const) {
      it.skipIf(!ready)(
        `generates a key pair, signs and verifies a ${alg} JWT, and refuses a changed payload`,
        async () => {
          const res = await cluster.call("jose", `/${alg}`);
          expect(res.status).toBe(200);
          expect(res.json()).toEqual({
            alg,
            sub: "user-1",
            scope: "read",
            parts: 3,
            refused: "ERR_JWS_SIGNATURE_VERIFICATION_FAILED",
          });
        },
      );
    }
  },
);

// Waits for rt-text: CompressionStream / DecompressionStream.
describe.skipIf(!has.compressionStreams)(
  "gzip through Compression Streams (needs the rt-text stream)",
  () => {
    beforeAll(() => cluster.deploy("web", "real-apps/web-apis/app.ts"));

    it("round-trips a body through CompressionStream and DecompressionStream", async () => {
      const input = "edge ".repeat(1000);
      const res = await cluster.call("web", "/gzip", { method: "POST", body: input });
      expect(res.status).toBe(200);
      expect(res.json()).toEqual({ magic: [0x1f, 0x8b], same: true, length: input.length });
    });

    it("streams a gzip body a client can inflate", async () => {
      const res = await cluster.call("web", "/gzip-out");
      expect(res.headers["content-encoding"]).toBe("gzip");
      expect(gunzipSync(res.body).toString("utf8")).toBe("zipped ".repeat(100));
    });
  },
);

// Waits for rt-body: Request.formData(), FormData and File.
describe.skipIf(!has.formData)("a FormData upload with a file part (needs the rt-body stream)", () => {
  beforeAll(() => cluster.deploy("web", "real-apps/web-apis/app.ts"));

  it("reads the fields, repeated fields and the file part of a multipart upload", async () => {
    const form = multipart(
      [
        ["title", "report"],
        ["tag", "a"],
        ["tag", "b"],
      ],
      { field: "file", name: "data.csv", type: "text/csv", content: "x,y\n1,2\n" },
    );
    const res = await cluster.call("web", "/upload", {
      method: "POST",
      headers: { "content-type": form.contentType },
      body: form.body,
    });
    expect(res.status).toBe(200);
    expect(res.json()).toEqual({
      title: "report",
      tags: ["a", "b"],
      file: { name: "data.csv", type: "text/csv", size: 8, text: "x,y\n1,2\n" },
    });
  });
});
