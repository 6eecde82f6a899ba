import { createPublicKey, verify as nodeVerify } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { CRYPTO_LIMITS, inIsolate } from "../test/crypto-script.js";
import { createIsolateRunner } from "./index.js";

const runner = createIsolateRunner({ maxLimits: CRYPTO_LIMITS });
afterAll(() => runner.dispose());

describe("CryptoKey", () => {
  it("cannot be constructed, forged or opened by a script", async () => {
    const result = await inIsolate(
      runner,
      `
      const key = await crypto.subtle.generateKey({ name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
      const constructed = await errorOf(() => new CryptoKey());
      const subtleConstructed = await errorOf(() => new SubtleCrypto());
      const fake = { type: "secret", extractable: true, algorithm: { name: "HMAC", hash: { name: "SHA-256" } }, usages: ["sign"] };
      const withPrototype = Object.create(CryptoKey.prototype);
      return {
        constructed, subtleConstructed,
        fake: await errorOf(() => crypto.subtle.sign("HMAC", fake, bytes("x"))),
        withPrototype: await errorOf(() => crypto.subtle.sign("HMAC", withPrototype, bytes("x"))),
        getterOnPrototype: await errorOf(() => withPrototype.type),
        ownKeys: Reflect.ownKeys(key).length,
        json: JSON.stringify(key),
        tag: Object.prototype.toString.call(key),
        isKey: key instanceof CryptoKey,
        sameAlgorithm: key.algorithm === key.algorithm,
        sameUsages: key.usages === key.usages,
        notExtractable: await errorOf(() => crypto.subtle.exportKey("raw", key)),
      };
    `,
    );
    expect(result).toEqual({
      constructed: "TypeError",
      subtleConstructed: "TypeError",
      fake: "TypeError",
      withPrototype: "TypeError",
      getterOnPrototype: "TypeError",
      ownKeys: 0,
      json: "{}",
      tag: "[object CryptoKey]",
      isKey: true,
      sameAlgorithm: true,
      sameUsages: true,
      notExtractable: "DOMException:InvalidAccessError",
    });
  });

  it("describes generated keys with the spec's algorithm dictionaries and splits usages across a pair", async () => {
    const result = await inIsolate(
      runner,
      `
      const describe = (k) => ({ type: k.type, extractable: k.extractable, usages: k.usages,
        algorithm: { ...k.algorithm, ...(k.algorithm.publicExponent ? { publicExponent: [...k.algorithm.publicExponent], exponentIsBytes: k.algorithm.publicExponent instanceof Uint8Array } : {}) } });
      const ec = await crypto.subtle.generateKey({ name: "ecdsa", namedCurve: "P-384" }, false, ["verify", "sign", "sign"]);
      const rsa = await crypto.subtle.generateKey({ name: "RSA-PSS", modulusLength: 1024, publicExponent: new Uint8Array([1, 0, 1]), hash: { name: "sha-256" } }, true, ["sign", "verify"]);
      const aes = await crypto.subtle.generateKey({ name: "aes-gcm", length: 128 }, true, ["encrypt", "decrypt"]);
      const hmac = await crypto.subtle.generateKey({ name: "HMAC", hash: "SHA-384" }, true, ["sign"]);
      const ed = await crypto.subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"]);
      const x = await crypto.subtle.generateKey({ name: "X25519" }, true, ["deriveBits"]);
      return {
        ecPublic: describe(ec.publicKey), ecPrivate: describe(ec.privateKey),
        pairKeys: Object.keys(ec),
        rsaPublic: describe(rsa.publicKey),
        aes: describe(aes), hmac: describe(hmac),
        ed: describe(ed.privateKey), hasCurve: "namedCurve" in ed.publicKey.algorithm,
        x: [describe(x.publicKey).usages, describe(x.privateKey).usages, x.publicKey.algorithm.name],
      };
    `,
    );
    expect(result).toEqual({
      ecPublic: {
        type: "public",
        extractable: true,
        usages: ["verify"],
        algorithm: { name: "ECDSA", namedCurve: "P-384" },
      },
      ecPrivate: {
        type: "private",
        extractable: false,
        usages: ["sign"],
        algorithm: { name: "ECDSA", namedCurve: "P-384" },
      },
      pairKeys: ["publicKey", "privateKey"],
      rsaPublic: {
        type: "public",
        extractable: true,
        usages: ["verify"],
        algorithm: {
          name: "RSA-PSS",
          modulusLength: 1024,
          publicExponent: [1, 0, 1],
          exponentIsBytes: true,
          hash: { name: "SHA-256" },
        },
      },
      aes: {
        type: "secret",
        extractable: true,
        usages: ["encrypt", "decrypt"],
        algorithm: { name: "AES-GCM", length: 128 },
      },
      hmac: {
        type: "secret",
        extractable: true,
        usages: ["sign"],
        algorithm: { name: "HMAC", hash: { name: "SHA-384" }, length: 1024 },
      },
      ed: { type: "private", extractable: true, usages: ["sign"], algorithm: { name: "Ed25519" } },
      hasCurve: false,
      x: [[], ["deriveBits"], "X25519"],
    });
  });

  it("rejects bad generateKey calls with the spec's error, in the spec's order", async () => {
    const result = await inIsolate(
      runner,
      `
      const g = (...args) => errorOf(() => crypto.subtle.generateKey(...args));
      return {
        unknownAlgorithm: await g({ name: "AES-XYZ", length: 128 }, true, []),
        unknownBeforeUsages: await g({ name: "FOO" }, true, ["bogus-usage"]),
        notAnAlgorithm: await g(42, true, ["sign"]),
        missingName: await g({ length: 128 }, true, ["encrypt"]),
        missingMember: await g({ name: "AES-GCM" }, true, ["encrypt"]),
        badMemberType: await g({ name: "RSA-OAEP", modulusLength: 2048, publicExponent: [1, 0, 1], hash: "SHA-256" }, true, ["encrypt"]),
        invalidUsageValue: await g({ name: "AES-GCM", length: 128 }, true, ["encrypt", "fly"]),
        usageNotForAlgorithm: await g({ name: "AES-GCM", length: 128 }, true, ["sign"]),
        emptyUsagesSecret: await g({ name: "AES-GCM", length: 128 }, true, []),
        emptyUsagesPrivate: await g({ name: "ECDSA", namedCurve: "P-256" }, true, ["verify"]),
        badAesLength: await g({ name: "AES-CBC", length: 64 }, true, ["encrypt"]),
        badCurve: await g({ name: "ECDH", namedCurve: "P-25519" }, true, ["deriveBits"]),
        hugeRsa: await g({ name: "RSA-PSS", modulusLength: 8192, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" }, true, ["sign"]),
        usagesNotIterable: await g({ name: "AES-GCM", length: 128 }, true, "encrypt"),
        tooFewArguments: await errorOf(() => crypto.subtle.generateKey({ name: "AES-GCM", length: 128 }, true)),
        isPromise: crypto.subtle.generateKey({ name: "nope" }, true, []).catch(() => {}) instanceof Promise,
      };
    `,
    );
    expect(result).toEqual({
      unknownAlgorithm: "DOMException:NotSupportedError",
      unknownBeforeUsages: "TypeError",
      notAnAlgorithm: "DOMException:NotSupportedError",
      missingName: "TypeError",
      missingMember: "TypeError",
      badMemberType: "TypeError",
      invalidUsageValue: "TypeError",
      usageNotForAlgorithm: "DOMException:SyntaxError",
      emptyUsagesSecret: "DOMException:SyntaxError",
      emptyUsagesPrivate: "DOMException:SyntaxError",
      badAesLength: "DOMException:OperationError",
      badCurve: "DOMException:NotSupportedError",
      hugeRsa: "DOMException:NotSupportedError",
      usagesNotIterable: "TypeError",
      tooFewArguments: "TypeError",
      isPromise: true,
    });
  });

  it("rejects at once when normalizing the algorithm fails, and only later for usages (as WPT's generateKey failures check)", async () => {
    const result = await inIsolate(
      runner,
      `
      const timing = async (work) => {
        let microtaskRan = false;
        const settled = work().then(() => "resolved", (e) => (microtaskRan ? "late " : "at once ") + e.name);
        Promise.resolve().then(() => { microtaskRan = true; });
        return settled;
      };
      const g = (...args) => timing(() => crypto.subtle.generateKey(...args));
      const hmacKey = await crypto.subtle.generateKey({ name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
      return {
        badName: await g({ name: "AES" }, true, ["decrypt"]),
        badHash: await g({ name: "HMAC", hash: "MD5" }, "RED", []),
        emptyAlgorithm: await g({}, 7, ["sign"]),
        badLength: await g({ name: "AES-CBC", length: 129 }, false, []),
        badCurve: await g({ name: "ECDH", namedCurve: "Curve25519" }, true, ["deriveBits"]),
        badExponent: await g({ name: "RSA-OAEP", hash: "SHA-256", modulusLength: 1024, publicExponent: new Uint8Array([1, 0, 0]) }, true, ["decrypt"]),
        badUsages: await g({ name: "AES-GCM", length: 128 }, true, ["encrypt", "sign"]),
        emptyUsages: await g({ name: "HMAC", hash: "SHA-1", length: 160 }, true, []),
        importBadName: await timing(() => crypto.subtle.importKey("raw", new Uint8Array(16), "AES-XTS", true, ["encrypt"])),
        signBadName: await timing(() => crypto.subtle.sign("AES-GCM", hmacKey, new Uint8Array(1))),
        signWrongKey: await timing(() => crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, hmacKey, new Uint8Array(1))),
      };
    `,
    );
    expect(result).toEqual({
      badName: "at once NotSupportedError",
      badHash: "at once NotSupportedError",
      emptyAlgorithm: "at once TypeError",
      badLength: "at once OperationError",
      badCurve: "at once NotSupportedError",
      badExponent: "at once OperationError",
      badUsages: "late SyntaxError",
      emptyUsages: "late SyntaxError",
      importBadName: "at once NotSupportedError",
      signBadName: "at once NotSupportedError",
      signWrongKey: "late InvalidAccessError",
    });
  });

  it("imports and exports keys in raw, jwk, spki and pkcs8 as each algorithm allows", async () => {
    const result = (await inIsolate(
      runner,
      `
      const ec = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"]);
      const spki = await crypto.subtle.exportKey("spki", ec.publicKey);
      const pkcs8 = await crypto.subtle.exportKey("pkcs8", ec.privateKey);
      const raw = await crypto.subtle.exportKey("raw", ec.publicKey);
      const jwk = await crypto.subtle.exportKey("jwk", ec.privateKey);
      const fromPkcs8 = await crypto.subtle.importKey("pkcs8", pkcs8, { name: "ECDSA", namedCurve: "P-256" }, false, ["sign"]);
      const fromJwk = await crypto.subtle.importKey("jwk", jwk, { name: "ECDSA", namedCurve: "P-256" }, true, ["sign"]);
      const fromRaw = await crypto.subtle.importKey("raw", raw, { name: "ECDSA", namedCurve: "P-256" }, true, ["verify"]);
      const signature = await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, fromPkcs8, bytes("payload"));
      const aesJwk = { kty: "oct", k: "AAECAwQFBgcICQoLDA0ODw", alg: "A128GCM", ext: true, key_ops: ["encrypt", "decrypt"] };
      const aes = await crypto.subtle.importKey("jwk", aesJwk, "AES-GCM", true, ["encrypt"]);
      const i = (...args) => errorOf(() => crypto.subtle.importKey(...args));
      return {
        spki: hex(spki), rawLength: raw.byteLength, signature: hex(signature),
        jwk: [jwk.kty, jwk.crv, typeof jwk.d, jwk.ext, jwk.key_ops],
        reExported: (await crypto.subtle.exportKey("jwk", fromJwk)).d === jwk.d,
        rawVerifies: await crypto.subtle.verify({ name: "ECDSA", hash: "SHA-256" }, fromRaw, signature, bytes("payload")),
        aes: [aes.algorithm.length, hex(await crypto.subtle.exportKey("raw", aes))],
        errors: {
          aesBadLength: await i("raw", new Uint8Array(17), "AES-CBC", true, ["encrypt"]),
          hmacEmpty: await i("raw", new Uint8Array(0), { name: "HMAC", hash: "SHA-256" }, true, ["sign"]),
          jwkAsRaw: await i("raw", aesJwk, "AES-GCM", true, ["encrypt"]),
          bytesAsJwk: await i("jwk", new Uint8Array(16), "AES-GCM", true, ["encrypt"]),
          jwkWrongKty: await i("jwk", { ...aesJwk, kty: "EC" }, "AES-GCM", true, ["encrypt"]),
          jwkOpsMismatch: await i("jwk", aesJwk, "AES-GCM", true, ["wrapKey"]),
          badSpki: await i("spki", new Uint8Array([48, 3, 2, 1, 0]), { name: "ECDSA", namedCurve: "P-256" }, true, ["verify"]),
          spkiAsPrivate: await i("pkcs8", spki, { name: "ECDSA", namedCurve: "P-256" }, true, ["sign"]),
          curveMismatch: await i("spki", spki, { name: "ECDSA", namedCurve: "P-384" }, true, ["verify"]),
          unknownFormat: await i("pem", raw, { name: "ECDSA", namedCurve: "P-256" }, true, ["verify"]),
          rawSecretForEc: await i("raw", raw, { name: "ECDSA", namedCurve: "P-256" }, true, ["sign"]),
          hkdfExtractable: await i("raw", new Uint8Array(16), "HKDF", true, ["deriveBits"]),
          pkcs8Secret: await errorOf(() => crypto.subtle.exportKey("pkcs8", aes)),
          spkiOfPrivate: await errorOf(() => crypto.subtle.exportKey("spki", ec.privateKey)),
        },
      };
    `,
    )) as { spki: string; rawLength: number; signature: string } & Record<string, unknown>;
    // The key pair is real: node:crypto verifies the isolate's signature with the exported public key.
    const publicKey = createPublicKey({ key: Buffer.from(result.spki, "hex"), format: "der", type: "spki" });
    expect(
      nodeVerify(
        "sha256",
        Buffer.from("payload"),
        { key: publicKey, dsaEncoding: "ieee-p1363" },
        Buffer.from(result.signature, "hex"),
      ),
    ).toBe(true);
    expect(result.rawLength).toBe(65);
    expect(result).toMatchObject({
      jwk: ["EC", "P-256", "string", true, ["sign"]],
      reExported: true,
      rawVerifies: true,
      aes: [128, "000102030405060708090a0b0c0d0e0f"],
      errors: {
        aesBadLength: "DOMException:DataError",
        hmacEmpty: "DOMException:DataError",
        jwkAsRaw: "TypeError",
        bytesAsJwk: "TypeError",
        jwkWrongKty: "DOMException:DataError",
        jwkOpsMismatch: "DOMException:DataError",
        badSpki: "DOMException:DataError",
        spkiAsPrivate: "DOMException:DataError",
        curveMismatch: "DOMException:DataError",
        unknownFormat: "TypeError",
        rawSecretForEc: "DOMException:SyntaxError",
        hkdfExtractable: "DOMException:SyntaxError",
        pkcs8Secret: "DOMException:NotSupportedError",
        spkiOfPrivate: "DOMException:InvalidAccessError",
      },
    });
  });
});
