import type { RequestTrace } from "@edge/protocol";
import { afterEach, describe, expect, it } from "vitest";
import type { NodeLink } from "../push/telemetry-hooks.js";
import { type Harness, HELLO, startHarness, TEST_TOKEN } from "../test-harness.js";

let h: Harness;
let base: string;

afterEach(async () => {
  // fetch() may hold a spare idle socket open (undici's pool), which close() would wait out.
  h.app.server.closeAllConnections();
  await h.close();
});

async function listen(env: Record<string, string> = {}): Promise<void> {
  h = await startHarness({ env });
  await h.app.listen({ host: "127.0.0.1", port: 0 });
  const address = h.app.server.address();
  if (address === null || typeof address === "string") throw new Error("not listening");
  base = `http://127.0.0.1:${address.port}`;
}

function trace(url: string, fields: Partial<RequestTrace> = {}): RequestTrace {
  return {
    script: "hello",
    version: 2,
    pop: "fra",
    nodeId: "fra-1",
    timeMs: Date.UTC(2030, 0, 1),
    method: "GET",
    url,
    status: 200,
    cpuMs: 0.25,
    wallMs: 3,
    errorCode: "",
    errorMessage: "",
    logs: [{ level: "log", message: `saw ${url}`, timeMs: Date.UTC(2030, 0, 1) }],
    ...fields,
  };
}

interface SseEvent {
  event: string;
  data: Record<string, unknown>;
}

/** Reads Server-Sent Events off a fetch response. */
class EventReader {
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  readonly #decoder = new TextDecoder();
  #buffer = "";

  constructor(res: Response) {
    if (!res.body) throw new Error("no body");
    this.#reader = res.body.getReader();
  }

  async next(): Promise<SseEvent> {
    for (;;) {
      const end = this.#buffer.indexOf("\n\n");
      if (end >= 0) {
        const block = this.#buffer.slice(0, end);
        this.#buffer = this.#buffer.slice(end + 2);
        if (block.startsWith(":")) continue;
        const event = /^event: (.*)$/m.exec(block)?.[1] ?? "message";
        const data = JSON.parse(/^data: (.*)$/m.exec(block)?.[1] ?? "null") as Record<string, unknown>;
        return { event, data };
      }
      const { value, done } = await this.#reader.read();
      if (done) throw new Error("stream ended");
      this.#buffer += this.#decoder.decode(value, { stream: true });
    }
  }

  async cancel(): Promise<void> {
    await this.#reader.cancel();
  }
}

/** The error code of a JSON error answer. */
const errorCode = async (res: Response): Promise<string> =>
  ((await res.json()) as { error: { code: string } }).error.code;

const openTail = (path: string, token = TEST_TOKEN) =>
  fetch(`${base}/v1/scripts/hello/tail${path}`, { headers: { authorization: `Bearer ${token}` } });

/** A node connected to the hub: traces it ships land in the sessions they name. */
const fra: NodeLink = { id: "fra-1", pop: "fra", send: () => true };
const ship = (traces: RequestTrace[], sessionId: string) =>
  h.tail.message(fra, {
    $case: "tail",
    value: { deliveries: traces.map((t) => ({ trace: t, sessionIds: [sessionId] })), dropped: {} },
  });

