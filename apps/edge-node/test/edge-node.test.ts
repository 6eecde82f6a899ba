import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { requestWithHost } from "../src/testing/index.js";
import { type NodeAgainstScripted, startNodeAgainstScripted } from "./node-against-scripted.js";
import { ScriptedControlPlane, script } from "./scripted-control-plane.js";

const HELLO = (text: string) => `export default { async fetch(request, env) {
  const url = new URL(request.url);
  return new Response(${JSON.stringify(text)} + " " + url.pathname + " " + (env.WHO ?? ""), {
    headers: { "content-type": "text/plain", "x-from-script": "yes" },
  });
} }`;

describe("edge node against a real gRPC control plane", () => {
  let cp: ScriptedControlPlane;
  let base: string;
  let running: NodeAgainstScripted;

  beforeEach(async () => {
    running = await startNodeAgainstScripted({
      EDGE_POP: "fra",
      EDGE_NODE_ID: "fra-test",
      EDGE_LAT: "50.11",
      EDGE_LON: "8.68",
      EDGE_METRICS_INTERVAL_MS: "100",
      EDGE_MAX_REQUEST_BYTES: "1024",
    });
    ({ cp, base } = running);
  });

  afterEach(async () => {
    await running.close();
  });

  const get = (name: string, path = "/", init: { method?: string; body?: string } = {}) =>
    requestWithHost(base, `${name}.localhost`, path, init);

  it("introduces itself with its PoP, coordinates and HTTP address", async () => {
    const hello = await cp.waitFor((m) => m.msg?.$case === "hello");
    expect(hello.msg?.value).toMatchObject({
      nodeId: "fra-test",
      pop: "fra",
      lat: 50.11,
      lon: 8.68,
      httpAddress: base.replace("http://", ""),
      heldVersions: {},
    });
  });

  it("serves a pushed script by Host header, with PoP and version headers and env vars", async () => {
    const ack = await cp.push({
      configVersion: 1,
      full: true,
      upserts: [script("hello", 3, HELLO("hi"), { WHO: "fra-vars" })],
      removals: [],
    });
    expect(ack).toMatchObject({ configVersion: 1, errors: [] });
    const res = await get("hello", "/path");
    expect(res.status).toBe(200);
    expect(res.headers["x-edge-pop"]).toBe("fra");
    expect(res.headers["x-edge-script-version"]).toBe("3");
    expect(res.headers["x-from-script"]).toBe("yes");
    expect(res.text).toBe("hi /path fra-vars");
  });

  it("streams a ReadableStream body to the client chunked, and sizes a whole body with content-length", async () => {
    const streaming = `export default { fetch() {
      let n = 0;
      return new Response(new ReadableStream({
        async pull(c) {
          await new Promise((r) => setTimeout(r, 5));
          if (n === 3) { c.close(); return; }
          c.enqueue(new TextEncoder().encode("part" + n++ + ";"));
        },
      }), { headers: { "content-type": "text/plain" } });
    } }`;
    await cp.push({
      configVersion: 1,
      full: true,
      upserts: [script("streamer", 1, streaming), script("hello", 1, HELLO("whole"))],
      removals: [],
    });
    const streamed = await get("streamer");
    expect(streamed.status).toBe(200);
    expect(streamed.headers["transfer-encoding"]).toBe("chunked");
    expect(streamed.headers["content-length"]).toBeUndefined();
    expect(streamed.text).toBe("part0;part1;part2;");
    const whole = await get("hello");
    expect(whole.headers["content-length"]).toBe(String(Buffer.byteLength(whole.text)));
    const head = await get("hello", "/", { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.text).toBe("");
  });

  it("refuses a script's fetch() to the control plane's address", async () => {
    const probe = `export default { async fetch(request, env) {
      try { await fetch("http://" + env.TARGET + "/"); return new Response("reached"); }
      catch (e) { return new Response(String(e.message), { status: 502 }); }
    } }`;
    await cp.push({
      configVersion: 1,
      full: true,
      upserts: [script("probe", 1, probe, { TARGET: `127.0.0.1:${cp.port}` })],
      removals: [],
    });
    const res = await get("probe");
    expect(res.status).toBe(502);
    expect(res.text).toContain("Network connection to");
  });

  it("NACKs a script that does not compile and keeps serving its previous version", async () => {
    await cp.push({ configVersion: 1, full: true, upserts: [script("hello", 1, HELLO("v1"))], removals: [] });
    const ack = await cp.push({
      configVersion: 2,
      full: false,
      upserts: [script("hello", 2, "export default { fetch( { "), script("other", 1, HELLO("other"))],
      removals: [],
    });
    expect(ack.errors).toHaveLength(1);
    expect(ack.errors[0]).toMatchObject({ name: "hello", version: 2 });
    expect(ack.errors[0]?.errorDetail).not.toBe("");
    const res = await get("hello");
    expect(res.headers["x-edge-script-version"]).toBe("1");
    expect(res.text).toBe("v1 / ");
    expect((await get("other")).status).toBe(200);
  });

  it("answers 404 JSON for removed scripts, unknown scripts and hosts outside the zone", async () => {
    await cp.push({ configVersion: 1, full: true, upserts: [script("hello", 1, HELLO("v1"))], removals: [] });
    await cp.push({ configVersion: 2, full: false, upserts: [], removals: ["hello"] });
    const removed = await get("hello");
    expect(removed.status).toBe(404);
    expect(JSON.parse(removed.text)).toMatchObject({ error: { code: "EDGE_SCRIPT_NOT_FOUND" } });
    const outside = await requestWithHost(base, "example.com");
    expect(outside.status).toBe(404);
    expect(JSON.parse(outside.text)).toMatchObject({ error: { code: "EDGE_UNKNOWN_HOST" } });
  });

  it("answers 500 JSON with the message when the script throws, and 413 for an oversized body", async () => {
    const thrower = `export default { fetch() { throw new Error("boom at the edge"); } }`;
    await cp.push({
      configVersion: 1,
      full: true,
      upserts: [script("thrower", 1, thrower), script("hello", 1, HELLO("x"))],
      removals: [],
    });
    const res = await get("thrower");
    expect(res.status).toBe(500);
    const body = JSON.parse(res.text) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("EDGE_SCRIPT_ERROR");
    expect(body.error.message).toContain("boom at the edge");
    const big = await get("hello", "/", { method: "POST", body: "x".repeat(2048) });
    expect(big.status).toBe(413);
    expect(JSON.parse(big.text)).toMatchObject({ error: { code: "EDGE_BODY_TOO_LARGE" } });
  });

  it("reports request counts, errors and latency to the control plane", async () => {
    await cp.push({ configVersion: 1, full: true, upserts: [script("hello", 1, HELLO("x"))], removals: [] });
    for (let i = 0; i < 3; i++) await get("hello");
    // Windows are flushed every 100 ms, so the three requests may span several reports.
    const reported = () =>
      cp.received.flatMap((m) =>
        m.msg?.$case === "metrics" ? m.msg.value.scripts.filter((s) => s.script === "hello") : [],
      );
    await cp.waitFor(() => reported().reduce((n, s) => n + s.requests, 0) >= 3);
    await new Promise((r) => setTimeout(r, 300));
    const hello = reported();
    expect(hello.every((s) => s.version === 1)).toBe(true);
    expect(hello.reduce((n, s) => n + s.requests, 0)).toBe(3);
    expect(hello.reduce((n, s) => n + s.errors, 0)).toBe(0);
    expect(hello.reduce((n, s) => n + s.latencyBuckets.reduce((a, b) => a + b, 0), 0)).toBe(3);
  });

  it("reconnects after the control plane restarts and says which versions it holds", async () => {
    await cp.push({ configVersion: 1, full: true, upserts: [script("hello", 4, HELLO("x"))], removals: [] });
    const port = cp.port;
    await cp.close();
    expect((await get("hello")).status).toBe(200);
    cp = new ScriptedControlPlane();
    await cp.listen(port);
    const hello = await cp.waitFor((m) => m.msg?.$case === "hello", 15_000);
    expect(hello.msg?.value).toMatchObject({ heldVersions: { hello: 4 } });
  });
});
