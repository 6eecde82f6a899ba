/**
 * JWTs with jose: HS256 with a shared secret; ES256, EdDSA and RS256 with
 * key pairs generated in the request. Each signs a token, verifies it, and
 * checks that a token with a changed payload is refused.
 */
import { generateKeyPair, jwtVerify, SignJWT } from "jose";

const ALGORITHMS = new Set(["HS256", "ES256", "EdDSA", "RS256"]);

async function roundTrip(alg: string, secret: string): Promise<Record<string, unknown>> {
  const { privateKey, publicKey } =
    alg === "HS256"
      ? { privateKey: new TextEncoder().encode(secret), publicKey: new TextEncoder().encode(secret) }
      : await generateKeyPair(alg, alg === "RS256" ? { modulusLength: 2048 } : {});
  const token = await new SignJWT({ scope: "read" })
    .setProtectedHeader({ alg })
    .setSubject("user-1")
    .setIssuer("edge-tests")
    .setExpirationTime("5m")
    .sign(privateKey);
  const { payload, protectedHeader } = await jwtVerify(token, publicKey, { issuer: "edge-tests" });
  const [head, , signature] = token.split(".");
  const forged = `${head}.${btoa(JSON.stringify({ ...payload, scope: "write" }))
    .replace(/=+$/, "")
    .replace(/\+/g, "-")
    .replace(/\//g, "_")}.${signature}`;
  const refused = await jwtVerify(forged, publicKey).then(
    () => null,
    (err: { code?: string }) => err.code ?? "refused",
  );
  return {
    alg: protectedHeader.alg,
    sub: payload.sub,
    scope: payload.scope,
    parts: token.split(".").length,
    refused,
  };
}

export default {
  async fetch(request: Request, env: { SECRET: string }): Promise<Response> {
    const alg = new URL(request.url).pathname.slice(1);
    if (!ALGORITHMS.has(alg)) return new Response("unknown algorithm", { status: 404 });
    return Response.json(await roundTrip(alg, env.SECRET));
  },
};
