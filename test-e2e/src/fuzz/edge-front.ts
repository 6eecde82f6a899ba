import { connect } from "node:net";
import fc from "fast-check";
import { api, POPS, startControlPlane, startEdgeNode } from "../harness/cluster.js";
import { count, type FuzzFigures, rssOf } from "./budget.js";

/** 5xx answers a healthy front may give: load and the script's own limits, each with its code. */
const EXPECTED_5XX = new Set(["EDGE_OVERLOADED", "EDGE_CPU_LIMIT", "EDGE_MEMORY_LIMIT", "EDGE_WALL_LIMIT"]);

const ECHO = `export default {
  async fetch(request) {
    const body = request.method === "GET" || request.method === "HEAD" ? "" : await request.text();
    return new Response(JSON.stringify({ method: request.method, url: request.url, length: body.length }), {
      headers: { "content-type": "application/json" },
    });
  },
};`;

const token = fc.oneof(
  fc.constantFrom(
    "GET",
    "POST",
    "PUT",
    "HEAD",
    "OPTIONS",
    "DELETE",
    "PATCH",
    "CONNECT",
    "TRACE",
    "get",
    "G E T",
    "",
  ),
  fc.stringMatching(/^[A-Z]{1,12}$/),
);
const target = fc.oneof(
  fc.constantFrom(
    "/",
    "/a?b=c",
    "*",
    "http://echo.localhost/x",
    "//x",
    "/%00",
    "/%ff%fe",
    "/..%2f..%2f",
    `/${"a".repeat(9000)}`,
  ),
  fc.string({ maxLength: 60 }).map((s) => `/${encodeURIComponent(s)}`),
  fc.string({ maxLength: 30 }).map((s) => `/${s.replace(/[\s]/g, "")}`),
);
const version = fc.constantFrom("HTTP/1.1", "HTTP/1.1", "HTTP/1.1", "HTTP/1.0", "HTTP/2.0", "HTTP/1.x", "");
const host = fc.oneof(
  fc.constantFrom(
    "echo.localhost",
    "echo.localhost",
    "ECHO.localhost",
    "echo.localhost:99999",
    "echo.localhost:80",
    "missing.localhost",
    "localhost",
    "",
    "echo.localhost.",
    "[::1]",
  ),
  fc.string({ maxLength: 30 }).map((s) => s.replace(/[\r\n]/g, "")),
);
const headerName = fc.oneof(
  fc.constantFrom("x-a", "cookie", "accept", "x-forwarded-for", "x-edge-pop", "content-type"),
  fc.stringMatching(/^[a-zA-Z-]{1,20}$/),
);
const headerValue = fc.string({ maxLength: 40 }).map((s) => s.replace(/[\r\n]/g, ""));
const framing = fc.constantFrom(
  "none",
  "length",
  "wrong-length",
  "chunked",
  "bad-chunked",
  "both",
  "negative-length",
  "huge-length",
);
const body = fc.oneof(
  fc.constant(""),
  fc.string({ maxLength: 300 }),
  fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b).toString("latin1")),
);

const chaos = fc.record({
  method: token,
  target,
  version,
  hosts: fc.oneof(
    { weight: 5, arbitrary: host.map((h) => [h]) },
    { weight: 1, arbitrary: fc.array(host, { maxLength: 2 }) },
  ),
  headers: fc.array(fc.tuple(headerName, headerValue), { maxLength: 6 }),
  framing,
  body,
});
/** Well-formed requests with odd content, so most inputs reach the script rather than the parser. */
const printable = fc.string({ maxLength: 40 }).map((s) => s.replace(/[^\x20-\x7e]/g, ""));
const plausible = fc.record({
  method: fc.constantFrom("GET", "POST", "PUT", "HEAD", "OPTIONS", "DELETE", "PATCH"),
  target: fc.oneof(
    fc.constantFrom("/", "/a?b=c", "/%ff", "/x/../y"),
    printable.map((s) => `/${encodeURIComponent(s)}`),
  ),
  version: fc.constant("HTTP/1.1"),
  hosts: fc.constantFrom("echo.localhost", "echo.localhost:8080", "ECHO.LOCALHOST").map((h) => [h]),
  headers: fc.array(fc.tuple(headerName, printable), { maxLength: 6 }),
  framing: fc.constantFrom("none", "length", "chunked"),
  body,
});
const request = fc.oneof({ weight: 3, arbitrary: plausible }, { weight: 2, arbitrary: chaos });

type FuzzRequest = typeof request extends fc.Arbitrary<infer T> ? T : never;

/**
 * Findings of this fuzzer still open in the front (another part's fix):
 * counted and printed as `known:<name>`, not failed on, so the run keeps
 * looking for new ones. Remove an entry once its fix lands.
 */
// Findings the fuzzer made that are not fixed yet (none now: a port past 65535 is 400
// EDGE_BAD_HOST, TRACE/TRACK are 405 EDGE_METHOD_NOT_ALLOWED); an entry here is counted, not failed.
const KNOWN_FINDINGS: ReadonlyArray<{ name: string; matches(r: FuzzRequest, answer: string): boolean }> = [];

