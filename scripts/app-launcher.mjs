// Shared by the apps' tracked bin files (apps/*/bin/*.mjs, which npm links at install, before
// anything is built): runs an app's built `dist/main.js`, with `--no-node-snapshot` when the app
// runs isolates (isolated-vm needs it), and says what to do when the app is not built yet.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { constants } from "node:os";
import { fileURLToPath } from "node:url";

export async function launch(appDirUrl, { name, noNodeSnapshot = false }) {
  const main = fileURLToPath(new URL("dist/main.js", appDirUrl));
  if (!existsSync(main)) {
    process.stderr.write(`${name}: not built yet; run \`./edge npm run build\` from the repository root\n`);
    process.exit(1);
  }
  if (!noNodeSnapshot || process.execArgv.includes("--no-node-snapshot")) {
    await import(new URL("dist/main.js", appDirUrl).href);
    return;
  }
  const child = spawn(
    process.execPath,
    ["--no-node-snapshot", ...process.execArgv, main, ...process.argv.slice(2)],
    {
      stdio: "inherit",
    },
  );
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(signal, () => child.kill(signal));
  child.on("exit", (code, signal) => process.exit(code ?? 128 + (constants.signals[signal] ?? 0)));
}
