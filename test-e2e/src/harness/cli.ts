import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";

const repoRoot = new URL("../../../", import.meta.url).pathname;
export const CLI_MAIN = "apps/cli/dist/main.js";

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The environment `edgectl` gets: only PATH, HOME (an empty temp dir: no config file) and `env`. */
function cliEnv(env: Record<string, string>, home: string): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH ?? "", HOME: home, ...env };
}

/** Runs `edgectl <args>` as a child process to completion (bounded by `timeoutMs`). */
export function runCli(
  args: string[],
  options: { env: Record<string, string>; home: string; cwd?: string; timeoutMs?: number },
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [`${repoRoot}${CLI_MAIN}`, ...args], {
      cwd: options.cwd ?? repoRoot,
      env: cliEnv(options.env, options.home),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      stdout += chunk.toString("utf8");
    });
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString("utf8");
    });
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`edgectl ${args.join(" ")} did not finish; stdout: ${stdout} stderr: ${stderr}`));
    }, options.timeoutMs ?? 60_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** A long-running `edgectl` (the tail): its output lines as they come, and a way to stop it. */
export class CliProcess {
  readonly stdout: string[] = [];
  readonly stderr: string[] = [];
  readonly exited: Promise<number | null>;
  readonly #child: ChildProcess;
  readonly #waiters = new Set<() => void>();

  constructor(args: string[], options: { env: Record<string, string>; home: string }) {
    this.#child = spawn(process.execPath, [`${repoRoot}${CLI_MAIN}`, ...args], {
      cwd: repoRoot,
      env: cliEnv(options.env, options.home),
      stdio: ["ignore", "pipe", "pipe"],
    });
    for (const [stream, lines] of [
      [this.#child.stdout, this.stdout],
      [this.#child.stderr, this.stderr],
    ] as const) {
      if (!stream) continue;
      createInterface({ input: stream }).on("line", (line) => {
        lines.push(line);
        for (const wake of this.#waiters) wake();
      });
    }
    this.exited = new Promise((resolve) => this.#child.once("exit", (code) => resolve(code)));
    void this.exited.then(() => {
      for (const wake of this.#waiters) wake();
    });
  }

  /** Resolves once `predicate` holds over the output so far; rejects on exit or timeout. */
  waitFor(predicate: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        reject(new Error(`edgectl: timed out waiting for ${what}; stderr: ${this.stderr.join("\n")}`));
      }, timeoutMs);
      const check = () => {
        if (predicate()) {
          clearTimeout(timer);
          this.#waiters.delete(check);
          resolve();
        } else if (this.#child.exitCode !== null) {
          clearTimeout(timer);
          this.#waiters.delete(check);
          reject(
            new Error(
              `edgectl exited (${this.#child.exitCode}) before ${what}; stderr: ${this.stderr.join("\n")}`,
            ),
          );
        }
      };
      this.#waiters.add(check);
      check();
    });
  }

  /** Stops it as Ctrl-C would; resolves with the exit code. */
  async stop(signal: NodeJS.Signals = "SIGINT"): Promise<number | null> {
    if (this.#child.exitCode === null && this.#child.signalCode === null) this.#child.kill(signal);
    const timer = setTimeout(() => this.#child.kill("SIGKILL"), 5_000);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }
}
