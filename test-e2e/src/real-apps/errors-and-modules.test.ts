import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CliProcess } from "../harness/cli.js";
import { api, TOKEN } from "../harness/cluster.js";
import { type AppCluster, startAppCluster } from "./app-cluster.js";

/**
 * What a developer sees when a real app fails (the response body, the logs
 * and the live tail, mapped onto the app's TypeScript by the source map
 * `edgectl deploy` uploads), and a multi-module upload through the API, on a
 * real control plane and edge node.
 */

const cluster: AppCluster = await startAppCluster();
afterAll(() => cluster.close());

describe("errors a developer can act on", () => {
  beforeAll(() => cluster.deploy("errors", "real-apps/errors/app.ts"));

  it("an uncaught exception is 500 EDGE_SCRIPT_ERROR with the message and where it was thrown in the TypeScript source", async () => {
    const res = await cluster.call("errors", "/orders", {
      method: "POST",
      body: '{"item":"pen","quantity":0}',
    });
    expect(res.status).toBe(500);
    expect(res.headers["content-type"]).toBe("application/json; charset=utf-8");
    expect(res.json()).toEqual({
      error: {
        code: "EDGE_SCRIPT_ERROR",
        message: "RangeError: quantity must be positive, got 0",
        location: "orders.ts:9:11",
      },
    });
  });

  it("the logs keep the exception with its stack mapped onto the app's own files", async () => {
    await cluster.call("errors", "/orders", { method: "POST", body: '{"item":"pen","quantity":-1}' });
    const read = async () => {
      const { json } = await api(cluster.cp, "GET", "/v1/scripts/errors/logs?status=error");
      return (json?.logs ?? []) as Array<{ error: { code: string; message: string } | null }>;
    };
    let logs = await read();
    for (let i = 0; i < 50 && !logs.some((l) => l.error?.message.includes("got -1")); i++) {
      await new Promise((r) => setTimeout(r, 100));
      logs = await read();
    }
    const entry = logs.find((l) => l.error?.message.includes("got -1"));
    expect(entry?.error).toEqual({
      code: "EDGE_SCRIPT_ERROR",
      message: [
        "RangeError: quantity must be positive, got -1",
        "    at parseOrder (orders.ts:9:11)",
        "    at Object.fetch (app.ts:12:19)",
      ].join("\n"),
    });
  });

  it("the live tail (edgectl tail) shows the exception with its mapped stack", async () => {
    const home = mkdtempSync(join(tmpdir(), "edge-e2e-tail-"));
    const tail = new CliProcess(["tail", "errors", "--json"], {
      env: { EDGE_API_URL: cluster.cp.api, EDGE_API_TOKEN: TOKEN },
      home,
    });
    try {
      await tail.waitFor(() => tail.stderr.some((l) => l.startsWith("tailing errors")), "the tail to open");
      const failures = () =>
        tail.stdout
          .map((line) => JSON.parse(line) as { error: { code: string; message: string } | null })
          .filter((event) => event.error?.message.includes("got -7"));
      // The session reaches the node on its own stream: send until one shows.
      for (let i = 0; i < 100 && failures().length === 0; i++) {
        await cluster.call("errors", "/orders", { method: "POST", body: '{"item":"pen","quantity":-7}' });
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(failures()[0]?.error).toEqual({
        code: "EDGE_SCRIPT_ERROR",
        message: [
          "RangeError: quantity must be positive, got -7",
          "    at parseOrder (orders.ts:9:11)",
          "    at Object.fetch (app.ts:12:19)",
        ].join("\n"),
      });
    } finally {
      await tail.stop();
      rmSync(home, { recursive: true, force: true });
    }
  });

  it("a missing API is a ReferenceError naming it", async () => {
    const res = await cluster.call("errors", "/missing-api");
    expect(res.status).toBe(500);
    expect(res.json()).toEqual({
      error: {
        code: "EDGE_SCRIPT_ERROR",
        message: "ReferenceError: HTMLRewriter is not defined",
        // The column of the identifier that is not defined.
        location: "app.ts:10:38",
      },
    });
  });
});

/** `(module (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add))` */
const ADD_WASM = Buffer.from(
  "0061736d0100000001070160027f7f017f030201000707010361646400000a09010700200020016a0b",
  "hex",
);

describe("a multi-module upload through the API (ES, text and Wasm modules)", () => {
  const b64 = (text: string | Buffer) => Buffer.from(text).toString("base64");

  it("is stored as one version, pushed to the node and linked in the isolate", async () => {
    const upload = {
      main: "src/index.js",
      modules: [
        {
          name: "src/index.js",
          type: "esm",
          content: b64(
            [
              'import { sum } from "./math.js";',
              'import greeting from "../assets/greeting.txt";',
              "export default { fetch: () => Response.json({ greeting, sum: sum(40, 2) }) };",
            ].join("\n"),
          ),
        },
        {
          name: "src/math.js",
          type: "esm",
          content: b64(
            'import wasm from "../assets/add.wasm";\nconst { add } = new WebAssembly.Instance(wasm).exports;\nexport const sum = (a, b) => add(a, b);',
          ),
        },
        { name: "assets/greeting.txt", type: "text", content: b64("héllo from a text module") },
        { name: "assets/add.wasm", type: "wasm", content: b64(ADD_WASM) },
      ],
    };
    const put = await api(
      cluster.cp,
      "PUT",
      "/v1/scripts/modules",
      JSON.stringify(upload),
      "application/json",
    );
    expect(put.status).toBe(201);
    let res = await cluster.call("modules", "/");
    for (let i = 0; i < 100 && res.status === 404; i++) {
      await new Promise((r) => setTimeout(r, 100));
      res = await cluster.call("modules", "/");
    }
    expect(res.status).toBe(200);
    expect(res.headers["x-edge-script-version"]).toBe("1");
    expect(res.json()).toEqual({ greeting: "héllo from a text module", sum: 42 });
  });
});
