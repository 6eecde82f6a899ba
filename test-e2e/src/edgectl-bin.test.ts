import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { createInterface } from "node:readline";
import { requestWithHost } from "@edge/edge-node/testing";
import { afterAll, describe, expect, it } from "vitest";

const repoRoot = new URL("../../", import.meta.url).pathname;
const BIN = join(repoRoot, "apps/cli/bin/edgectl.mjs");

/** A `node` on PATH older than 24 (the machine's own), if there is one. */
function olderNode(): string | null {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    const node = join(dir, "node");
    if (!existsSync(node)) continue;
    const version = spawnSync(node, ["-v"], { encoding: "utf8" }).stdout.trim();
    if (Number(version.replace(/^v/, "").split(".")[0]) < 24) return node;
  }
  return null;
}

const older = olderNode();

/**
 * The tracked `edgectl` launcher npm links (`apps/cli/bin/edgectl.mjs`), run
 * by the machine's older Node.js as a plain `npx edgectl` would: commands run
 * there, and `edgectl dev` (isolates) moves itself to the project's Node 24.
 */
describe.skipIf(older === null)("the edgectl launcher under an older Node.js", () => {
  const dir = mkdtempSync(join(tmpdir(), "edge-e2e-bin-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("runs commands that need no isolates with that Node", () => {
    const result = spawnSync(older as string, [BIN, "init", "starter"], {
      cwd: dir,
      encoding: "utf8",
      timeout: 30_000,
    });
    expect(result.status, result.stderr).toBe(0);
    expect(existsSync(join(dir, "starter", "src", "index.js"))).toBe(true);
  });

  it("serves `edgectl dev` under the project's Node 24, and stops on Ctrl-C", async () => {
    const file = join(dir, "worker.js");
    writeFileSync(file, 'export default { fetch() { return new Response("from dev"); } };\n');
    const child = spawn(older as string, [BIN, "dev", file, "--name", "app", "--port", "0"], {
      cwd: dir,
      env: { ...process.env, HOME: dir },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString("utf8");
    });
    try {
      const ready = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`edgectl dev never got ready: ${stderr}`)), 60_000);
        createInterface({ input: child.stdout }).on("line", (line) => {
          if (line.startsWith("ready: v1 on ")) {
            clearTimeout(timer);
            resolve(line);
          }
        });
        void exited.then(() => reject(new Error(`edgectl dev exited: ${stderr}`)));
      });
      const url = new URL(ready.split(" on ")[1] ?? "");
      const res = await requestWithHost(`http://127.0.0.1:${url.port}`, "app.localhost", "/");
      expect(res.text).toBe("from dev");
    } finally {
      child.kill("SIGINT");
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      expect(await exited).toBe(0);
      clearTimeout(timer);
    }
  });
});
