import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";

const repoRoot = new URL("../../../", import.meta.url).pathname;

export interface LogRecord {
  msg?: string;
  [key: string]: unknown;
}

/**
 * A real child process running one of the apps' built `main.js`, with its
 * pino output parsed so a test can wait for a log record.
 */
export class AppProcess {
  readonly records: LogRecord[] = [];
  readonly #child: ChildProcess;
  readonly #waiters = new Set<() => void>();
  readonly exited: Promise<number | null>;

  constructor(
    readonly name: string,
    entry: string,
    env: Record<string, string>,
  ) {
    this.#child = spawn(process.execPath, ["--no-node-snapshot", entry], {
      cwd: repoRoot,
      env: { PATH: process.env.PATH ?? "", EDGE_LOG_LEVEL: "info", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    for (const stream of [this.#child.stdout, this.#child.stderr]) {
      if (!stream) continue;
      createInterface({ input: stream }).on("line", (line) => {
        try {
          this.records.push(JSON.parse(line) as LogRecord);
        } catch {
          this.records.push({ msg: line });
        }
        for (const w of this.#waiters) w();
      });
    }
    this.exited = new Promise((resolve) => this.#child.once("exit", (code) => resolve(code)));
    this.exited.then(() => {
      for (const w of this.#waiters) w();
    });
  }

  /** The child's process id (to read its resource use). */
  get pid(): number | undefined {
    return this.#child.pid;
  }

  get running(): boolean {
    return this.#child.exitCode === null && this.#child.signalCode === null;
  }

  /** Resolves with the first log record matching `predicate`; rejects if the process exits first. */
  waitForLog(predicate: (r: LogRecord) => boolean, timeoutMs = 20_000): Promise<LogRecord> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        reject(new Error(`${this.name}: timed out waiting for a log record; last: ${this.tail()}`));
      }, timeoutMs);
      const check = () => {
        const found = this.records.find(predicate);
        if (found || !this.running) {
          clearTimeout(timer);
          this.#waiters.delete(check);
          if (found) resolve(found);
          else reject(new Error(`${this.name} exited before the expected log record; last: ${this.tail()}`));
        }
      };
      this.#waiters.add(check);
      check();
    });
  }

  tail(n = 5): string {
    return this.records
      .slice(-n)
      .map((r) => JSON.stringify(r))
      .join("\n");
  }

  async stop(signal: NodeJS.Signals = "SIGTERM"): Promise<number | null> {
    if (this.running) this.#child.kill(signal);
    const timer = setTimeout(() => this.#child.kill("SIGKILL"), 5_000);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }
}

export const CONTROL_PLANE_MAIN = "apps/control-plane/dist/main.js";
export const EDGE_NODE_MAIN = "apps/edge-node/dist/main.js";
