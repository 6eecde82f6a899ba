import { createIsolateRunner, type IsolateRunner } from "@edge/isolate-host";
import type { NodeMessage } from "@edge/protocol";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KvNode } from "../src/kv/kv-node.js";
import { KvReplica } from "../src/kv/replica.js";

/**
 * The Workers KV binding as scripts see it, in real isolates over the node's
 * real replica. The control plane's answer to a write is played by the link
 * below: it acknowledges with the next version (the store's job, tested in
 * the control plane's contract suite).
 */

const NS = "a".repeat(32);
let kv: KvNode;
let runner: IsolateRunner;
let threaded: IsolateRunner;
let version = 0;
const written: string[] = [];

beforeAll(() => {
  kv = new KvNode(new KvReplica(":memory:"), pino({ level: "silent" }));
  kv.attach((msg: NonNullable<NodeMessage["msg"]>) => {
    if (msg.$case === "kvWrite") {
      const { requestId, mutations } = msg.value;
      written.push(...mutations.map((m) => m.key));
      const versions = mutations.map(() => ++version);
      queueMicrotask(() => kv.onWriteResult({ requestId, errorCode: "", errorMessage: "", versions }));
    }
    return true;
  });
  runner = createIsolateRunner({ kv, maxLimits: { cpuMs: 1000, memoryMb: 128, wallMs: 10_000 } });
  threaded = createIsolateRunner({
    kv,
    threads: 1,
    maxLimits: { cpuMs: 1000, memoryMb: 128, wallMs: 10_000 },
  });
});

afterAll(async () => {
  await Promise.all([runner.dispose(), threaded.dispose()]);
  kv.close();
});

let scriptVersion = 0;

/** Runs `body` (the inside of an async function with `KV` bound) in a fresh isolate; returns its JSON result. */
async function evaluate(body: string, on: IsolateRunner = runner): Promise<unknown> {
  const prepared = await on.prepare({
    name: "kv-test",
    version: ++scriptVersion,
    source: `export default { async fetch(request, env) {
      const KV = env.KV;
      const errorOf = async (f) => { try { await f(); return "no error"; } catch (e) { return e.constructor.name + ": " + e.message; } };
      const result = await (async () => { ${body} })();
      return Response.json(result === undefined ? null : result);
    } };`,
    vars: {},
    limits: { cpuMs: 1000, memoryMb: 128, wallMs: 10_000 },
    kvBindings: { KV: NS },
  });
  const result = await on.run(prepared, { method: "GET", url: "https://kv.test/", headers: [], body: null });
  return JSON.parse(new TextDecoder().decode(result.response.body));
}