function render(r: FuzzRequest): Buffer {
  const lines = [`${r.method} ${r.target} ${r.version}`.trimEnd()];
  for (const h of r.hosts) lines.push(`Host: ${h}`);
  for (const [name, value] of r.headers) lines.push(`${name}: ${value}`);
  const body = Buffer.from(r.body, "latin1");
  let payload = body;
  switch (r.framing) {
    case "length":
      lines.push(`Content-Length: ${body.length}`);
      break;
    case "wrong-length":
      lines.push(`Content-Length: ${body.length + 7}`);
      break;
    case "negative-length":
      lines.push("Content-Length: -1");
      break;
    case "huge-length":
      lines.push("Content-Length: 99999999999999999999");
      break;
    case "chunked":
      lines.push("Transfer-Encoding: chunked");
      payload = Buffer.concat([
        Buffer.from(`${body.length.toString(16)}\r\n`),
        body,
        Buffer.from("\r\n0\r\n\r\n"),
      ]);
      break;
    case "bad-chunked":
      lines.push("Transfer-Encoding: chunked");
      payload = Buffer.concat([Buffer.from("zz\r\n"), body]);
      break;
    case "both":
      lines.push("Transfer-Encoding: chunked", `Content-Length: ${body.length}`);
      break;
    default:
      payload = Buffer.alloc(0);
  }
  lines.push("Connection: close");
  return Buffer.concat([Buffer.from(`${lines.join("\r\n")}\r\n\r\n`, "latin1"), payload]);
}

/** Sends raw bytes and reads until the server closes (or `ms` pass): the status line and body, if any. */
function exchange(port: number, bytes: Buffer, ms: number): Promise<string> {
  return new Promise((resolve) => {
    // Not half-closed: Node's server aborts a request whose client sent FIN before the answer.
    const socket = connect(port, "127.0.0.1", () => socket.write(bytes));
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => socket.destroy(), ms);
    socket.on("data", (c: Buffer) => chunks.push(c));
    socket.on("error", () => {});
    socket.on("close", () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString("latin1"));
    });
  });
}

/**
 * A real edge node's HTTP front (its own process, serving a deployed echo
 * script), sent raw HTTP/1.1 requests built from random methods, targets,
 * versions, Host headers (none, several, odd ports), headers, framings
 * (lengths, chunked, both, broken) and bodies. A 5xx other than the load and
 * limit codes, a crash, or a node that stops answering fails it.
 */
export async function fuzzEdgeFront(seconds: number): Promise<FuzzFigures> {
  const cp = await startControlPlane("memory");
  const pop = POPS[0]!;
  const node = await startEdgeNode(pop, cp.grpcPort);
  const port = Number(new URL(node.base).port);
  const figures: FuzzFigures = {
    target: "edge-front",
    runs: 0,
    cases: 0,
    durationMs: 0,
    rssBeforeBytes: 0,
    rssAfterBytes: 0,
    heapBeforeBytes: null,
    heapAfterBytes: null,
    outcomes: {},
    failures: [],
  };
  const healthy = async (): Promise<boolean> => {
    const answer = await exchange(
      port,
      Buffer.from("GET / HTTP/1.1\r\nHost: echo.localhost\r\nConnection: close\r\n\r\n"),
      5_000,
    );
    return answer.startsWith("HTTP/1.1 200");
  };
  try {
    const deployed = await api(cp, "PUT", "/v1/scripts/echo", ECHO, "application/javascript");
    if (deployed.status !== 201) throw new Error(`deploy answered ${deployed.status}`);
    for (let i = 0; i < 200 && !(await healthy()); i++) await new Promise((r) => setTimeout(r, 50));
    figures.rssBeforeBytes = await rssOf(node.proc.pid);
    const started = Date.now();
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        figures.runs += 1;
        figures.cases += 1;
        const answer = await exchange(port, render(r), 1_000);
        const status = /^HTTP\/1\.[01] (\d{3})/.exec(answer)?.[1] ?? "none";
        count(figures.outcomes, status);
        if (status.startsWith("5")) {
          const code = /"code":"(EDGE_[A-Z_]+)"/.exec(answer)?.[1] ?? "?";
          const known = KNOWN_FINDINGS.find((k) => k.matches(r, answer));
          if (known !== undefined) count(figures.outcomes, `known:${known.name}`);
          else if (!EXPECTED_5XX.has(code)) {
            const what = `${JSON.stringify(render(r).toString("latin1").slice(0, 300))} -> ${answer.slice(0, 300)}`;
            figures.failures.push(what);
            throw new Error(what);
          }
        }
        if (!node.proc.running) {
          figures.failures.push("the edge node exited");
          throw new Error("the edge node exited");
        }
      }),
      { numRuns: Number.MAX_SAFE_INTEGER, interruptAfterTimeLimit: seconds * 1000, endOnFailure: true },
    );
    figures.durationMs = Date.now() - started;
    figures.rssAfterBytes = await rssOf(node.proc.pid);
    if (!(await healthy())) figures.failures.push("the edge node no longer serves a plain GET after the run");
  } catch (error) {
    if (figures.failures.length === 0) figures.failures.push((error as Error).message.slice(0, 2000));
  } finally {
    await node.proc.stop();
    await cp.proc.stop();
  }
  return figures;
}
