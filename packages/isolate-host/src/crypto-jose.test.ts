import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { importJWK, jwtVerify } from "jose";
import { afterAll, describe, expect, it } from "vitest";
import { CRYPTO_LIMITS } from "../test/crypto-script.js";
import { bodyText, runSource } from "../test/helpers.js";
import { createIsolateRunner } from "./index.js";

const runner = createIsolateRunner({ maxLimits: CRYPTO_LIMITS });
afterAll(() => runner.dispose());

/** A Worker that uses jose, bundled with esbuild as wrangler would (the worker conditions first). */
const WORKER = `
import { SignJWT, jwtVerify, generateKeyPair, exportJWK, importJWK } from "jose";

export default {
  async fetch() {
    const results = {};
    for (const alg of ["ES256", "EdDSA", "RS256"]) {
      const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
      const token = await new SignJWT({ sub: "user-1", scope: "read" })
        .setProtectedHeader({ alg })
        .setIssuedAt()
        .setIssuer("edge")
        .setExpirationTime("5m")
        .sign(privateKey);
      const { payload, protectedHeader } = await jwtVerify(token, publicKey, { issuer: "edge" });
      const [head, body, signature] = token.split(".");
      const forged = head + "." + btoa(JSON.stringify({ sub: "admin" })).replace(/=+$/, "") + "." + signature;
      let forgedResult = "accepted";
      try { await jwtVerify(forged, publicKey); } catch (e) { forgedResult = e.code; }
      const reimported = await importJWK(await exportJWK(publicKey), alg);
      results[alg] = { token, jwk: await exportJWK(publicKey), sub: payload.sub, alg: protectedHeader.alg, forgedResult,
        reimported: (await jwtVerify(token, reimported)).payload.scope };
    }
    return Response.json(results);
  },
};
`;

async function bundle(source: string): Promise<string> {
  const result = await build({
    stdin: { contents: source, resolveDir: fileURLToPath(new URL("..", import.meta.url)), loader: "js" },
    bundle: true,
    format: "esm",
    platform: "browser",
    conditions: ["workerd", "worker", "browser"],
    write: false,
    logLevel: "silent",
  });
  return result.outputFiles[0]?.text ?? "";
}

describe("jose in a Worker", () => {
  it("signs and verifies ES256, EdDSA and RS256 JWTs that node's jose also accepts, and rejects a forged payload", async () => {
    const result = await runSource(runner, await bundle(WORKER), {}, { limits: CRYPTO_LIMITS });
    expect(result.response.status).toBe(200);
    type Entry = {
      token: string;
      jwk: Record<string, string>;
      sub: string;
      alg: string;
      forgedResult: string;
      reimported: string;
    };
    const tokens = JSON.parse(bodyText(result)) as Record<string, Entry>;
    for (const alg of ["ES256", "EdDSA", "RS256"]) {
      const entry = tokens[alg] as Entry;
      expect({
        sub: entry.sub,
        alg: entry.alg,
        forged: entry.forgedResult,
        reimported: entry.reimported,
      }).toEqual({
        sub: "user-1",
        alg,
        forged: "ERR_JWS_SIGNATURE_VERIFICATION_FAILED",
        reimported: "read",
      });
      // The isolate's keys and signatures are real: verified outside it.
      const { payload } = await jwtVerify(entry.token, await importJWK(entry.jwk, alg), { issuer: "edge" });
      expect(payload.sub).toBe("user-1");
    }
  });
});
