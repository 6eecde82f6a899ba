import { createHash, createHmac } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { bodyText, runSource } from "../test/helpers.js";
import { createIsolateRunner } from "./index.js";

const runner = createIsolateRunner();
afterAll(() => runner.dispose());

async function evaluate(body: string): Promise<unknown> {
  const result = await runSource(
    runner,
    `const hex = (buffer) => [...new Uint8Array(buffer)].map((b) => b.toString(16).padStart(2, "0")).join("");
    export default { async fetch() { return Response.json(await (async () => { ${body} })()); } }`,
  );
  return JSON.parse(bodyText(result));
}

describe("crypto", () => {
  it("getRandomValues fills integer arrays, refuses float arrays and more than 65536 bytes", async () => {
    const result = (await evaluate(`
      const a = crypto.getRandomValues(new Uint8Array(32));
      const b = crypto.getRandomValues(new Uint32Array(4));
      const errors = [];
      for (const f of [() => crypto.getRandomValues(new Float64Array(1)), () => crypto.getRandomValues(new Uint8Array(65537))]) {
        try { f(); errors.push("accepted"); } catch (e) { errors.push(e.name); }
      }
      return { a: hex(a), distinct: hex(a) !== hex(crypto.getRandomValues(new Uint8Array(32))), b: b.length, errors,
        big: crypto.getRandomValues(new Uint8Array(65536)).some((x) => x !== 0) };
    `)) as { a: string; distinct: boolean; b: number; errors: string[]; big: boolean };
    expect(result.a).toMatch(/^[0-9a-f]{64}$/);
    expect(result).toMatchObject({
      distinct: true,
      b: 4,
      big: true,
      errors: ["TypeMismatchError", "QuotaExceededError"],
    });
  });

  it("randomUUID gives distinct version 4 UUIDs", async () => {
    const ids = (await evaluate(`return Array.from({ length: 20 }, () => crypto.randomUUID());`)) as string[];
    for (const id of ids)
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(new Set(ids).size).toBe(20);
  });

  it("subtle.digest matches node:crypto for SHA-1, SHA-256, SHA-384 and SHA-512", async () => {
    const result = await evaluate(`
      const data = new TextEncoder().encode("The quick brown fox");
      const out = {};
      for (const name of ["SHA-1", "SHA-256", "sha-384", { name: "SHA-512" }]) {
        out[typeof name === "string" ? name.toUpperCase() : name.name] = hex(await crypto.subtle.digest(name, data));
      }
      let md5 = "accepted";
      try { await crypto.subtle.digest("MD5", data); } catch (e) { md5 = e.name; }
      return { ...out, md5 };
    `);
    const expected = (alg: string) => createHash(alg).update("The quick brown fox").digest("hex");
    expect(result).toEqual({
      "SHA-1": expected("sha1"),
      "SHA-256": expected("sha256"),
      "SHA-384": expected("sha384"),
      "SHA-512": expected("sha512"),
      md5: "NotSupportedError",
    });
  });

  it("HMAC sign and verify match node:crypto, with raw and JWK keys", async () => {
    const result = await evaluate(`
      const enc = new TextEncoder();
      const key = await crypto.subtle.importKey("raw", enc.encode("secret"), { name: "HMAC", hash: "SHA-256" }, true, ["sign", "verify"]);
      const signature = await crypto.subtle.sign("HMAC", key, enc.encode("message"));
      const valid = await crypto.subtle.verify("HMAC", key, signature, enc.encode("message"));
      const tampered = await crypto.subtle.verify({ name: "HMAC" }, key, signature, enc.encode("messagE"));
      const jwk = await crypto.subtle.exportKey("jwk", key);
      const again = await crypto.subtle.importKey("jwk", jwk, { name: "HMAC", hash: { name: "SHA-256" } }, false, ["sign"]);
      const generated = await crypto.subtle.generateKey({ name: "HMAC", hash: "SHA-512" }, false, ["sign"]);
      let exportRefused = "exported";
      try { await crypto.subtle.exportKey("raw", again); } catch (e) { exportRefused = e.name; }
      let usageRefused = "verified";
      try { await crypto.subtle.verify("HMAC", again, signature, enc.encode("message")); } catch (e) { usageRefused = e.name; }
      return { signature: hex(signature), valid, tampered, jwk: [jwk.kty, jwk.alg], same: hex(await crypto.subtle.sign("HMAC", again, enc.encode("message"))),
        generated: [generated.type, generated.algorithm.length, generated.algorithm.hash.name], exportRefused, usageRefused,
        isKey: key instanceof CryptoKey };
    `);
    const expected = createHmac("sha256", "secret").update("message").digest("hex");
    expect(result).toEqual({
      signature: expected,
      valid: true,
      tampered: false,
      jwk: ["oct", "HS256"],
      same: expected,
      generated: ["secret", 1024, "SHA-512"],
      exportRefused: "InvalidAccessError",
      usageRefused: "InvalidAccessError",
      isKey: true,
    });
  });
});
