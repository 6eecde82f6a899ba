import { afterAll, describe, expect, it } from "vitest";
import { CRYPTO_LIMITS } from "../test/crypto-script.js";
import { bodyText, hostRequest, workerScript } from "../test/helpers.js";
import { createIsolateRunner } from "./index.js";

const runner = createIsolateRunner({ maxLimits: CRYPTO_LIMITS });
afterAll(() => runner.dispose());

/**
 * Times, inside the isolate: a first digest (core, synchronous host hash), a
 * first key operation (loads the crypto part, then a host round trip), a
 * second one, and a timer round trip to the host for scale.
 */
const BREAKDOWN = `export default { async fetch() {
  const now = () => performance.now();
  const data = new Uint8Array(1);
  const t0 = now(); await crypto.subtle.digest("SHA-256", data);
  const t1 = now(); const key = await crypto.subtle.importKey("raw", new Uint8Array(32), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const t2 = now(); await crypto.subtle.sign("HMAC", key, data);
  const t3 = now(); await new Promise((resolve) => setTimeout(resolve, 0));
  const t4 = now();
  return Response.json([t1 - t0, t2 - t1, t3 - t2, t4 - t3]);
} }`;
// Top-level code that touches the host makes the isolate evaluate the module per request.
const TOP_LEVEL_KEY = `const key = crypto.subtle.importKey("raw", new TextEncoder().encode("k"), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
export default { async fetch() {
  const signature = await crypto.subtle.sign("HMAC", await key, new TextEncoder().encode("m"));
  return new Response(String(signature.byteLength));
} }`;

describe("what WebCrypto adds to a request", () => {
  it("a first crypto.subtle use in a fresh isolate answers (its added latency is printed)", async () => {
    const prepared = await runner.prepare(workerScript(BREAKDOWN, { limits: CRYPTO_LIMITS }));
    const runs = 40;
    const sums = [0, 0, 0, 0];
    for (let i = 0; i < runs; i++) {
      const times = JSON.parse(bodyText(await runner.run(prepared, hostRequest()))) as number[];
      expect(times).toHaveLength(4);
      times.forEach((ms, at) => {
        sums[at] = (sums[at] ?? 0) + ms / runs;
      });
    }
    const [digest, firstKeyOp, secondKeyOp, timer] = sums.map((ms) => ms.toFixed(2));
    process.stdout.write(
      `figures: mean of ${runs} fresh isolates: first digest ${digest} ms; first key operation (importKey, loads the crypto part) ${firstKeyOp} ms; second (sign) ${secondKeyOp} ms; a setTimeout(0) round trip to the host ${timer} ms\n`,
    );
  });

  it("a key imported by the module's top-level code can be used by the fetch handler", async () => {
    const result = await runner.run(
      await runner.prepare(workerScript(TOP_LEVEL_KEY, { limits: CRYPTO_LIMITS })),
      hostRequest(),
    );
    expect(bodyText(result)).toBe("32");
  });
});
