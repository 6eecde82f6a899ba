import { readFileSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { createIsolateRunner } from "../src/index.js";
import { bodyText, runSource } from "./helpers.js";

/**
 * Public conformance data (see fixtures/README.md) run inside a fresh isolate:
 * each test sends the whole fixture to one script, which reports every case's
 * result; the test compares them and prints the pass count.
 */
const runner = createIsolateRunner({ maxLimits: { cpuMs: 2_000, memoryMb: 128, wallMs: 30_000 } });
afterAll(() => runner.dispose());

const LIMITS = { cpuMs: 2_000, memoryMb: 128, wallMs: 30_000 };

function fixture<T>(path: string): T {
  return JSON.parse(readFileSync(new URL(`fixtures/${path}`, import.meta.url), "utf8")) as T;
}

/** Runs `script` (a function source taking the cases) over `cases` in one isolate and returns its results. */
async function inIsolate<T>(script: string, cases: unknown): Promise<T[]> {
  const result = await runSource(
    runner,
    `export default { async fetch(request) {
      const cases = await request.json();
      const run = ${script};
      return Response.json(cases.map((c) => { try { return run(c); } catch (e) { return "threw " + e.name; } }));
    } }`,
    { method: "POST", body: new TextEncoder().encode(JSON.stringify(cases)) },
    { limits: LIMITS },
  );
  return JSON.parse(bodyText(result)) as T[];
}

function report(name: string, passed: number, total: number): void {
  process.stdout.write(`conformance: ${name}: ${passed}/${total} passed\n`);
}

describe("conformance from public data", () => {
  it("URL parsing accepts and rejects exactly as WPT urltestdata says", async () => {
    const cases = fixture<Array<{ input: string; failure?: boolean }>>("wpt/urltestdata-validity.json");
    const parsed = await inIsolate<boolean>(
      `(c) => URL.canParse(c.input) && (new URL(c.input), true)`,
      cases,
    );
    const failures = cases.filter((c, i) => parsed[i] !== !c.failure).map((c) => c.input);
    report("WPT urltestdata (validity)", cases.length - failures.length, cases.length);
    expect(failures).toEqual([]);
  });

  it("URL setters change the URL as the URL standard's examples say", async () => {
    type SetterCase = { href: string; new_value: string; expected: Record<string, string> };
    const { setters } = fixture<{ setters: Record<string, SetterCase[]> }>("spec/url-setters.json");
    const cases = Object.entries(setters).flatMap(([setter, list]) => list.map((c) => ({ setter, ...c })));
    const results = await inIsolate<Record<string, string>>(
      `(c) => { const url = new URL(c.href); url[c.setter] = c.new_value;
        return Object.fromEntries(Object.keys(c.expected).map((k) => [k, url[k]])); }`,
      cases,
    );
    const failures = cases.filter((c, i) => JSON.stringify(results[i]) !== JSON.stringify(c.expected));
    report("URL setters (spec examples)", cases.length - failures.length, cases.length);
    expect(failures).toEqual([]);
  });

  it("atob and btoa follow forgiving-base64, InvalidCharacterError included", async () => {
    type Case = { input: string; output: number[] | string | null };
    const { atob, btoa } = fixture<{ atob: Case[]; btoa: Case[] }>("spec/base64.json");
    const decoded = await inIsolate<number[] | string>(
      `(c) => { try { return [...atob(c.input)].map((ch) => ch.charCodeAt(0)); }
        catch (e) { return e instanceof DOMException && e.name === "InvalidCharacterError" ? null : "wrong error " + e.name; } }`,
      atob,
    );
    const encoded = await inIsolate<string | null>(
      `(c) => { try { return btoa(c.input); }
        catch (e) { return e instanceof DOMException && e.name === "InvalidCharacterError" ? null : "wrong error " + e.name; } }`,
      btoa,
    );
    const failures = [
      ...atob.filter((c, i) => JSON.stringify(decoded[i]) !== JSON.stringify(c.output)),
      ...btoa.filter((c, i) => encoded[i] !== c.output),
    ];
    report("base64 (atob/btoa)", atob.length + btoa.length - failures.length, atob.length + btoa.length);
    expect(failures).toEqual([]);
  });
});
