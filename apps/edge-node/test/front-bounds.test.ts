import { mkdtempSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.js";
import { createEdgeNode, type EdgeNode } from "../src/edge-node.js";
import { requestWithHost } from "../src/testing/index.js";
import { ScriptedControlPlane, script } from "./scripted-control-plane.js";

/** Sends raw bytes and resolves with what comes back until the server closes or `ms` pass. */
function raw(port: number, text: string, ms = 2_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    const chunks: Buffer[] = [];
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(Buffer.concat(chunks).toString("latin1"));
    };
    const timer = setTimeout(done, ms);
    socket.on("data", (chunk: Buffer) => {
      chunks.push(chunk);
      if (/\r\n\r\n[\s\S]*"error"[\s\S]*\}\}/.test(Buffer.concat(chunks).toString("latin1"))) done();
    });
    socket.on("end", done);
    socket.on("error", reject);
    socket.write(text);
  });
}

/** Opens an upload that sends `bytes` of a longer body and then stalls; close() ends it. */
function stalledUpload(port: number, bytes: number): Promise<{ close(): void }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => {
      socket.write(
        `POST / HTTP/1.1\r\nHost: sink.localhost\r\nContent-Length: ${bytes * 2}\r\n\r\n${"x".repeat(bytes)}`,
      );
      // Give the node a moment to read the chunk before the next upload starts.
      setTimeout(() => resolve({ close: () => socket.destroy() }), 200);
    });
    socket.on("error", reject);
  });
}