async function eventually(probe: () => boolean): Promise<void> {
  const started = Date.now();
  while (!probe()) {
    if (Date.now() - started > 5_000) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("GET /v1/scripts/:name/tail", () => {
  it("streams request events with summary, console lines and exception, and ends the session on disconnect", async () => {
    await listen();
    await h.deploy("hello", HELLO);
    const res = await openTail("?status=5xx,200&method=get&search=boom&sample=0.5&pop=fra");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
    const events = new EventReader(res);
    const open = await events.next();
    expect(open.event).toBe("open");
    expect(open.data).toMatchObject({
      script: "hello",
      filter: { pops: ["fra"], methods: ["GET"], statuses: ["5xx", "200"], search: "boom", sampleRate: 0.5 },
    });
    expect(h.tail.sessionCount).toBe(1);
    const session = String(open.data.session);
    ship(
      [
        trace("http://hello.localhost/ok"),
        trace("http://hello.localhost/boom", {
          status: 500,
          errorCode: "EDGE_SCRIPT_ERROR",
          errorMessage: "Error: boom",
        }),
      ],
      session,
    );
    const first = await events.next();
    expect(first).toEqual({
      event: "request",
      data: {
        time: "2030-01-01T00:00:00.000Z",
        script: "hello",
        version: 2,
        pop: "fra",
        nodeId: "fra-1",
        method: "GET",
        url: "http://hello.localhost/ok",
        status: 200,
        cpuMs: 0.25,
        wallMs: 3,
        error: null,
        logs: [{ time: "2030-01-01T00:00:00.000Z", level: "log", message: "saw http://hello.localhost/ok" }],
      },
    });
    expect((await events.next()).data).toMatchObject({
      status: 500,
      error: { code: "EDGE_SCRIPT_ERROR", message: "Error: boom" },
    });
    await events.cancel();
    await eventually(() => h.tail.sessionCount === 0);
  });

  it("tells a reader that fell behind how many lines it lost", async () => {
    await listen({ EDGE_TAIL_BUFFER: "3" });
    await h.deploy("hello", HELLO);
    const events = new EventReader(await openTail(""));
    const session = String((await events.next()).data.session);
    // Ten traces arrive before the stream gets a turn to write: three fit the session's buffer.
    ship(
      Array.from({ length: 10 }, (_, i) => trace(`http://hello.localhost/${i}`)),
      session,
    );
    // Drops counted by a node arrive the same way.
    h.tail.message(fra, { $case: "tail", value: { deliveries: [], dropped: { [session]: 5 } } });
    expect(await events.next()).toEqual({ event: "dropped", data: { dropped: 12 } });
    const urls = [];
    for (let i = 0; i < 3; i++) urls.push((await events.next()).data.url);
    expect(urls).toEqual([
      "http://hello.localhost/0",
      "http://hello.localhost/1",
      "http://hello.localhost/2",
    ]);
    ship([trace("http://hello.localhost/later")], session);
    expect((await events.next()).data.url).toBe("http://hello.localhost/later");
    await events.cancel();
  });

  it("answers 404 for an unknown script, 400 for a bad filter, 401 without the token and 429 past the session limit", async () => {
    await listen({ EDGE_TAIL_MAX_SESSIONS: "1" });
    const missing = await openTail("");
    expect(missing.status).toBe(404);
    expect(await errorCode(missing)).toBe("EDGE_SCRIPT_NOT_FOUND");
    await h.deploy("hello", HELLO);
    for (const query of ["?status=teapot", "?sample=2", "?method=G3T"]) {
      const bad = await openTail(query);
      expect(bad.status, query).toBe(400);
      expect(await errorCode(bad)).toBe("EDGE_INVALID_QUERY");
    }
    expect((await openTail("", "wrong")).status).toBe(401);
    const events = new EventReader(await openTail(""));
    await events.next();
    const second = await openTail("");
    expect(second.status).toBe(429);
    expect(await errorCode(second)).toBe("EDGE_TOO_MANY_TAILS");
    await events.cancel();
  });
});

describe("GET /v1/scripts/:name/logs", () => {
  it("returns the history nodes kept, oldest first, and which nodes answered", async () => {
    await listen({ EDGE_LOGS_TIMEOUT_MS: "200" });
    await h.deploy("hello", HELLO);
    const asked: unknown[] = [];
    const answering: NodeLink = {
      id: "fra-1",
      pop: "fra",
      send: (msg) => {
        if (msg.$case !== "logsQuery") return true;
        asked.push(msg.value);
        const traces = [
          trace("http://hello.localhost/a", { timeMs: Date.UTC(2030, 0, 1, 0, 0, 1), logs: [] }),
          trace("http://hello.localhost/b", {
            timeMs: Date.UTC(2030, 0, 1, 0, 0, 2),
            status: 503,
            errorCode: "EDGE_CPU_LIMIT",
            errorMessage: "The script exceeded its CPU time limit of 50 ms",
            logs: [],
          }),
        ];
        queueMicrotask(() =>
          h.tail.message(answering, {
            $case: "logsReply",
            value: { queryId: msg.value.queryId, traces, truncated: false },
          }),
        );
        return true;
      },
    };
    h.tail.opened(answering);
    h.tail.opened({ id: "iad-1", pop: "iad", send: () => true });
    const res = await h.request({
      method: "GET",
      url: "/v1/scripts/hello/logs?since=1h&limit=50&status=error",
    });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.logs.map((l: { url: string }) => l.url)).toEqual([
      "http://hello.localhost/a",
      "http://hello.localhost/b",
    ]);
    expect(body.logs[1].error).toEqual({
      code: "EDGE_CPU_LIMIT",
      message: "The script exceeded its CPU time limit of 50 ms",
    });
    expect(body).toMatchObject({ truncated: false, nodes: { answered: ["fra-1"], missing: ["iad-1"] } });
    expect(asked[0]).toMatchObject({ script: "hello", limit: 50, filter: { statuses: ["error"] } });
  });

  it("answers 404 for an unknown script and 400 for a bad limit", async () => {
    await listen();
    expect((await h.request({ method: "GET", url: "/v1/scripts/nope/logs" })).statusCode).toBe(404);
    await h.deploy("hello", HELLO);
    const bad = await h.request({ method: "GET", url: "/v1/scripts/hello/logs?limit=0" });
    expect(bad.statusCode).toBe(400);
  });
});
