import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const bundle = `${root}runtime-dist/runtime.js`;

/** True when the bundle is missing or older than a runtime/ source file. */
function bundleIsStale(): boolean {
  if (!existsSync(bundle)) return true;
  const built = statSync(bundle).mtimeMs;
  return readdirSync(`${root}runtime`).some((file) => statSync(`${root}runtime/${file}`).mtimeMs > built);
}

/** Tests load the runtime bundle from runtime-dist/: build it first when needed. */
export default function setup(): void {
  if (bundleIsStale()) {
    execFileSync(process.execPath, ["scripts/bundle-runtime.mjs"], { cwd: root, stdio: "inherit" });
  }
}