describe("bounds on the edge front", () => {
  let cp: ScriptedControlPlane;
  let node: EdgeNode;
  let port: number;
  let base: string;
  let cacheDir: string;

  beforeAll(async () => {
    cacheDir = mkdtempSync(join(tmpdir(), "edge-front-bounds-"));
    cp = new ScriptedControlPlane();
    const grpcPort = await cp.listen();
    const config = loadConfig({
      EDGE_POP: "fra",
      EDGE_NODE_ID: "fra-bounds",
      EDGE_HTTP_PORT: "0",
      EDGE_CONTROL_PLANE: `127.0.0.1:${grpcPort}`,
      EDGE_CACHE_DIR: cacheDir,
      EDGE_MAX_REQUEST_BYTES: "4096",
      EDGE_MAX_BODY_BYTES_IN_FLIGHT: "5000",
      EDGE_MAX_RESPONSE_HEADER_BYTES: "2048",
      EDGE_ISOLATE_THREADS: "0",
    });
    node = createEdgeNode(config, { logger: pino({ level: "silent" }) });
    ({ httpPort: port } = await node.start());
    base = `http://127.0.0.1:${port}`;
    await cp.waitFor((m) => m.msg?.$case === "hello");
    await cp.push({
      configVersion: 1,
      full: true,
      upserts: [
        script("hello", 1, `export default { fetch: () => new Response("hi") }`),
        script(
          "spoof",
          1,
          `export default { fetch: () => new Response("x", { headers: { "x-edge-pop": "evil", "x-edge-script-version": "99" } }) }`,
        ),
        script(
          "fat",
          1,
          `export default { fetch: () => new Response("x", { headers: { "x-big": "a".repeat(4000) } }) }`,
        ),
        script(
          "sink",
          1,
          `export default { async fetch(r) { return new Response(String((await r.arrayBuffer()).byteLength)); } }`,
        ),
        script(
          "sleeper",
          1,
          `export default { async fetch() { await new Promise((r) => setTimeout(r, 60000)); return new Response("late"); } }`,
        ),
        script(
          "hops",
          1,
          `export default { fetch: (r) => new Response(r.headers.get("x-edge-hops") ?? "none") }`,
        ),
        script(
          "prober",
          1,
          `export default { async fetch(r) {
            const out = [];
            for (const target of ["http://127.0.0.1:${port}/", "http://0.0.0.0:${port}/", "http://169.254.169.254/latest/meta-data/", "http://[::ffff:127.0.0.1]:${port}/", "http://localhost:${port}/", "http://10.0.0.1/"]) {
              try { const res = await fetch(target, { headers: { host: "hello.localhost" } }); out.push(res.status); }
              catch (e) { out.push(e.message.startsWith("Network connection to") ? "refused" : e.message); }
            }
            return Response.json(out);
          } }`,
        ),
      ],
      removals: [],
    });
  });

  afterAll(async () => {
    await node.stop();
    await cp.close();
    rmSync(cacheDir, { recursive: true, force: true });
  });

  it("answers duplicate Host headers with 400 EDGE_BAD_HOST", async () => {
    const reply = await raw(port, "GET / HTTP/1.1\r\nHost: hello.localhost\r\nHost: other.localhost\r\n\r\n");
    expect(reply).toMatch(/^HTTP\/1.1 400/);
    expect(reply).toContain('"code":"EDGE_BAD_HOST"');
  });

  it("answers a Host header with an impossible port with 400, not a 500", async () => {
    const reply = await raw(port, "GET / HTTP/1.1\r\nHost: hello.localhost:99999\r\n\r\n");
    expect(reply).toMatch(/^HTTP\/1.1 400/);
    expect(reply).toContain('"code":"EDGE_BAD_HOST"');
  });

  it("answers TRACE, a method no Request can carry, with 405 before any script runs (TRACK never parses: 400)", async () => {
    const trace = await raw(port, "TRACE / HTTP/1.1\r\nHost: hello.localhost\r\n\r\n");
    expect(trace).toMatch(/^HTTP\/1.1 405/);
    expect(trace).toContain('"code":"EDGE_METHOD_NOT_ALLOWED"');
    const track = await raw(port, "TRACK / HTTP/1.1\r\nHost: hello.localhost\r\n\r\n");
    expect(track).toMatch(/^HTTP\/1.1 400/);
  });

  it("overwrites x-edge-pop and x-edge-script-version a script sets itself", async () => {
    const res = await requestWithHost(base, "spoof.localhost");
    expect(res.headers["x-edge-pop"]).toBe("fra");
    expect(res.headers["x-edge-script-version"]).toBe("1");
  });

  it("answers a script's oversized response head with 502 EDGE_RESPONSE_HEADERS_TOO_LARGE", async () => {
    const res = await requestWithHost(base, "fat.localhost");
    expect(res.status).toBe(502);
    expect(JSON.parse(res.text).error.code).toBe("EDGE_RESPONSE_HEADERS_TOO_LARGE");
  });

  it("refuses a request that went through 16 edge runs with 508 EDGE_LOOP_DETECTED, and hides the hop header from scripts", async () => {
    const looped = await requestWithHost(base, "hops.localhost", "/", { headers: { "x-edge-hops": "16" } });
    expect(looped.status).toBe(508);
    expect(JSON.parse(looped.text).error.code).toBe("EDGE_LOOP_DETECTED");
    const fine = await requestWithHost(base, "hops.localhost", "/", { headers: { "x-edge-hops": "3" } });
    expect(fine.text).toBe("none");
  });

  it("refuses scripts' fetches to loopback, 0.0.0.0, link-local metadata and private addresses by default", async () => {
    const res = await requestWithHost(base, "prober.localhost");
    expect(JSON.parse(res.text)).toEqual(["refused", "refused", "refused", "refused", "refused", "refused"]);
  });

  it("answers 503 EDGE_OVERLOADED once stalled uploads hold the node's body budget, and frees it when they go", async () => {
    const first = await stalledUpload(port, 2_000);
    const second = await stalledUpload(port, 2_000);
    try {
      const refused = await requestWithHost(base, "sink.localhost", "/", {
        method: "POST",
        body: "y".repeat(2_000),
      });
      expect(refused.status).toBe(503);
      expect(JSON.parse(refused.text).error.code).toBe("EDGE_OVERLOADED");
    } finally {
      first.close();
      second.close();
    }
    // Bounded: the budget comes back once the stalled requests are gone.
    let status = 0;
    for (let i = 0; i < 50 && status !== 200; i++) {
      status = (
        await requestWithHost(base, "sink.localhost", "/", { method: "POST", body: "y".repeat(2_000) })
      ).status;
      if (status !== 200) await new Promise((r) => setTimeout(r, 50));
    }
    expect(status).toBe(200);
  });

  it("counts a client that disconnects as EDGE_CLIENT_CLOSED, never EDGE_INTERNAL", async () => {
    const socket = connect(port, "127.0.0.1");
    await new Promise<void>((resolve) => socket.once("connect", resolve));
    socket.write("GET / HTTP/1.1\r\nHost: sleeper.localhost\r\n\r\n");
    await new Promise((r) => setTimeout(r, 300));
    socket.destroy();
    const counted = /edge_request_errors_total\{script="sleeper",[^}]*code="EDGE_CLIENT_CLOSED"[^}]*\} 1/;
    let text = "";
    for (let i = 0; i < 100 && !counted.test(text); i++) {
      text = (await requestWithHost(base, "node.internal", "/metrics")).text;
      if (!counted.test(text)) await new Promise((r) => setTimeout(r, 50));
    }
    expect(text).toMatch(counted);
    expect(text).not.toContain('code="EDGE_INTERNAL"');
  });
});
