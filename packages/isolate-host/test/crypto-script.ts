import type { IsolateRunner } from "../src/index.js";
import { bodyText, runSource } from "./helpers.js";

/** CPU room for tests where CPU limits are not the point (RSA keygen is charged tens of ms). */
export const CRYPTO_LIMITS = { cpuMs: 5_000, memoryMb: 128, wallMs: 30_000 };

/** Script-side helpers the crypto tests' bodies use. */
const PRELUDE = `
const hex = (buffer) => [...new Uint8Array(buffer)].map((b) => b.toString(16).padStart(2, "0")).join("");
const bytes = (text) => new TextEncoder().encode(text);
const errorOf = async (work) => {
  try { await work(); return "resolved"; }
  catch (e) { return e instanceof DOMException ? "DOMException:" + e.name : e instanceof TypeError ? "TypeError" : "other:" + e?.name; }
};`;

/** Runs `body` (an async function body) in a fresh isolate and returns what it returns, through JSON. */
export async function inIsolate<T = unknown>(
  runner: IsolateRunner,
  body: string,
  request: { body?: string } = {},
): Promise<T> {
  const result = await runSource(
    runner,
    `${PRELUDE}
    export default { async fetch(request) { return Response.json(await (async () => { ${body} })()); } }`,
    request.body === undefined ? {} : { method: "POST", body: new TextEncoder().encode(request.body) },
    { limits: CRYPTO_LIMITS },
  );
  return JSON.parse(bodyText(result)) as T;
}