describe("KV binding: get and put", () => {
  it("puts strings, ArrayBuffers, views and streams, and gets them back as text, json, arrayBuffer and stream", async () => {
    const result = await evaluate(`
      await KV.put("s", "héllo");
      await KV.put("j", JSON.stringify({ a: [1, 2] }));
      await KV.put("ab", new Uint8Array([1, 2, 3]).buffer);
      await KV.put("view", new Uint8Array([9, 8, 7, 6]).subarray(1, 3));
      await KV.put("stream", new Response("streamed").body);
      const stream = await KV.get("stream", "stream");
      return {
        text: await KV.get("s"),
        textType: await KV.get("s", "text"),
        json: await KV.get("j", "json"),
        jsonObj: await KV.get("j", { type: "json", cacheTtl: 60 }),
        ab: [...new Uint8Array(await KV.get("ab", "arrayBuffer"))],
        view: [...new Uint8Array(await KV.get("view", { type: "arrayBuffer" }))],
        stream: await new Response(stream).text(),
        streamIsStream: stream instanceof ReadableStream,
        missing: await KV.get("nope"),
        missingJson: await KV.get("nope", "json"),
      };
    `);
    expect(result).toEqual({
      text: "héllo",
      textType: "héllo",
      json: { a: [1, 2] },
      jsonObj: { a: [1, 2] },
      ab: [1, 2, 3],
      view: [8, 7],
      stream: "streamed",
      streamIsStream: true,
      missing: null,
      missingJson: null,
    });
  });

  it("keeps metadata and expiration, reads them with getWithMetadata, and deletes", async () => {
    const result = await evaluate(`
      const at = Math.floor(Date.now() / 1000) + 3600;
      await KV.put("m", "v", { metadata: { owner: "ana", n: 1 }, expiration: at });
      await KV.put("ttl", "v", { expirationTtl: 120 });
      const withMeta = await KV.getWithMetadata("m");
      const asJson = await KV.getWithMetadata("ttl", "json").catch((e) => e.name);
      const listed = await KV.list({ prefix: "m" });
      await KV.delete("m");
      return {
        withMeta,
        listed: listed.keys.map((k) => ({ name: k.name, expires: k.expiration === at, metadata: k.metadata })),
        afterDelete: await KV.getWithMetadata("m"),
        deleteMissing: (await KV.delete("never-was")) === undefined,
        asJson,
      };
    `);
    expect(result).toEqual({
      withMeta: { value: "v", metadata: { owner: "ana", n: 1 }, cacheStatus: null },
      listed: [{ name: "m", expires: true, metadata: { owner: "ana", n: 1 } }],
      afterDelete: { value: null, metadata: null, cacheStatus: null },
      deleteMissing: true,
      asJson: "SyntaxError",
    });
  });

  it("gets many keys at once as a Map, with or without metadata", async () => {
    const result = await evaluate(`
      await KV.put("b1", '"one"', { metadata: 1 });
      await KV.put("b2", '"two"');
      const plain = await KV.get(["b1", "b2", "b3"]);
      const json = await KV.get(["b1", "b2"], "json");
      const meta = await KV.getWithMetadata(["b1", "b3"], { type: "json" });
      return {
        isMap: plain instanceof Map,
        plain: [...plain],
        json: [...json],
        meta: [...meta],
        tooMany: await errorOf(() => KV.get(Array.from({ length: 101 }, (_, i) => "k" + i))),
        badType: await errorOf(() => KV.get(["b1"], "arrayBuffer")),
      };
    `);
    expect(result).toEqual({
      isMap: true,
      plain: [
        ["b1", '"one"'],
        ["b2", '"two"'],
        ["b3", null],
      ],
      json: [
        ["b1", "one"],
        ["b2", "two"],
      ],
      meta: [
        ["b1", { value: "one", metadata: 1 }],
        ["b3", { value: null, metadata: null }],
      ],
      tooMany: "Error: KV GET_BULK failed: 400 You can request a maximum of 100 keys",
      badType: 'TypeError: "arrayBuffer" is not a valid type. Use "json" or "text"',
    });
  });
});

describe("KV binding: list", () => {
  it("lists keys in order by prefix, a page at a time, with list_complete and a cursor", async () => {
    const result = await evaluate(`
      for (const k of ["p:c", "p:a", "p:b", "q:z", "p:d"]) await KV.put(k, "x");
      const first = await KV.list({ prefix: "p:", limit: 3 });
      const second = await KV.list({ prefix: "p:", limit: 3, cursor: first.cursor });
      return {
        first: { names: first.keys.map((k) => k.name), complete: first.list_complete, hasCursor: typeof first.cursor === "string" },
        second,
        all: (await KV.list()).keys.length >= 5,
      };
    `);
    expect(result).toEqual({
      first: { names: ["p:a", "p:b", "p:c"], complete: false, hasCursor: true },
      second: { keys: [{ name: "p:d" }], list_complete: true, cacheStatus: null },
      all: true,
    });
  });
});

