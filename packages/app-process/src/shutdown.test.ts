import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { handleShutdown } from "./shutdown.js";

const logger = pino({ level: "silent" });

function exitCode(): { exit: (code: number) => void; code: Promise<number> } {
  let exit: (code: number) => void = () => {};
  const code = new Promise<number>((resolve) => {
    exit = resolve;
  });
  return { exit, code };
}

describe("a bounded shutdown", () => {
  it("exits 0 once the app's stop resolves", async () => {
    const { exit, code } = exitCode();
    handleShutdown({
      logger,
      name: "app",
      graceMs: 5_000,
      stop: async () => {},
      exit,
      installSignals: false,
    }).begin("SIGTERM");
    expect(await code).toBe(0);
  });

  it("exits 1 when the app's stop never ends, once the grace period is over", async () => {
    const { exit, code } = exitCode();
    handleShutdown({
      logger,
      name: "app",
      graceMs: 50,
      stop: () => new Promise(() => {}),
      exit,
      installSignals: false,
    }).begin("SIGTERM");
    expect(await code).toBe(1);
  });

  it("exits 1 when the app's stop fails", async () => {
    const { exit, code } = exitCode();
    handleShutdown({
      logger,
      name: "app",
      graceMs: 5_000,
      stop: async () => Promise.reject(new Error("x")),
      exit,
      installSignals: false,
    }).begin("SIGINT");
    expect(await code).toBe(1);
  });

  it("exits 1 at once on a second signal, without waiting for the grace period", async () => {
    const { exit, code } = exitCode();
    const shutdown = handleShutdown({
      logger,
      name: "app",
      graceMs: 60_000,
      stop: () => new Promise(() => {}),
      exit,
      installSignals: false,
    });
    shutdown.begin("SIGTERM");
    shutdown.begin("SIGINT");
    expect(await code).toBe(1);
  });
});
