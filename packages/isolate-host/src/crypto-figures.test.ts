import { afterAll, describe, expect, it } from "vitest";
import { CRYPTO_LIMITS } from "../test/crypto-script.js";
import { bodyText, hostRequest, workerScript } from "../test/helpers.js";
import { createIsolateRunner } from "./index.js";

const runner = createIsolateRunner({ maxLimits: CRYPTO_LIMITS });
afterAll(() => runner.dispose());

/** Times, inside the isolate, loading the crypto part, a first and a second digest, and a timer round trip for scale. */
const BREAKDOWN = `export default { async fetch() {
  const now = () => performance.now();
  const t0 = now(); const subtle = crypto.subtle; const t1 = now();
  await subtle.digest("SHA-256", new Uint8Array(1)); const t2 = now();
  await subtle.digest("SHA-256", new Uint8Array(1)); const t3 = now();
  await new Promise((resolve) => setTimeout(resolve, 0)); const t4 = now();
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
    const [load, first, second, timer] = sums.map((ms) => ms.toFixed(2));
    process.stdout.write(
      `figures: first crypto.subtle use, mean of ${runs} fresh isolates: loading the crypto part ${load} ms, first digest ${first} ms, second digest ${second} ms (a setTimeout(0) round trip to the host: ${timer} ms)\n`,
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
