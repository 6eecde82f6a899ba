import type { HostRequest, IsolateRunner, ScriptLimits } from "../src/index.js";
import { bodyText, runSource } from "./helpers.js";

/** CPU room for spec tests: CPU limits are not what they test, and the machine may be loaded. */
export const ROOMY_LIMITS: ScriptLimits = { cpuMs: 1000, memoryMb: 64, wallMs: 5_000 };

/**
 * Runs `body` (the statements of an async function, with `request` in scope)
 * as a script's fetch handler in a fresh isolate and returns what it returned,
 * through JSON. A thrown error comes back as { thrown: name, message }.
 */
export async function scriptValue(
  runner: IsolateRunner,
  body: string,
  request: Partial<HostRequest> = {},
): Promise<unknown> {
  const source = `export default { async fetch(request) {
    try {
      const value = await (async () => { ${body}\n })();
      return new Response(JSON.stringify({ value }));
    } catch (err) {
      return new Response(JSON.stringify({ value: { thrown: err?.name, message: err?.message } }));
    }
  } };`;
  const result = await runSource(runner, source, request, { limits: ROOMY_LIMITS });
  return (JSON.parse(bodyText(result)) as { value: unknown }).value;
}

/** Statements that define `thrown(fn)`: the name of what fn throws (or rejects with), or "none". */
export const THROWN = `const thrown = async (fn) => { try { await fn(); return "none"; } catch (e) { return e?.name ?? String(e); } };`;
