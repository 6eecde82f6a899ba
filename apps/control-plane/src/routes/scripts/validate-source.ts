import { type BuildResult, build, type Message } from "esbuild";
import { EdgeError } from "../../errors.js";
import type { ScriptLanguage } from "./deploy-body.js";
import type { ModuleCheck } from "./module-check.js";

/** How many of esbuild's errors make it into the message: the first usually explains the rest. */
const MAX_REPORTED = 3;

function isBuildFailure(error: unknown): error is { errors: Message[] } {
  return typeof error === "object" && error !== null && Array.isArray((error as { errors?: unknown }).errors);
}

/** `name.js:3:14: Unexpected ";"` — esbuild's own `file:line:column` (column 0-based, as esbuild prints it). */
function formatMessage(message: Message): string {
  const at = message.location;
  return at ? `${at.file}:${at.line}:${at.column}: ${message.text}` : message.text;
}

/**
 * Parses the script as an ES module without bundling and checks it has a
 * default export (the worker's handler object), and returns the JavaScript
 * nodes will run. JavaScript is returned as given (the store keeps the
 * original source); TypeScript is compiled (types stripped, nothing bundled)
 * and esbuild's output is returned. JavaScript that `quick` accepts (V8's
 * parse, `module-check.ts`) skips esbuild; everything else, and every error
 * message, is esbuild's.
 */
export async function validateSource(
  name: string,
  source: string,
  language: ScriptLanguage = "js",
  quick?: ModuleCheck,
): Promise<string> {
  if (language === "js" && quick !== undefined && (await quick.accepts(source))) return source;
  let result: BuildResult<{ metafile: true; write: false }>;
  try {
    result = await build({
      stdin: { contents: source, loader: language, sourcefile: `${name}.${language}` },
      write: false,
      bundle: false,
      format: "esm",
      metafile: true,
      // No tsconfig.json lookup: what a deploy compiles to must not depend on the control plane's disk.
      tsconfigRaw: {},
      logLevel: "silent",
    });
  } catch (error) {
    if (!isBuildFailure(error) || error.errors.length === 0) throw error;
    const shown = error.errors.slice(0, MAX_REPORTED).map(formatMessage);
    const more =
      error.errors.length > MAX_REPORTED ? ` (and ${error.errors.length - MAX_REPORTED} more)` : "";
    throw new EdgeError("EDGE_INVALID_SCRIPT", `Syntax error: ${shown.join("; ")}${more}`);
  }

  // esbuild turns CommonJS into ESM with a synthetic default export; the runtime would not.
  const input = Object.values(result.metafile.inputs)[0];
  if (input?.format === "cjs") {
    throw new EdgeError(
      "EDGE_INVALID_SCRIPT",
      "The script is CommonJS (module.exports); write an ES module with `export default { fetch }`",
    );
  }
  const output = Object.values(result.metafile.outputs)[0];
  // One module has nothing to import from: the node would refuse it; say so now, with the way out.
  // A dynamic import() only fails when (and if) it runs, as on a node: accepted.
  const imported = output?.imports.find((i) => i.kind === "import-statement");
  if (imported !== undefined) {
    throw new EdgeError(
      "EDGE_INVALID_SCRIPT",
      `The script imports ${JSON.stringify(imported.path)} but was uploaded as a single module: nodes resolve no imports; bundle it (edgectl deploy does) or upload every module ("modules" and "main")`,
    );
  }
  if (!output?.exports.includes("default")) {
    throw new EdgeError(
      "EDGE_INVALID_SCRIPT",
      "The script has no default export; export the handler with `export default { fetch }`",
    );
  }
  if (language === "js") return source;
  const compiled = result.outputFiles[0]?.text;
  if (compiled === undefined)
    throw new EdgeError("EDGE_INTERNAL", "esbuild produced no output for the script");
  return compiled;
}
