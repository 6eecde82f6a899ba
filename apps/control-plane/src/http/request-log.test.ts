import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { buildApp } from "../app.js";
import { loadConfig } from "../config.js";
import { createSqliteStore } from "../store/sqlite.js";
import { HELLO, recordingHub, TEST_TOKEN, telemetryDeps } from "../test-harness.js";
import { requestLogLevel } from "./request-log.js";

const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

/** The real API with an info-level logger whose lines are kept. */
async function loggedApp() {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: "info" }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  const config = loadConfig({ EDGE_ADMIN_TOKEN: TEST_TOKEN });
  const store = createSqliteStore(":memory:");
  const telemetry = telemetryDeps(recordingHub(), undefined, config);
  const app = await buildApp(config, { store, ...telemetry, metrics: telemetry.metrics, logger });
  closers.push(
    () => store.close(),
    () => telemetry.aggregator.close(),
    () => app.close(),
  );
  const auth = { authorization: `Bearer ${TEST_TOKEN}` };
  return { app, lines, auth };
}

describe("the control plane's request log", () => {
  it("writes nothing at info for health checks and successful reads such as polling", async () => {
    const { app, lines, auth } = await loggedApp();
    expect((await app.inject({ method: "GET", url: "/healthz" })).statusCode).toBe(200);
    expect((await app.inject({ method: "GET", url: "/v1/scripts", headers: auth })).statusCode).toBe(200);
    expect(lines.filter((l) => l.method !== undefined)).toEqual([]);
  });

  it("writes one info line for a deploy, with method, route, status and time", async () => {
    const { app, lines, auth } = await loggedApp();
    const res = await app.inject({
      method: "PUT",
      url: "/v1/scripts/hello",
      headers: { ...auth, "content-type": "application/javascript" },
      payload: HELLO,
    });
    expect(res.statusCode).toBe(201);
    const requestLines = lines.filter((l) => l.method !== undefined);
    expect(requestLines).toHaveLength(1);
    expect(requestLines[0]).toMatchObject({
      level: 30,
      method: "PUT",
      url: "/v1/scripts/hello",
      statusCode: 201,
      msg: "PUT /v1/scripts/:name 201",
    });
    expect(typeof requestLines[0]?.ms).toBe("number");
  });

  it("writes a warn line for a read the API refuses", async () => {
    const { app, lines } = await loggedApp();
    expect((await app.inject({ method: "GET", url: "/v1/scripts" })).statusCode).toBe(401);
    expect(lines.filter((l) => l.method !== undefined)).toMatchObject([{ level: 40, statusCode: 401 }]);
  });

  it("picks error for 5xx, warn for 4xx, info for writes and debug for successful reads", () => {
    expect(requestLogLevel("GET", 503)).toBe("error");
    expect(requestLogLevel("PUT", 413)).toBe("warn");
    expect(requestLogLevel("DELETE", 204)).toBe("info");
    expect(requestLogLevel("GET", 200)).toBe("debug");
    expect(requestLogLevel("HEAD", 304)).toBe("debug");
  });
});
