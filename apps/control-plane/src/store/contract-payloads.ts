import { expect, it } from "vitest";
import type { ContractContext } from "./contract.js";
import { sha256, version } from "./contract-helpers.js";

/**
 * The contract of what a version carries: vars, limits, sealed secrets and
 * sources come back exactly as they were put. Registered inside `storeContract`.
 */
export function payloadContract(c: ContractContext): void {
  it("round-trips vars and limits", async () => {
    const store = c.store();
    const vars = { API_URL: "https://example.com/?a=1&b=2", EMPTY: "", 'quote"key': "line\nbreak" };
    const limits = { cpuMs: 7, memoryMb: 64, wallMs: 12_345 };
    const put = await store.putVersion("cfg", version("x", { vars, limits }));
    expect(put.vars).toEqual(vars);
    expect(put.limits).toEqual(limits);
    expect((await store.getActive("cfg"))?.vars).toEqual(vars);
    expect((await store.getVersion("cfg", 1))?.limits).toEqual(limits);
    expect((await store.snapshot()).scripts[0]).toMatchObject({ vars, limits });

    await store.putVersion("cfg", version("y", { vars: {} }));
    expect((await store.getActive("cfg"))?.vars).toEqual({});
  });

  it("keeps a version's sealed secrets and TypeScript source with it, everywhere it is read", async () => {
    const store = c.store();
    const secrets = { API_KEY: "v1:c2VhbGVk", 'odd"name': "v1:bGluZQpicmVhaw==" };
    const tsSource = "export default { fetch(): Response { return new Response('é') } };\n";
    const put = await store.putVersion("typed", version("compiled", { secrets, tsSource }), 1_000);
    expect(put).toMatchObject({ secrets, tsSource, source: "compiled" });
    expect(await store.getActive("typed")).toMatchObject({ secrets, tsSource });
    expect(await store.getVersion("typed", 1)).toMatchObject({ secrets, tsSource });
    expect((await store.listVersions("typed"))[0]?.secrets).toEqual(secrets);
    expect((await store.snapshot()).scripts[0]).toMatchObject({ secrets, tsSource });

    // A later JavaScript version without secrets, rolled out: each version keeps its own settings.
    await store.putVersion("typed", version("plain"), 2_000, { activate: false });
    await store.startRollout("typed", { version: 2, percent: 10 }, 3_000);
    const snap = await store.snapshot();
    expect(snap.scripts[0]).toMatchObject({ version: 1, secrets, tsSource });
    expect(snap.rollouts[0]?.target).toMatchObject({ version: 2, secrets: {}, tsSource: null });
    expect(await store.getVersion("typed", 2)).toMatchObject({ secrets: {}, tsSource: null });
  });

  it("keeps a multi-module version's modules, bytes intact, everywhere it is read and when settings change", async () => {
    const store = c.store();
    const modules = {
      main: "index.js",
      modules: [
        {
          name: "lib/util.js",
          type: "esm" as const,
          content: new TextEncoder().encode("export const é = 1;"),
        },
        {
          name: "add.wasm",
          type: "wasm" as const,
          content: new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 255]),
        },
        { name: "index.js.map", type: "sourcemap" as const, content: new TextEncoder().encode("{}") },
      ],
    };
    const put = await store.putVersion("multi", version("main", { modules }));
    expect(put.modules).toEqual(modules);
    expect((await store.getActive("multi"))?.modules).toEqual(modules);
    expect((await store.getVersion("multi", 1))?.modules).toEqual(modules);
    expect((await store.snapshot()).scripts[0]?.modules).toEqual(modules);
    await store.putVersion("multi", version("single"));
    expect((await store.getActive("multi"))?.modules).toBeNull();
  });

  it("round-trips a 1 MiB source full of non-ASCII characters unchanged", async () => {
    const store = c.store();
    const source = bigUnicodeSource(1024 * 1024);
    await store.putVersion("big", version(source));
    const back = await store.getActive("big");
    // Compared as booleans so a failure does not print a megabyte.
    expect(back?.source.length).toBe(source.length);
    expect(back?.source === source).toBe(true);
    expect(back?.sha256).toBe(sha256(source));
    expect((await store.snapshot()).scripts[0]?.source === source).toBe(true);
  });
}

/** At least `bytes` of UTF-8 mixing 2-, 3- and 4-byte characters (astral ones are surrogate pairs in JS). */
function bigUnicodeSource(bytes: number): string {
  const line = "// héllo wörld 你好世界 🚀🌍 ∑∞ — ünïcödé\nexport const x = '🦀';\n";
  const lineBytes = Buffer.byteLength(line);
  return line.repeat(Math.ceil(bytes / lineBytes));
}
