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
  it("getRandomValues fills integer arrays in place and returns them; floats and DataView are TypeMismatchError, over 65536 bytes QuotaExceededError", async () => {
    const result = (await evaluate(`
      const a = crypto.getRandomValues(new Uint8Array(32));
      const errorOf = (f) => { try { f(); return "accepted"; } catch (e) {
        return [e.constructor.name, e.name, e.code, e instanceof DOMException, e.quota ?? null, e.requested ?? null].join(" "); } };
      class Sub extends Int32Array {}
      const same = new BigUint64Array(4);
      const integerTypes = [Int8Array, Int16Array, Int32Array, BigInt64Array, Uint8Array, Uint8ClampedArray, Uint16Array, Uint32Array, BigUint64Array];
      return { a: hex(a), distinct: hex(a) !== hex(crypto.getRandomValues(new Uint8Array(32))),
        same: crypto.getRandomValues(same) === same, sub: crypto.getRandomValues(new Sub(256)) instanceof Sub,
        empty: crypto.getRandomValues(new Uint16Array(0)).length,
        maxima: integerTypes.map((T) => crypto.getRandomValues(new T(65536 / T.BYTES_PER_ELEMENT)).length * T.BYTES_PER_ELEMENT),
        overMaxima: integerTypes.map((T) => errorOf(() => crypto.getRandomValues(new T(65536 / T.BYTES_PER_ELEMENT + 1)))),
        float32: errorOf(() => crypto.getRandomValues(new Float32Array(6))),
        float64TooLong: errorOf(() => crypto.getRandomValues(new Float64Array(65536 / 8 + 1))),
        dataView: errorOf(() => crypto.getRandomValues(new DataView(new ArrayBuffer(6)))),
        notAView: errorOf(() => crypto.getRandomValues([1, 2, 3])),
        noArgument: errorOf(() => crypto.getRandomValues()),
        quotaClass: typeof QuotaExceededError === "function" && new QuotaExceededError("m", { quota: 1, requested: 2 }).requested,
        big: crypto.getRandomValues(new Uint8Array(65536)).some((x) => x !== 0) };
    `)) as { a: string } & Record<string, unknown>;
    expect(result.a).toMatch(/^[0-9a-f]{64}$/);
    const quota = "QuotaExceededError QuotaExceededError 22 true  ";
    expect(result).toMatchObject({
      distinct: true,
      same: true,
      sub: true,
      empty: 0,
      maxima: Array(9).fill(65536),
      overMaxima: Array(9).fill(quota),
      float32: "DOMException TypeMismatchError 17 true  ",
      float64TooLong: "DOMException TypeMismatchError 17 true  ",
      dataView: "DOMException TypeMismatchError 17 true  ",
      notAView: "TypeError TypeError  false  ",
      noArgument: "TypeError TypeError  false  ",
      quotaClass: 2,
      big: true,
    });
  });

  it("randomUUID gives distinct version 4 UUIDs", async () => {
    const ids = (await evaluate(`return Array.from({ length: 20 }, () => crypto.randomUUID());`)) as string[];
    for (const id of ids)
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(new Set(ids).size).toBe(20);
  });

  it("subtle.digest matches node:crypto for SHA-1, SHA-256, SHA-384, SHA-512 and Cloudflare's MD5", async () => {
    const result = await evaluate(`
      const data = new TextEncoder().encode("The quick brown fox");
      const out = {};
      for (const name of ["SHA-1", "SHA-256", "sha-384", { name: "SHA-512" }]) {
        out[typeof name === "string" ? name.toUpperCase() : name.name] = hex(await crypto.subtle.digest(name, data));
      }
      let sha3 = "accepted";
      try { await crypto.subtle.digest("SHA3-256", data); } catch (e) { sha3 = e.name; }
      return { ...out, md5: hex(await crypto.subtle.digest("md5", data)), sha3 };
    `);
    const expected = (alg: string) => createHash(alg).update("The quick brown fox").digest("hex");
    expect(result).toEqual({
      "SHA-1": expected("sha1"),
      "SHA-256": expected("sha256"),
      "SHA-384": expected("sha384"),
      "SHA-512": expected("sha512"),
      md5: expected("md5"),
      sha3: "NotSupportedError",
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

  it("crypto.DigestStream hashes every chunk written and resolves digest when closed", async () => {
    const result = await evaluate(`
      const stream = new crypto.DigestStream("SHA-256");
      const writer = stream.getWriter();
      await writer.write(new TextEncoder().encode("The quick "));
      await writer.write(new TextEncoder().encode("brown fox").buffer);
      await writer.write("!");
      await writer.close();
      const piped = new crypto.DigestStream({ name: "SHA-512" });
      await new Response("piped body").body.pipeTo(piped);
      let bad = "accepted";
      try { new crypto.DigestStream("MD4"); } catch (e) { bad = e.name; }
      return { sha256: hex(await stream.digest), sha512: hex(await piped.digest), bad, isWritable: stream instanceof WritableStream };
    `);
    expect(result).toEqual({
      sha256: createHash("sha256").update("The quick brown fox!").digest("hex"),
      sha512: createHash("sha512").update("piped body").digest("hex"),
      bad: "NotSupportedError",
      isWritable: true,
    });
  });

  it("reads input buffers when called: later changes do not count and a detached buffer is empty", async () => {
    const result = await evaluate(`
      const data = new TextEncoder().encode("abc");
      const pending = crypto.subtle.digest("SHA-256", data);
      data.fill(0);
      const buffer = new Uint8Array([1, 2, 3]).buffer;
      const view = new Uint8Array(buffer, 1);
      buffer.transfer();
      return { changed: hex(await pending), detached: hex(await crypto.subtle.digest("SHA-256", buffer)),
        detachedView: hex(await crypto.subtle.digest("SHA-256", view)) };
    `);
    expect(result).toEqual({
      changed: createHash("sha256").update("abc").digest("hex"),
      detached: createHash("sha256").digest("hex"),
      detachedView: createHash("sha256").digest("hex"),
    });
  });

  it("subtle.timingSafeEqual compares equal-length buffers and refuses different lengths", async () => {
    const result = await evaluate(`
      const t = crypto.subtle.timingSafeEqual;
      let different = "accepted";
      try { t(new Uint8Array(2), new Uint8Array(3)); } catch (e) { different = e.name; }
      return [t(new Uint8Array([1, 2]), new Uint16Array([0x0201]).buffer), t(new Uint8Array([1, 2]), new Uint8Array([1, 3])), different];
    `);
    expect(result).toEqual([true, false, "TypeError"]);
  });
});
