import { readdirSync, readFileSync, statSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { requestWithHost } from "@edge/edge-node/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually } from "../harness/cluster.js";
import { deploy, fetchFrom, type HostileCluster, startHostileCluster } from "./hostile-cluster.js";

/** Sends raw bytes, resolves with the answer's status line (or "" if the node closed without one). */
function rawStatus(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    let data = "";
    const timer = setTimeout(() => socket.destroy(), 5_000);
    socket.on("data", (chunk: Buffer) => {
      data += chunk.toString("latin1");
    });
    socket.on("close", () => {
      clearTimeout(timer);
      resolve(data.split("\r\n")[0] ?? "");
    });
    socket.on("error", reject);
    socket.write(text);
    socket.end();
  });
}

/** Issue 12, Medium 9, Medium 13 and the low items of the edge front, against a real node process. */
describe("hostile clients and tenants at the edge front", () => {
  let cluster: HostileCluster;
  let port = 0;
  const secret = "sk_live_hostile-suite-7c1e";

  beforeAll(async () => {
    cluster = await startHostileCluster({
      EDGE_MAX_REQUEST_BYTES: "100000",
      EDGE_MAX_BODY_BYTES_IN_FLIGHT: "250000",
      EDGE_MAX_RESPONSE_HEADER_BYTES: "8192",
    });
    port = Number(new URL(cluster.node.base).port);
    await deploy(
      cluster,
      "spoof",
      `export default { fetch: () => new Response("x", { headers: { "x-edge-pop": "evil", "x-edge-script-version": "999" } }) }`,
    );
    await deploy(
      cluster,
      "fat-head",
      `export default { fetch: () => new Response("x", { headers: { "x-big": "a".repeat(20000) } }) }`,
    );
    await deploy(
      cluster,
      "sink",
      `export default { async fetch(r) { return new Response(String((await r.arrayBuffer()).byteLength)); } }`,
    );
    await deploy(
      cluster,
      "pay",
      `export default { fetch: (r, env) => new Response(env.API_KEY.length === ${secret.length} ? "ok" : "no") }`,
      {
        secrets: { API_KEY: secret },
      },
    );
  }, 120_000);

  afterAll(async () => {
    await cluster?.stop();
  });

  it("answers duplicate Host headers and an impossible Host port with 400, not 500", async () => {
    expect(
      await rawStatus(port, "GET / HTTP/1.1\r\nHost: spoof.localhost\r\nHost: pay.localhost\r\n\r\n"),
    ).toMatch(/ 400 /);
    expect(await rawStatus(port, "GET / HTTP/1.1\r\nHost: spoof.localhost:99999\r\n\r\n")).toMatch(/ 400 /);
  });

  it("overwrites x-edge-pop and x-edge-script-version a script sets", async () => {
    const res = await requestWithHost(cluster.node.base, "spoof.localhost");
    expect([res.headers["x-edge-pop"], res.headers["x-edge-script-version"]]).toEqual(["fra", "1"]);
  });

  it("answers an oversized script response head with 502 EDGE_RESPONSE_HEADERS_TOO_LARGE", async () => {
    const res = await fetchFrom(cluster.node, "fat-head");
    expect([res.status, res.code]).toEqual([502, "EDGE_RESPONSE_HEADERS_TOO_LARGE"]);
  });

  it("refuses new bodies with 503 EDGE_OVERLOADED while stalled uploads hold the node's body budget", async () => {
    // Two uploads that declare 100 000 bytes, send 90 000 and stall: they hold 200 000 of the 250 000.
    // Opened one after the other, before any probe, so a probe never takes their place.
    const stalled: Array<ReturnType<typeof connect>> = [];
    for (let i = 0; i < 2; i++) {
      const socket = await new Promise<ReturnType<typeof connect>>((resolve) => {
        const opened = connect(port, "127.0.0.1", () => {
          opened.write(
            `POST / HTTP/1.1\r\nHost: sink.localhost\r\nContent-Length: 100000\r\n\r\n${"x".repeat(90_000)}`,
          );
          resolve(opened);
        });
        opened.on("error", () => {});
      });
      stalled.push(socket);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    try {
      let status = 0;
      const seen: string[] = [];
      await eventually(
        async () => {
          status = await requestWithHost(cluster.node.base, "sink.localhost", "/", {
            method: "POST",
            body: "y".repeat(90_000),
          }).then(
            (res) => res.status,
            (err: Error) => {
              seen.push(err.message);
              return 0;
            },
          );
          seen.push(String(status));
          return status === 503;
        },
        "the body budget is full",
        30_000,
      ).catch((err: Error) => {
        throw new Error(`${err.message}; the probe saw ${[...new Set(seen)].join(", ")}`);
      });
      expect(status).toBe(503);
    } finally {
      for (const socket of stalled) socket.destroy();
    }
    await eventually(async () => {
      const res = await requestWithHost(cluster.node.base, "sink.localhost", "/", {
        method: "POST",
        body: "y".repeat(90_000),
      });
      return res.status === 200 && res.text === "90000";
    }, "the budget is back once the stalled uploads are gone");
  });

  it("keeps secrets sealed in the node's config cache, files 0600 and directories 0700", async () => {
    expect((await fetchFrom(cluster.node, "pay")).text).toBe("ok");
    await eventually(
      async () => readdirSync(cluster.cacheDir).includes("manifest.json"),
      "the cache is written",
    );
    const files = [
      join(cluster.cacheDir, "manifest.json"),
      ...readdirSync(join(cluster.cacheDir, "sources")).map((f) => join(cluster.cacheDir, "sources", f)),
    ];
    for (const file of files) {
      expect(readFileSync(file, "utf8")).not.toContain(secret);
      expect(statSync(file).mode & 0o777).toBe(0o600);
    }
    expect(statSync(cluster.cacheDir).mode & 0o777).toBe(0o700);
  });
});
