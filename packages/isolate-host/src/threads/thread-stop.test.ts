import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const FIXTURE = fileURLToPath(new URL("../../test/fixtures/dispose-while-building.mjs", import.meta.url));

/** Runs the fixture in its own Node process; `null` code when it had to be killed. */
function runFixture(rounds: number, killAfterMs: number): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--no-node-snapshot", FIXTURE, String(rounds)], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (chunk) => {
      out += chunk;
    });
    child.stderr.on("data", (chunk) => {
      out += chunk;
    });
    const killer = setTimeout(() => child.kill("SIGKILL"), killAfterMs);
    child.on("exit", (code) => {
      clearTimeout(killer);
      resolve({ code, out });
    });
  });
}

describe("stopping a threaded runner", () => {
  it("ends its threads while they build isolates ahead of time, and the process then exits by itself", async () => {
    // A hang shows as a kill long after the work is done (each round takes well under a second).
    const { code, out } = await runFixture(12, 60_000);
    expect(out).toContain("disposed 12 runners");
    expect(code).toBe(0);
  }, 90_000);
});
