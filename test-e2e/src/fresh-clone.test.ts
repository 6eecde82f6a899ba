import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const repoRoot = new URL("../../", import.meta.url).pathname;

/** Runs a command to completion, bounded; resolves with its exit code and output. */
function run(
  command: string,
  args: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs: number },
) {
  return new Promise<{ code: number | null; output: string }>((resolve, reject) => {
    // Its own process group, so a timeout ends npm's children (node-gyp, compilers) too.
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env,
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString("utf8");
    });
    child.stderr.on("data", (chunk: Buffer) => {
      output += chunk.toString("utf8");
    });
    const timer = setTimeout(() => {
      if (child.pid) process.kill(-child.pid, "SIGKILL");
      reject(
        new Error(
          `${command} ${args.join(" ")} did not finish in ${options.timeoutMs} ms:\n${output.slice(-2000)}`,
        ),
      );
    }, options.timeoutMs);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

/** A folder on PATH whose `node` is older than 24 (the machine's own), if there is one. */
function olderNodeDir(): string | null {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    const node = join(dir, "node");
    if (!existsSync(node)) continue;
    const version = spawnSync(node, ["-v"], { encoding: "utf8" }).stdout.trim();
    if (Number(version.replace(/^v/, "").split(".")[0]) < 24) return dir;
  }
  return null;
}

/**
 * A newcomer's first minutes, for real: a clone of this commit, the README's
 * install (`./edge install`: npm install, nothing built), then `npx edgectl`.
 * The one slow test of the suite (a full `npm install` compiling the native
 * addons, then the CLI's first-use build): minutes, bounded at half an hour.
 */
describe("a fresh clone", () => {
  const dir = mkdtempSync(join(tmpdir(), "edge-e2e-clone-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("runs `npx edgectl --help` right after `./edge install`, under Node 24 and under the machine's older Node", async () => {
    const head = spawnSync("git", ["rev-parse", "HEAD"], { cwd: repoRoot, encoding: "utf8" }).stdout.trim();
    const clone = join(dir, "edge-platform");
    expect(spawnSync("git", ["clone", "-q", "--no-checkout", repoRoot, clone]).status).toBe(0);
    expect(spawnSync("git", ["checkout", "-q", head], { cwd: clone }).status).toBe(0);
    expect(existsSync(join(clone, "apps/cli/dist"))).toBe(false);

    const env = { ...process.env, npm_config_audit: "false", npm_config_fund: "false" };
    // Native addons (isolated-vm, better-sqlite3) compile here: minutes, more on a busy machine.
    const install = await run("./edge", ["install"], { cwd: clone, env, timeoutMs: 1_200_000 });
    expect(install.code, install.output.slice(-2000)).toBe(0);

    const help = await run("npx", ["edgectl", "--help"], { cwd: clone, env, timeoutMs: 300_000 });
    expect(help.code, help.output.slice(-2000)).toBe(0);
    expect(help.output).toContain("usage: edgectl <command> [options]");
    expect(help.output).toContain("init");

    // Any folder of the clone, and a command that needs no server.
    const init = await run("npx", ["edgectl", "init", "--help"], {
      cwd: join(clone, "apps"),
      env,
      timeoutMs: 60_000,
    });
    expect(init.code, init.output).toBe(0);
    expect(init.output).toContain("examples:");

    const older = olderNodeDir();
    if (older !== null) {
      const legacy = { ...env, PATH: [older, "/usr/bin", "/bin"].join(delimiter) };
      const version = await run("npx", ["edgectl", "--version"], {
        cwd: clone,
        env: legacy,
        timeoutMs: 60_000,
      });
      expect(version.code, version.output).toBe(0);
      expect(version.output).toContain("edgectl 0.1.0");
    }
  }, 1_800_000);
});
