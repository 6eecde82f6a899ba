import { afterEach, describe, expect, it } from "vitest";
import { isEdgeError } from "../../errors.js";
import { createModuleCheck, type ModuleCheck } from "./module-check.js";
import { validateSource } from "./validate-source.js";

const checks: ModuleCheck[] = [];
afterEach(async () => {
  for (const check of checks.splice(0)) await check.close();
});

function moduleCheck(): ModuleCheck {
  const check = createModuleCheck((error) => {
    throw error;
  });
  checks.push(check);
  return check;
}

/** esbuild's verdict alone (no quick check): true when it accepts the source. */
async function esbuildAccepts(source: string): Promise<boolean> {
  try {
    await validateSource("s", source, "js");
    return true;
  } catch (error) {
    if (isEdgeError(error) && error.code === "EDGE_INVALID_SCRIPT") return false;
    throw error;
  }
}

/** Sources where parsers tend to differ: early errors, strict mode, newer syntax. */
const TRICKY = [
  "const a = 1; a = 2; export default a",
  "label: label: ; export default 1",
  "export default 1; let x; var x;",
  "export default 1; class A { #a; m() { return this.#b } }",
  "export default 1; new.target",
  "export default 1; function f(a, a) {}",
  "export default 1; /(?<a>x)(?<a>y)/",
  "export default 1; /[/",
  "export default 1; 010",
  "export default 1; x?.y = 1",
  "export default 1; { using x = null }",
  "export default 1; class A { static { await; } }",
  "export default 1; eval = 1",
  "export default 1; ({ __proto__: 1, __proto__: 2 })",
  "export default 1; <div/>",
  "export default 1; @dec class A {}",
  "export default 1; return 1",
  "export default 1; yield 1",
  "export default 1; if (1) function f() {}",
  "export default 1; <!-- html",
  "export default 1; \\u0061wait: 1",
  "export default 1; x = /a/gg",
  "export default 1; class C { constructor() {} constructor() {} }",
  "export default 1; export default 2",
  "export default 1; const x = 1; export { y }",
  "const x = await Promise.resolve(1); export default x",
  "export { handler as default }; const handler = { fetch() {} }",
  "import('x'); export default 1",
  "export default 1; import.meta.url",
];

describe("the quick module check", () => {
  it("accepts a module with a default export and no imports", async () => {
    const check = moduleCheck();
    expect(await check.accepts("export default { fetch: () => new Response('hi') }")).toBe(true);
    expect(await check.accepts("const h = {}; export { h as default };")).toBe(true);
  });

  it("leaves to esbuild a syntax error, an import, CommonJS and a module without a default export", async () => {
    const check = moduleCheck();
    expect(await check.accepts("export default {")).toBe(false);
    expect(await check.accepts("import x from 'y'; export default x")).toBe(false);
    expect(await check.accepts("export * from 'y'; export default 1")).toBe(false);
    expect(await check.accepts("module.exports = { fetch() {} }")).toBe(false);
    expect(await check.accepts("export const fetch = () => 1;")).toBe(false);
  });

  it("never accepts a source that esbuild refuses", async () => {
    const check = moduleCheck();
    const verdicts = await Promise.all(
      TRICKY.map(async (source) => ({
        source,
        quick: await check.accepts(source),
        esbuild: await esbuildAccepts(source),
      })),
    );
    expect(verdicts.filter((v) => v.quick && !v.esbuild)).toEqual([]);
    // The check does take the quick path for most valid sources.
    expect(verdicts.filter((v) => v.quick).length).toBeGreaterThanOrEqual(6);
  });

  it("does not run the module it checks", async () => {
    const check = moduleCheck();
    const source = "globalThis.ran = true; export default { ran: globalThis.ran }; while (true) {}";
    // A module that would never finish evaluating is answered at once: it is only parsed and linked.
    expect(await check.accepts(source)).toBe(true);
  });

  it("answers false once closed, so esbuild checks instead", async () => {
    const check = moduleCheck();
    expect(await check.accepts("export default 1")).toBe(true);
    await check.close();
    expect(await check.accepts("export default 1")).toBe(false);
  });
});
