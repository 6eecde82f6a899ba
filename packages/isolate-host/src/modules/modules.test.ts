import { build } from "esbuild";
import { afterAll, describe, expect, it } from "vitest";
import { bodyText, hostRequest, rejectionOf, workerScript } from "../../test/helpers.js";
import { createIsolateRunner, isRunError, type RunError, type ScriptModule } from "../index.js";

const runner = createIsolateRunner();
const threaded = createIsolateRunner({ threads: 1 });
afterAll(() => Promise.all([runner.dispose(), threaded.dispose()]));

const LIMITS = { cpuMs: 1_000, memoryMb: 64, wallMs: 10_000 };
const bytes = (text: string) => new TextEncoder().encode(text);
const esm = (name: string, source: string): ScriptModule => ({ name, type: "esm", content: bytes(source) });

/** `(module (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add))` */
const ADD_WASM = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x07, 0x01, 0x60, 0x02, 0x7f, 0x7f, 0x01, 0x7f, 0x03,
  0x02, 0x01, 0x00, 0x07, 0x07, 0x01, 0x03, 0x61, 0x64, 0x64, 0x00, 0x00, 0x0a, 0x09, 0x01, 0x07, 0x00, 0x20,
  0x00, 0x20, 0x01, 0x6a, 0x0b,
]);

async function prepareError(script: ReturnType<typeof workerScript>): Promise<RunError> {
  const err = await rejectionOf(runner.prepare(script));
  if (!isRunError(err)) throw err;
  return err;
}

describe("a version of several modules", () => {
  const main = `
    import { greet } from "./lib/greet.js";
    import banner from "banner.txt";
    import table from "./data/table.bin";
    import adder from "./add.wasm";
    export default {
      fetch() {
        const { add } = new WebAssembly.Instance(adder).exports;
        const view = new Uint8Array(table);
        return Response.json({ greeting: greet("edge"), banner, table: [...view], sum: add(40, 2) });
      },
    };`;
  const modules: ScriptModule[] = [
    esm("lib/greet.js", `import { PREFIX } from "../lib/prefix.js"; export const greet = (n) => PREFIX + n;`),
    esm("lib/prefix.js", `export const PREFIX = "hello, ";`),
    { name: "banner.txt", type: "text", content: bytes("héllo\n") },
    { name: "data/table.bin", type: "data", content: new Uint8Array([1, 2, 255]) },
    { name: "add.wasm", type: "wasm", content: ADD_WASM },
  ];

  for (const [label, which] of [
    ["on the calling thread", runner],
    ["on a worker thread", threaded],
  ] as const) {
    it(`links ES, text, data and Wasm modules by relative and bare names ${label}`, async () => {
      const prepared = await which.prepare(
        workerScript(main, { mainModule: "index.js", modules, limits: LIMITS }),
      );
      // Twice: the isolate built ahead of time after the first request links from the code caches.
      for (let i = 0; i < 2; i++) {
        const result = await which.run(prepared, hostRequest());
        expect(JSON.parse(bodyText(result))).toEqual({
          greeting: "hello, edge",
          banner: "héllo\n",
          table: [1, 2, 255],
          sum: 42,
        });
      }
    });
  }

  it("refuses an import no module of the version answers, naming the specifier and the importer", async () => {
    const err = await prepareError(
      workerScript(`import x from "./lib/missing.js"; export default { fetch: () => new Response(x) }`, {
        mainModule: "index.js",
        modules: [esm("lib/other.js", "export default 1;")],
      }),
    );
    expect(err.code).toBe("EDGE_COMPILE_ERROR");
    expect(err.message).toBe("Cannot resolve import './lib/missing.js' from index.js");
  });

  it("reports a syntax error in an imported module by module name, line and column", async () => {
    const err = await prepareError(
      workerScript(`import x from "./bad.js"; export default { fetch: () => new Response(x) }`, {
        mainModule: "index.js",
        modules: [esm("bad.js", "export default 1;\nconst = 2;")],
      }),
    );
    expect(err.code).toBe("EDGE_COMPILE_ERROR");
    expect(err.message).toMatch(/^SyntaxError: .+ at bad\.js:2:\d+$/);
  });

  it("refuses module names that escape the version or repeat", async () => {
    for (const modules of [
      [esm("../up.js", "export default 1;")],
      [esm("a.js", "export default 1;"), esm("a.js", "export default 2;")],
      [{ name: "x.js.map", type: "sourcemap", content: bytes("{}") } as ScriptModule],
    ]) {
      const err = await prepareError(
        workerScript(`export default { fetch: () => new Response("") }`, { mainModule: "index.js", modules }),
      );
      expect(err.code).toBe("EDGE_COMPILE_ERROR");
    }
  });
});

describe("stack traces of a script's exceptions", () => {
  it("name the module, line and column of each of the script's frames, without the runtime's", async () => {
    const source = `import { fail } from "./lib/fail.js";\nexport default {\n  fetch() {\n    return fail("boom");\n  },\n};`;
    const err = await rejectionOf(
      runner
        .prepare(
          workerScript(source, {
            mainModule: "index.js",
            modules: [esm("lib/fail.js", `export function fail(m) {\n  throw new TypeError(m);\n}`)],
          }),
        )
        .then((prepared) => runner.run(prepared, hostRequest())),
    );
    if (!isRunError(err)) throw err;
    expect(err.code).toBe("EDGE_SCRIPT_ERROR");
    expect(err.location).toBe("lib/fail.js:2:9");
    expect(err.scriptStack).toBe(
      ["TypeError: boom", "    at fail (lib/fail.js:2:9)", "    at Object.fetch (index.js:4:12)"].join("\n"),
    );
  });

  it("apply the version's source map: the original file, line and column", async () => {
    const app = [
      "interface Input { name: string }",
      "function check(input: Input): string {",
      '  if (input.name === "") throw new RangeError("empty name");',
      "  return input.name;",
      "}",
      "export default {",
      "  fetch(): Response {",
      '    return new Response(check({ name: "" }));',
      "  },",
      "};",
    ].join("\n");
    const out = await build({
      stdin: { contents: app, loader: "ts", sourcefile: "src/app.ts", resolveDir: "." },
      bundle: true,
      format: "esm",
      sourcemap: "external",
      outfile: "worker.js",
      write: false,
      logLevel: "silent",
    });
    const js = out.outputFiles.find((file) => file.path.endsWith("worker.js"))?.text ?? "";
    const map = out.outputFiles.find((file) => file.path.endsWith("worker.js.map"))?.text ?? "";
    const err = await rejectionOf(
      runner
        .prepare(
          workerScript(js, {
            mainModule: "worker.js",
            modules: [{ name: "worker.js.map", type: "sourcemap", content: bytes(map) }],
          }),
        )
        .then((prepared) => runner.run(prepared, hostRequest())),
    );
    if (!isRunError(err)) throw err;
    expect(err.message).toBe("RangeError: empty name");
    expect(err.location).toBe("src/app.ts:3:32");
    expect(err.scriptStack?.split("\n")).toEqual([
      "RangeError: empty name",
      "    at check (src/app.ts:3:32)",
      "    at Object.fetch (src/app.ts:8:25)",
    ]);
  });

  it("of top-level code are mapped too", async () => {
    const err = await prepareError(
      workerScript(`const x = 1;\nthrow new Error("at load " + x);\nexport default { fetch() {} }`, {
        mainModule: "app.js",
      }),
    );
    expect(err.code).toBe("EDGE_SCRIPT_ERROR");
    expect(err.location).toBe("app.js:2:7");
  });
});
