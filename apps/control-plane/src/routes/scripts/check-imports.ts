import { build, type ImportKind, type Loader } from "esbuild";
import { EdgeError } from "../../errors.js";

/** Import kinds that nodes resolve when they load the module (dynamic `import()` only fails when it runs). */
const STATIC_KINDS: ReadonlySet<ImportKind> = new Set(["import-statement"]);

/**
 * A deploy is one ES module: nodes resolve no import at all (`node:fs`, a
 * package name, a relative file), so a static import would make every node
 * reject the version after the API accepted it. Refused here instead, naming
 * the specifiers. Runs after the syntax check (the source parses).
 */
export async function checkImports(name: string, source: string, loader: Loader): Promise<void> {
  const found: string[] = [];
  await build({
    stdin: { contents: source, loader, sourcefile: `${name}.${loader}` },
    bundle: true,
    write: false,
    format: "esm",
    tsconfigRaw: {},
    logLevel: "silent",
    plugins: [
      {
        name: "collect-imports",
        setup(b) {
          b.onResolve({ filter: /.*/ }, (args) => {
            if (STATIC_KINDS.has(args.kind)) found.push(args.path);
            return { path: args.path, external: true };
          });
        },
      },
    ],
  });
  if (found.length === 0) return;
  const shown = [...new Set(found)].slice(0, 3).map((path) => JSON.stringify(path));
  throw new EdgeError(
    "EDGE_INVALID_SCRIPT",
    `The script imports ${shown.join(", ")}${found.length > 3 ? " and more" : ""}: nodes resolve no imports; bundle it into one module`,
  );
}
