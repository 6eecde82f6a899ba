import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalCluster } from "./harness/local-cluster.js";

const repoRoot = new URL("../../", import.meta.url).pathname;
const MARK = "<!-- readme-test: run -->";

/** The README's shell blocks marked runnable, in order. */
function runnableBlocks(markdown: string): string[] {
  const lines = markdown.split("\n");
  const blocks: string[] = [];
  for (let i = 0; i < lines.length; i += 1) {
    if (lines[i]?.trim() !== MARK || !lines[i + 1]?.startsWith("```sh")) continue;
    const end = lines.indexOf("```", i + 2);
    if (end === -1) throw new Error(`README: the block after line ${i + 1} is not closed`);
    blocks.push(lines.slice(i + 2, end).join("\n"));
    i = end;
  }
  return blocks;
}

/** Runs one block with bash, stopping at the first failing command, pausing a second before each, as a person typing would. */
function runBlock(
  block: string,
  cwd: string,
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn("bash", ["-e", "-o", "pipefail", "-c", `trap 'sleep 1' DEBUG\n${block}`], {
      cwd,
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString("utf8");
    });
    child.stderr.on("data", (chunk: Buffer) => {
      output += chunk.toString("utf8");
    });
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`block did not finish in 90 s:\n${block}\n--- output:\n${output}`));
    }, 90_000);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

/**
 * The README, typed as written: its runnable shell blocks (the quick start's
 * deploy-and-call, the CLI tour, a new script from `edgectl init`) run one
 * after the other against a started local cluster on other ports, which the
 * blocks pick up from EDGE_API_URL and friends.
 */
describe("the README's shell blocks", () => {
  let cluster: LocalCluster;
  let work: string;
  let home: string;
  let env: NodeJS.ProcessEnv;
  const blocks = runnableBlocks(readFileSync(join(repoRoot, "README.md"), "utf8"));

  beforeAll(async () => {
    cluster = await LocalCluster.start();
    // Inside the clone (as a newcomer would be), so `npx edgectl` finds the workspace's binary.
    mkdirSync(join(repoRoot, ".data"), { recursive: true });
    work = mkdtempSync(join(repoRoot, ".data", "readme-test-"));
    home = mkdtempSync(join(work, "home-"));
    env = {
      PATH: process.env.PATH,
      HOME: home,
      EDGE_API_URL: cluster.apiUrl,
      EDGE_API_TOKEN: "dev-admin-token",
      EDGE_FRA_PORT: String(cluster.ports.pops.fra),
      EDGE_ROUTER_URL: `http://localhost:${cluster.ports.router}`,
    };
  }, 150_000);
  afterAll(async () => {
    await cluster?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it("marks the quick start, the CLI tour and the starter as runnable", () => {
    expect(blocks).toHaveLength(3);
  });

  it("deploys hello.js with curl and calls it on fra", async () => {
    const { code, output } = await runBlock(blocks[0] as string, work, env);
    expect(code, output).toBe(0);
    expect(output).toContain('"version":1');
    expect(output).toMatch(/x-edge-pop: fra/i);
    expect(output).toContain('{"hello":"world","path":"/docs"}');
    expect(output).toContain('"version":2');
  });

  it("runs the CLI tour: whoami, deploy with its URLs, list, versions, rollback, nodes, logs, metrics, route, delete", async () => {
    const { code, output } = await runBlock(blocks[1] as string, work, env);
    expect(code, output).toBe(0);
    expect(output).toContain("the API accepts this token");
    expect(output).toContain("deployed hello v3");
    expect(output).toContain("3/3 PoPs on v3");
    expect(output).toContain(`http://hello.localhost:${cluster.ports.pops.iad}/`);
    expect(output).toContain(`http://hello.localhost:${cluster.ports.router}/  (nearest PoP)`);
  });

  it("creates a starter with edgectl init, runs its test and deploys it", async () => {
    const { code, output } = await runBlock(blocks[2] as string, work, env);
    expect(code, output).toBe(0);
    expect(output).toMatch(/pass 3/);
    expect(output).toContain("deployed my-worker v1");
    expect(output).toContain("3/3 PoPs on v1");
  });
});