describe("KV binding: Cloudflare's limits and errors", () => {
  it("throws Cloudflare's errors for bad keys, expirations, metadata, limits and types, writing nothing", async () => {
    const before = written.length;
    const result = await evaluate(`
      const long = "k".repeat(513);
      return [
        await errorOf(() => KV.get("")),
        await errorOf(() => KV.put(".", "v")),
        await errorOf(() => KV.delete("..")),
        await errorOf(() => KV.get(long)),
        await errorOf(() => KV.put(long, "v")),
        await errorOf(() => KV.put("k", "v", { expirationTtl: 30 })),
        await errorOf(() => KV.put("k", "v", { expiration: Math.floor(Date.now() / 1000) + 10 })),
        await errorOf(() => KV.put("k", "v", { metadata: "x".repeat(1100) })),
        await errorOf(() => KV.put("k", 42)),
        await errorOf(() => KV.list({ limit: 1001 })),
        await errorOf(() => KV.list({ limit: 0 })),
        await errorOf(() => KV.get("k", "xml")),
        await errorOf(() => KV.get("k", { cacheTtl: 10 })),
      ];
    `);
    expect(result).toEqual([
      "TypeError: Key name cannot be empty.",
      'TypeError: "." is not allowed as a key name.',
      'TypeError: ".." is not allowed as a key name.',
      "Error: KV GET failed: 414 UTF-8 encoded length of 513 exceeds key length limit of 512.",
      "Error: KV PUT failed: 414 UTF-8 encoded length of 513 exceeds key length limit of 512.",
      "Error: KV PUT failed: 400 Invalid expiration_ttl of 30. Expiration TTL must be at least 60.",
      expect.stringMatching(
        /^Error: KV PUT failed: 400 Invalid expiration of \d+\. Expiration times must be at least 60 seconds in the future\.$/,
      ),
      "Error: KV PUT failed: 413 Metadata length of 1102 exceeds limit of 1024.",
      "TypeError: KV put() accepts only strings, ArrayBuffers, ArrayBufferViews, and ReadableStreams as values.",
      "Error: KV LIST failed: 400 Invalid key_count_limit of 1001. Please specify an integer less than 1001.",
      "Error: KV LIST failed: 400 Invalid key_count_limit of 0. Please specify an integer greater than 0.",
      'TypeError: Unknown response type. Possible types are "text", "arrayBuffer", "json", and "stream".',
      "Error: KV GET failed: 400 Invalid cache_ttl of 10. Cache TTL must be at least 60.",
    ]);
    expect(written.length).toBe(before);
  });

  it("refuses a value over 25 MiB with Cloudflare's 413, without a crash", async () => {
    const result = await evaluate(
      `return errorOf(() => KV.put("big", new Uint8Array(25 * 1024 * 1024 + 1)));`,
    );
    expect(result).toBe("Error: KV PUT failed: 413 Value length of 26214401 exceeds limit of 26214400.");
  });

  it("allows 1000 KV operations per request, as Cloudflare does, then throws its error", async () => {
    const result = await evaluate(`
      for (let i = 0; i < 1000; i++) await KV.get("k" + i);
      return [await errorOf(() => KV.get("one-more")), await errorOf(() => KV.put("one-more", "v"))];
    `);
    expect(result).toEqual([
      "Error: Too many API requests by single worker invocation.",
      "Error: Too many API requests by single worker invocation.",
    ]);
  });

  it("cannot be constructed by a script nor reach a namespace it is not bound to", async () => {
    const result = await evaluate(`
      const Ctor = KV.constructor;
      return [await errorOf(() => new Ctor(Symbol(), "OTHER")), await errorOf(() => Ctor.prototype.get.call({}, "k"))];
    `);
    expect(result).toEqual(["TypeError: Illegal constructor", "TypeError: Illegal invocation"]);
  });
});

describe("KV binding on worker threads", () => {
  it("reads and writes through the main thread's provider", async () => {
    const result = await evaluate(
      `await KV.put("thread", "from a worker"); return [await KV.get("thread"), (await KV.list({ prefix: "thread" })).keys.length];`,
      threaded,
    );
    expect(result).toEqual(["from a worker", 1]);
  });
});
