import { createCipheriv, hkdfSync, pbkdf2Sync } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { CRYPTO_LIMITS, inIsolate } from "../test/crypto-script.js";
import { createIsolateRunner } from "./index.js";

const runner = createIsolateRunner({ maxLimits: CRYPTO_LIMITS });
const threaded = createIsolateRunner({ maxLimits: CRYPTO_LIMITS, threads: 1 });
afterAll(() => Promise.all([runner.dispose(), threaded.dispose()]));

const KEY_HEX = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
const IV_HEX = "0f0e0d0c0b0a09080706050403020100";

describe("SubtleCrypto operations", () => {
  it("AES-GCM, AES-CBC and AES-CTR encrypt as node:crypto does and decrypt back; a bad tag or length is OperationError", async () => {
    const result = (await inIsolate(
      runner,
      `
      const fromHex = (h) => new Uint8Array(h.match(/../g).map((b) => parseInt(b, 16)));
      const raw = fromHex("${KEY_HEX}"), iv = fromHex("${IV_HEX}");
      const gcm = await crypto.subtle.importKey("raw", raw, "AES-GCM", false, ["encrypt", "decrypt"]);
      const cbc = await crypto.subtle.importKey("raw", raw, { name: "AES-CBC" }, false, ["encrypt", "decrypt"]);
      const ctr = await crypto.subtle.importKey("raw", raw, { name: "AES-CTR" }, false, ["encrypt", "decrypt"]);
      const gcmParams = { name: "AES-GCM", iv: iv.subarray(0, 12), additionalData: bytes("aad"), tagLength: 128 };
      const sealed = await crypto.subtle.encrypt(gcmParams, gcm, bytes("attack at dawn"));
      const tampered = new Uint8Array(sealed.slice(0)); tampered[0] ^= 1;
      const cbcSealed = await crypto.subtle.encrypt({ name: "AES-CBC", iv }, cbc, bytes("attack at dawn"));
      const ctrSealed = await crypto.subtle.encrypt({ name: "AES-CTR", counter: iv, length: 64 }, ctr, bytes("attack at dawn"));
      const text = (b) => new TextDecoder().decode(b);
      return {
        gcm: hex(sealed), cbc: hex(cbcSealed), ctr: hex(ctrSealed),
        opened: [text(await crypto.subtle.decrypt(gcmParams, gcm, sealed)), text(await crypto.subtle.decrypt({ name: "AES-CBC", iv }, cbc, cbcSealed)),
          text(await crypto.subtle.decrypt({ name: "AES-CTR", counter: iv, length: 64 }, ctr, ctrSealed))],
        errors: {
          tagMismatch: await errorOf(() => crypto.subtle.decrypt(gcmParams, gcm, tampered)),
          wrongAad: await errorOf(() => crypto.subtle.decrypt({ ...gcmParams, additionalData: bytes("other") }, gcm, sealed)),
          badTagLength: await errorOf(() => crypto.subtle.encrypt({ ...gcmParams, tagLength: 24 }, gcm, bytes("x"))),
          cbcBadIv: await errorOf(() => crypto.subtle.encrypt({ name: "AES-CBC", iv: iv.subarray(0, 8) }, cbc, bytes("x"))),
          cbcBadPadding: await errorOf(() => crypto.subtle.decrypt({ name: "AES-CBC", iv }, cbc, new Uint8Array(16))),
          ctrBadLength: await errorOf(() => crypto.subtle.encrypt({ name: "AES-CTR", counter: iv, length: 0 }, ctr, bytes("x"))),
          missingIv: await errorOf(() => crypto.subtle.encrypt({ name: "AES-GCM" }, gcm, bytes("x"))),
          ivNotBytes: await errorOf(() => crypto.subtle.encrypt({ name: "AES-GCM", iv: "123456789012" }, gcm, bytes("x"))),
          dataNotBytes: await errorOf(() => crypto.subtle.encrypt(gcmParams, gcm, "plain text")),
          wrongAlgorithmForKey: await errorOf(() => crypto.subtle.encrypt({ name: "AES-CBC", iv }, gcm, bytes("x"))),
          keyNotAKey: await errorOf(() => crypto.subtle.encrypt(gcmParams, raw, bytes("x"))),
        },
      };
    `,
    )) as { gcm: string; cbc: string; ctr: string } & Record<string, unknown>;
    const key = Buffer.from(KEY_HEX, "hex");
    const iv = Buffer.from(IV_HEX, "hex");
    const gcm = createCipheriv("aes-256-gcm", key, iv.subarray(0, 12));
    gcm.setAAD(Buffer.from("aad"));
    const gcmExpected = Buffer.concat([gcm.update("attack at dawn"), gcm.final(), gcm.getAuthTag()]);
    const cbc = createCipheriv("aes-256-cbc", key, iv);
    const ctr = createCipheriv("aes-256-ctr", key, iv);
    expect(result.gcm).toBe(gcmExpected.toString("hex"));
    expect(result.cbc).toBe(Buffer.concat([cbc.update("attack at dawn"), cbc.final()]).toString("hex"));
    expect(result.ctr).toBe(Buffer.concat([ctr.update("attack at dawn"), ctr.final()]).toString("hex"));
    expect(result).toMatchObject({
      opened: ["attack at dawn", "attack at dawn", "attack at dawn"],
      errors: {
        tagMismatch: "DOMException:OperationError",
        wrongAad: "DOMException:OperationError",
        badTagLength: "DOMException:OperationError",
        cbcBadIv: "DOMException:OperationError",
        cbcBadPadding: "DOMException:OperationError",
        ctrBadLength: "DOMException:OperationError",
        missingIv: "TypeError",
        ivNotBytes: "TypeError",
        dataNotBytes: "TypeError",
        wrongAlgorithmForKey: "DOMException:InvalidAccessError",
        keyNotAKey: "TypeError",
      },
    });
  });

  it("ECDSA on P-256, P-384 and P-521 signs and verifies; the wrong usage or key algorithm is InvalidAccessError", async () => {
    const result = await inIsolate(
      runner,
      `
      const out = {};
      for (const [namedCurve, hash, size] of [["P-256", "SHA-256", 64], ["P-384", "SHA-384", 96], ["P-521", "SHA-512", 132]]) {
        const { publicKey, privateKey } = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve }, false, ["sign", "verify"]);
        const signature = await crypto.subtle.sign({ name: "ECDSA", hash }, privateKey, bytes("message"));
        const altered = new Uint8Array(signature.slice(0)); altered[5] ^= 0xff;
        out[namedCurve] = [signature.byteLength === size,
          await crypto.subtle.verify({ name: "ECDSA", hash }, publicKey, signature, bytes("message")),
          await crypto.subtle.verify({ name: "ECDSA", hash }, publicKey, signature, bytes("messagE")),
          await crypto.subtle.verify({ name: "ECDSA", hash }, publicKey, altered, bytes("message"))];
      }
      const ecdsa = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["sign", "verify"]);
      const ecdh = await crypto.subtle.generateKey({ name: "ECDH", namedCurve: "P-256" }, false, ["deriveBits"]);
      out.errors = {
        signWithPublic: await errorOf(() => crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, ecdsa.publicKey, bytes("m"))),
        verifyWithPrivate: await errorOf(() => crypto.subtle.verify({ name: "ECDSA", hash: "SHA-256" }, ecdsa.privateKey, new Uint8Array(64), bytes("m"))),
        ecdhKeyForEcdsa: await errorOf(() => crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, ecdh.privateKey, bytes("m"))),
        missingHash: await errorOf(() => crypto.subtle.sign({ name: "ECDSA" }, ecdsa.privateKey, bytes("m"))),
        unknownHash: await errorOf(() => crypto.subtle.sign({ name: "ECDSA", hash: "SHA-3" }, ecdsa.privateKey, bytes("m"))),
        tooFewArguments: await errorOf(() => crypto.subtle.verify({ name: "ECDSA", hash: "SHA-256" }, ecdsa.publicKey, new Uint8Array(64))),
      };
      return out;
    `,
    );
    expect(result).toEqual({
      "P-256": [true, true, false, false],
      "P-384": [true, true, false, false],
      "P-521": [true, true, false, false],
      errors: {
        signWithPublic: "DOMException:InvalidAccessError",
        verifyWithPrivate: "DOMException:InvalidAccessError",
        ecdhKeyForEcdsa: "DOMException:InvalidAccessError",
        missingHash: "TypeError",
        unknownHash: "DOMException:NotSupportedError",
        tooFewArguments: "TypeError",
      },
    });
  });

  it("RSASSA-PKCS1-v1_5, RSA-PSS, RSA-OAEP and Ed25519 sign, verify, encrypt and decrypt", async () => {
    const result = await inIsolate(
      runner,
      `
      const publicExponent = new Uint8Array([1, 0, 1]);
      const pkcs = await crypto.subtle.generateKey({ name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent, hash: "SHA-256" }, false, ["sign", "verify"]);
      const pss = await crypto.subtle.generateKey({ name: "RSA-PSS", modulusLength: 2048, publicExponent, hash: "SHA-384" }, false, ["sign", "verify"]);
      const oaep = await crypto.subtle.generateKey({ name: "RSA-OAEP", modulusLength: 2048, publicExponent, hash: "SHA-256" }, false, ["encrypt", "decrypt"]);
      const ed = await crypto.subtle.generateKey("Ed25519", false, ["sign", "verify"]);
      const pkcsSig = await crypto.subtle.sign("RSASSA-PKCS1-v1_5", pkcs.privateKey, bytes("m"));
      const pssSig = await crypto.subtle.sign({ name: "RSA-PSS", saltLength: 48 }, pss.privateKey, bytes("m"));
      const edSig = await crypto.subtle.sign({ name: "Ed25519" }, ed.privateKey, bytes("m"));
      const sealed = await crypto.subtle.encrypt({ name: "RSA-OAEP", label: bytes("l") }, oaep.publicKey, bytes("secret"));
      return {
        pkcs: [pkcsSig.byteLength, await crypto.subtle.verify("RSASSA-PKCS1-v1_5", pkcs.publicKey, pkcsSig, bytes("m"))],
        pss: [await crypto.subtle.verify({ name: "RSA-PSS", saltLength: 48 }, pss.publicKey, pssSig, bytes("m")),
          await crypto.subtle.verify({ name: "RSA-PSS", saltLength: 48 }, pss.publicKey, pssSig, bytes("n"))],
        ed: [edSig.byteLength, await crypto.subtle.verify("Ed25519", ed.publicKey, edSig, bytes("m"))],
        oaep: new TextDecoder().decode(await crypto.subtle.decrypt({ name: "RSA-OAEP", label: bytes("l") }, oaep.privateKey, sealed)),
        errors: {
          oaepWrongLabel: await errorOf(() => crypto.subtle.decrypt({ name: "RSA-OAEP", label: bytes("x") }, oaep.privateKey, sealed)),
          oaepTooLong: await errorOf(() => crypto.subtle.encrypt({ name: "RSA-OAEP" }, oaep.publicKey, new Uint8Array(300))),
          pssMissingSalt: await errorOf(() => crypto.subtle.sign({ name: "RSA-PSS" }, pss.privateKey, bytes("m"))),
        },
      };
    `,
    );
    expect(result).toEqual({
      pkcs: [256, true],
      pss: [true, false],
      ed: [64, true],
      oaep: "secret",
      errors: {
        oaepWrongLabel: "DOMException:OperationError",
        oaepTooLong: "DOMException:OperationError",
        pssMissingSalt: "TypeError",
      },
    });
  });

  it("ECDH, X25519, HKDF and PBKDF2 derive the same bits as node:crypto; deriveKey makes usable keys", async () => {
    const result = (await inIsolate(
      runner,
      `
      const a = await crypto.subtle.generateKey({ name: "ECDH", namedCurve: "P-256" }, false, ["deriveBits", "deriveKey"]);
      const b = await crypto.subtle.generateKey({ name: "ECDH", namedCurve: "P-256" }, false, ["deriveBits"]);
      const ab = await crypto.subtle.deriveBits({ name: "ECDH", public: b.publicKey }, a.privateKey, 256);
      const ba = await crypto.subtle.deriveBits({ name: "ECDH", public: a.publicKey }, b.privateKey, 256);
      const x1 = await crypto.subtle.generateKey({ name: "X25519" }, false, ["deriveBits"]);
      const x2 = await crypto.subtle.generateKey({ name: "X25519" }, false, ["deriveBits"]);
      const x12 = await crypto.subtle.deriveBits({ name: "X25519", public: x2.publicKey }, x1.privateKey);
      const x21 = await crypto.subtle.deriveBits({ name: "X25519", public: x1.publicKey }, x2.privateKey, null);
      const aes = await crypto.subtle.deriveKey({ name: "ECDH", public: b.publicKey }, a.privateKey, { name: "AES-GCM", length: 256 }, true, ["encrypt"]);
      const secret = await crypto.subtle.importKey("raw", bytes("input key material"), "HKDF", false, ["deriveBits", "deriveKey"]);
      const hkdf = await crypto.subtle.deriveBits({ name: "HKDF", hash: "SHA-256", salt: bytes("salt"), info: bytes("info") }, secret, 256);
      const password = await crypto.subtle.importKey("raw", bytes("password"), { name: "PBKDF2" }, false, ["deriveBits", "deriveKey"]);
      const pbkdf2 = await crypto.subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt: bytes("salt"), iterations: 1000 }, password, 256);
      const hmac = await crypto.subtle.deriveKey({ name: "PBKDF2", hash: "SHA-256", salt: bytes("salt"), iterations: 1000 }, password, { name: "HMAC", hash: "SHA-256", length: 256 }, true, ["sign"]);
      return {
        ecdh: hex(ab) === hex(ba) && ab.byteLength === 32, x25519: hex(x12) === hex(x21) && x12.byteLength === 32,
        aes: [aes.algorithm.name, aes.algorithm.length, (await crypto.subtle.exportKey("raw", aes)).byteLength],
        hkdf: hex(hkdf), pbkdf2: hex(pbkdf2), hmacKey: hex(await crypto.subtle.exportKey("raw", hmac)),
        errors: {
          publicNotAKey: await errorOf(() => crypto.subtle.deriveBits({ name: "ECDH", public: { type: "public" } }, a.privateKey, 256)),
          publicWrongCurveAlg: await errorOf(() => crypto.subtle.deriveBits({ name: "ECDH", public: x1.publicKey }, a.privateKey, 256)),
          tooManyIterations: await errorOf(() => crypto.subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt: bytes("s"), iterations: 100001 }, password, 256)),
          zeroIterations: await errorOf(() => crypto.subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt: bytes("s"), iterations: 0 }, password, 256)),
          hkdfNullLength: await errorOf(() => crypto.subtle.deriveBits({ name: "HKDF", hash: "SHA-256", salt: bytes("s"), info: bytes("i") }, secret, null)),
          pbkdf2OddLength: await errorOf(() => crypto.subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt: bytes("s"), iterations: 1 }, password, 12)),
          noDeriveUsage: await errorOf(() => crypto.subtle.deriveBits({ name: "ECDH", public: a.publicKey }, b.publicKey, 256)),
        },
      };
    `,
    )) as Record<string, unknown>;
    expect(result).toMatchObject({
      ecdh: true,
      x25519: true,
      aes: ["AES-GCM", 256, 32],
      hkdf: Buffer.from(hkdfSync("sha256", "input key material", "salt", "info", 32)).toString("hex"),
      pbkdf2: pbkdf2Sync("password", "salt", 1000, 32, "sha256").toString("hex"),
      hmacKey: pbkdf2Sync("password", "salt", 1000, 32, "sha256").toString("hex"),
      errors: {
        publicNotAKey: "TypeError",
        publicWrongCurveAlg: "DOMException:InvalidAccessError",
        tooManyIterations: "DOMException:NotSupportedError",
        zeroIterations: "DOMException:OperationError",
        hkdfNullLength: "DOMException:OperationError",
        pbkdf2OddLength: "DOMException:OperationError",
        noDeriveUsage: "DOMException:InvalidAccessError",
      },
    });
  });

  it("wrapKey and unwrapKey move keys under AES-KW, AES-GCM and RSA-OAEP, in raw and jwk", async () => {
    const result = await inIsolate(
      runner,
      `
      const kek = await crypto.subtle.generateKey({ name: "AES-KW", length: 256 }, false, ["wrapKey", "unwrapKey"]);
      const gcmKek = await crypto.subtle.generateKey({ name: "AES-GCM", length: 128 }, false, ["wrapKey", "unwrapKey"]);
      const rsa = await crypto.subtle.generateKey({ name: "RSA-OAEP", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" }, false, ["wrapKey", "unwrapKey"]);
      const inner = await crypto.subtle.importKey("raw", new Uint8Array(32).fill(7), "AES-GCM", true, ["encrypt", "decrypt"]);
      const hmac = await crypto.subtle.generateKey({ name: "HMAC", hash: "SHA-256" }, true, ["sign"]);
      const wrapped = await crypto.subtle.wrapKey("raw", inner, kek, "AES-KW");
      const unwrapped = await crypto.subtle.unwrapKey("raw", wrapped, kek, "AES-KW", "AES-GCM", true, ["decrypt"]);
      const iv = new Uint8Array(12);
      const wrappedJwk = await crypto.subtle.wrapKey("jwk", hmac, gcmKek, { name: "AES-GCM", iv });
      const unwrappedJwk = await crypto.subtle.unwrapKey("jwk", wrappedJwk, gcmKek, { name: "AES-GCM", iv }, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
      const wrappedRsa = await crypto.subtle.wrapKey("raw", inner, rsa.publicKey, { name: "RSA-OAEP" });
      const unwrappedRsa = await crypto.subtle.unwrapKey("raw", wrappedRsa, rsa.privateKey, { name: "RSA-OAEP" }, "AES-GCM", false, ["encrypt"]);
      const notExtractable = await crypto.subtle.importKey("raw", new Uint8Array(16), "AES-GCM", false, ["encrypt"]);
      const corrupted = new Uint8Array(wrapped.slice(0)); corrupted[3] ^= 1;
      return {
        kw: [wrapped.byteLength, hex(await crypto.subtle.exportKey("raw", unwrapped)), unwrapped.usages],
        jwk: [unwrappedJwk.algorithm.name, unwrappedJwk.extractable,
          hex(await crypto.subtle.sign("HMAC", unwrappedJwk, bytes("m"))) === hex(await crypto.subtle.sign("HMAC", hmac, bytes("m")))],
        rsa: [unwrappedRsa.algorithm.name, unwrappedRsa.type],
        errors: {
          notExtractable: await errorOf(() => crypto.subtle.wrapKey("raw", notExtractable, kek, "AES-KW")),
          noWrapUsage: await errorOf(() => crypto.subtle.wrapKey("raw", inner, inner, { name: "AES-GCM", iv })),
          kwCorrupted: await errorOf(() => crypto.subtle.unwrapKey("raw", corrupted, kek, "AES-KW", "AES-GCM", true, ["decrypt"])),
          kwNotMultipleOf8: await errorOf(() => crypto.subtle.wrapKey("raw", hmac, kek, "AES-KW")),
        },
      };
    `,
    );
    expect(result).toMatchObject({
      kw: [40, "07".repeat(32), ["decrypt"]],
      jwk: ["HMAC", false, true],
      rsa: ["AES-GCM", "secret"],
      errors: {
        notExtractable: "DOMException:InvalidAccessError",
        noWrapUsage: "DOMException:InvalidAccessError",
        kwCorrupted: "DOMException:OperationError",
        kwNotMultipleOf8: "resolved",
      },
    });
  });

  it("runs the same when the isolate is on a worker thread", async () => {
    const result = await inIsolate(
      threaded,
      `
      const { publicKey, privateKey } = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["sign", "verify"]);
      const signature = await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, privateKey, bytes("m"));
      const key = await crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, false, ["encrypt", "decrypt"]);
      const iv = crypto.getRandomValues(new Uint8Array(12));
      const sealed = await crypto.subtle.encrypt({ name: "AES-GCM", iv }, key, bytes("hi"));
      return [await crypto.subtle.verify({ name: "ECDSA", hash: "SHA-256" }, publicKey, signature, bytes("m")),
        new TextDecoder().decode(await crypto.subtle.decrypt({ name: "AES-GCM", iv }, key, sealed)),
        hex(await crypto.subtle.digest("SHA-1", bytes("abc")))];
    `,
    );
    expect(result).toEqual([true, "hi", "a9993e364706816aba3e25717850c26c9cd0d89d"]);
  });
});
