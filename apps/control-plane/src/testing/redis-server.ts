import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { freePort } from "./free-port.js";

/**
 * A real `redis-server` child process for tests, on 127.0.0.1. Nothing is
 * mocked: tests see the same server a deployment would, only smaller.
 */

export interface RedisServerOptions {
  /** Default: a free port picked by the OS. */
  port?: number;
  /** Persist every write to an append-only file (fsync always), so data survives `restart()`. Default false. */
  appendonly?: boolean;
  /** Working directory for the AOF; default a temp dir, removed by `stop()`. */
  dir?: string;
  /** How long to wait for the server to answer PING. Default 10 s. */
  startTimeoutMs?: number;
}

export interface RedisServer {
  url: string;
  port: number;
  /** Stops the server (SIGTERM, then SIGKILL) and removes its temp dir. */
  stop(): Promise<void>;
  /** Stops and starts the server on the same port and dir; with `appendonly` the data comes back. */
  restart(): Promise<void>;
  /** Stops the server only (SIGKILL: a crash), keeping its port and dir for `start()`. */
  stopOnly(signal?: "SIGTERM" | "SIGKILL"): Promise<void>;
  /** Starts a stopped server again on the same port and dir. */
  start(): Promise<void>;
}

const STOP_TIMEOUT_MS = 5_000;
const PORT_ATTEMPTS = 5;

export async function startRedisServer(opts: RedisServerOptions = {}): Promise<RedisServer> {
  const ownDir = opts.dir === undefined;
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), "edge-redis-"));
  const timeoutMs = opts.startTimeoutMs ?? 10_000;
  let child: ChildProcess | null = null;
  let port = opts.port ?? 0;

  // If the worker exits without stop(), do not leave a server behind.
  const onExit = (): void => {
    child?.kill("SIGKILL");
    if (ownDir) rmSync(dir, { recursive: true, force: true });
  };
  process.once("exit", onExit);

  const launch = async (): Promise<void> => {
    // Another process may grab a picked port before redis binds it: pick again.
    const attempts = opts.port === undefined && port === 0 ? PORT_ATTEMPTS : 1;
    let lastError: unknown;
    for (let attempt = 0; attempt < attempts; attempt++) {
      const candidate = port !== 0 ? port : await freePort();
      try {
        child = await spawnRedis(candidate, dir, opts.appendonly ?? false, timeoutMs);
        port = candidate;
        return;
      } catch (error) {
        lastError = error;
      }
    }
    throw lastError;
  };

  const halt = async (signal: "SIGTERM" | "SIGKILL" = "SIGTERM"): Promise<void> => {
    const running = child;
    child = null;
    if (running) await terminate(running, signal);
  };

  try {
    await launch();
  } catch (error) {
    process.removeListener("exit", onExit);
    if (ownDir) rmSync(dir, { recursive: true, force: true });
    throw error;
  }

  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    stop: async () => {
      await halt();
      process.removeListener("exit", onExit);
      if (ownDir) rmSync(dir, { recursive: true, force: true });
    },
    restart: async () => {
      await halt();
      await launch();
    },
    stopOnly: (signal = "SIGTERM") => halt(signal),
    start: async () => {
      if (child === null) await launch();
    },
  };
}

async function spawnRedis(
  port: number,
  dir: string,
  appendonly: boolean,
  timeoutMs: number,
): Promise<ChildProcess> {
  const args = [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--save",
    "",
    "--appendonly",
    appendonly ? "yes" : "no",
    ...(appendonly ? ["--appendfsync", "always"] : []),
    "--dir",
    dir,
    "--daemonize",
    "no",
    "--protected-mode",
    "no",
    "--loglevel",
    "warning",
  ];
  const child = spawn("redis-server", args, { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString()).slice(-4_000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);

  let exited: string | null = null;
  const onExit = (code: number | null, signal: string | null): void => {
    exited = `redis-server exited (code ${code}, signal ${signal})`;
  };
  child.once("exit", onExit);
  child.once("error", (error) => {
    exited = `redis-server could not start: ${error.message}`;
  });

  const deadline = Date.now() + timeoutMs;
  while (true) {
    if (exited !== null) throw new Error(`${exited} on port ${port}:\n${output}`);
    if (await answersPing(port)) break;
    if (Date.now() > deadline) {
      await terminate(child);
      throw new Error(`redis-server on port ${port} did not answer PING within ${timeoutMs} ms:\n${output}`);
    }
    await sleep(50);
  }
  child.removeListener("exit", onExit);
  return child;
}

/** True once the server replies +PONG (not while it is still loading its AOF). */
export function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    let reply = "";
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once("error", () => done(false));
    socket.once("connect", () => socket.write("PING\r\n"));
    socket.on("data", (chunk) => {
      reply += chunk.toString();
      if (reply.includes("\r\n")) done(reply.startsWith("+PONG"));
    });
  });
}

export async function terminate(
  child: ChildProcess,
  signal: "SIGTERM" | "SIGKILL" = "SIGTERM",
): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill(signal);
  const timer = setTimeout(() => child.kill("SIGKILL"), STOP_TIMEOUT_MS);
  await exited;
  clearTimeout(timer);
}
