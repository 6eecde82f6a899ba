import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bundleWorker, EXIT } from "../src/index.js";
import { edgectl, startApi, TOKEN } from "./support.js";

/**
 * A fixture app as a user has it: an entry in TypeScript importing a package
 * from node_modules (whose `exports` has a `workerd` condition beside a Node
 * one) and a text file.
 */
function writeFixture(dir: string): void {
  const pkg = join(dir, "node_modules", "greeter");
  mkdirSync(join(pkg, "dist"), { recursive: true });
  writeFileSync(
    join(pkg, "package.json"),
    JSON.stringify({
      name: "greeter",
      version: "1.0.0",
      type: "module",
      exports: { ".": { workerd: "./dist/workerd.js", node: "./dist/node.js", default: "./dist/node.js" } },
    }),
  );
  writeFileSync(
    join(pkg, "dist", "workerd.js"),
    'export const greet = (who) => "hello " + who + " from workerd";\n',
  );
  writeFileSync(join(pkg, "dist", "node.js"), 'import "node:fs"; export const greet = () => "node";\n');
  mkdirSync(join(dir, "src"));
  writeFileSync(join(dir, "src", "banner.txt"), "banner!");
  writeFileSync(
    join(dir, "src", "app.ts"),
    [
      'import { greet } from "greeter";',
      'import banner from "./banner.txt";',
      "",
      "export default {",
      "  fetch(request: Request): Response {",
      '    if (new URL(request.url).pathname === "/fail") throw new Error("failing on purpose");',
      '    return new Response(greet("edge") + " " + banner);',
      "  },",
      "};",
      "",
    ].join("\n"),
  );
  writeFileSync(
    join(dir, "src", "broken.ts"),
    'import { nope } from "not-installed";\nexport default { fetch: nope };\n',
  );
}

describe("bundling a Worker the way wrangler does", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "edgectl-bundle-"));
    writeFixture(dir);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("bundles the entry and its node_modules import (workerd condition) into one ES module with a source map and the text module", async () => {
    const bundle = await bundleWorker(join(dir, "src", "app.ts"));
    expect(bundle.main).toBe("app.js");
    expect(bundle.modules.map((m) => [m.name, m.type])).toEqual([
      ["app.js", "esm"],
      ["app.js.map", "sourcemap"],
      ["banner.txt", "text"],
    ]);
    const code = new TextDecoder().decode(bundle.modules[0]?.content);
    expect(code).toContain("from workerd");
    expect(code).not.toContain("node:fs");
    expect(code).toMatch(/import banner from "\.\/banner\.txt"/);
    expect(code).not.toMatch(/: Request|: Response/);
    const map = JSON.parse(new TextDecoder().decode(bundle.modules[1]?.content));
    expect(map.sources).toEqual(["../node_modules/greeter/dist/workerd.js", "app.ts"]);
    expect(map.sourcesContent).toBeUndefined();
    expect(new TextDecoder().decode(bundle.modules[2]?.content)).toBe("banner!");
  });

  it("attaches .wasm files that packages import as Wasm modules, two of the same name apart", async () => {
    const wasm = Buffer.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
    for (const pkg of ["wasm-a", "wasm-b"]) {
      const root = join(dir, "node_modules", pkg);
      mkdirSync(root, { recursive: true });
      writeFileSync(
        join(root, "package.json"),
        JSON.stringify({ name: pkg, type: "module", main: "index.js" }),
      );
      writeFileSync(join(root, "index.js"), 'import m from "./lib.wasm"; export default m;\n');
      writeFileSync(join(root, "lib.wasm"), wasm);
    }
    writeFileSync(
      join(dir, "src", "wasm.js"),
      'import a from "wasm-a"; import b from "wasm-b";\nexport default { fetch: () => new Response(String(a !== b)) };\n',
    );
    const bundle = await bundleWorker(join(dir, "src", "wasm.js"));
    expect(bundle.modules.map((m) => [m.name, m.type])).toEqual([
      ["wasm.js", "esm"],
      ["wasm.js.map", "sourcemap"],
      ["_/lib.wasm", "wasm"],
      ["_/2/lib.wasm", "wasm"],
    ]);
    const code = new TextDecoder().decode(bundle.modules[0]?.content);
    expect(code).toContain('from "./_/lib.wasm"');
    expect(code).toContain('from "./_/2/lib.wasm"');
    expect(Buffer.from(bundle.modules[2]!.content)).toEqual(wasm);
  });

  it("fails with EDGE_INVALID_SCRIPT and the importing file:line:column when an import cannot be found", async () => {
    const err = await bundleWorker(join(dir, "src", "broken.ts")).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "EDGE_INVALID_SCRIPT", exitCode: EXIT.REJECTED });
    expect((err as Error).message).toMatch(/broken\.ts:1:22: Could not resolve "not-installed"/);
  });

  describe("edgectl deploy", () => {
    let api: Awaited<ReturnType<typeof startApi>>;
    beforeAll(async () => {
      api = await startApi();
    });
    afterAll(async () => {
      await api.close();
    });

    it("uploads the bundle as a multi-module version: the bundle, its source map and the text module", async () => {
      const env = { EDGE_API_URL: api.url, EDGE_API_TOKEN: TOKEN };
      const deployed = await edgectl(
        ["deploy", "src/app.ts", "--name", "bundled", "--no-wait", "--json"],
        env,
        dir,
      );
      expect(deployed.code).toBe(EXIT.OK);
      const script = await fetch(`${api.url}/v1/scripts/bundled`, {
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      const view = (await script.json()) as {
        language: string;
        modules: Array<{ name: string; type: string }>;
      };
      expect(view.language).toBe("js");
      expect(view.modules.map((m) => [m.name, m.type])).toEqual([
        ["app.js", "esm"],
        ["app.js.map", "sourcemap"],
        ["banner.txt", "text"],
      ]);
      const broken = await edgectl(["deploy", "src/broken.ts", "--name", "broken"], env, dir);
      expect(broken.code).toBe(EXIT.REJECTED);
      expect(broken.err).toMatch(/Could not resolve "not-installed"/);
    });
  });
});
