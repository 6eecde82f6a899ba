import { describe, expect, it } from "vitest";
import { type KvAccess, type KvProvider, runKvOp } from "./host/kv.js";

/**
 * The KV host operation takes its request from the script's isolate: a
 * hostile script can call it with anything. Only the script's own bindings
 * reach the provider, with arguments inside Cloudflare's limits.
 */

const calls: string[] = [];
const provider: KvProvider = {
  get: (ns, key) => {
    calls.push(`get ${ns} ${key}`);
    return { value: new Uint8Array([1]), metadata: null, expiration: null };
  },
  list: (ns, options) => {
    calls.push(`list ${ns} ${options.prefix} ${options.limit}`);
    return { keys: [], cursor: null };
  },
  write: async (ns, mutations) => {
    calls.push(`write ${ns} ${mutations.map((m) => m.key).join(",")}`);
  },
};
const access: KvAccess = { provider, bindings: { KV: "ns-1" }, caller: { script: "s", version: 1 } };
let charged = 0;
const ctx = {
  charge(ms: number): void {
    charged += ms;
  },
};

describe("KV host operation", () => {
  it("serves the script's own bindings, charging host time to the script", async () => {
    calls.length = 0;
    charged = 0;
    expect(await runKvOp(ctx, access, { binding: "KV", op: "get", key: "k" })).toEqual({
      ok: { value: new Uint8Array([1]), metadata: null, expiration: null },
    });
    expect(
      await runKvOp(ctx, access, { binding: "KV", op: "list", prefix: "p", limit: 10, cursor: null }),
    ).toEqual({ ok: { keys: [], cursor: null } });
    expect(
      await runKvOp(ctx, access, {
        binding: "KV",
        op: "put",
        key: "k",
        value: new Uint8Array(3),
        metadata: '{"a":1}',
        expiration: 4_000_000_000,
      }),
    ).toEqual({ ok: null });
    expect(calls).toEqual(["get ns-1 k", "list ns-1 p 10", "write ns-1 k"]);
    expect(charged).toBeGreaterThan(0);
  });

  it("refuses other namespaces, unknown operations and out-of-limit arguments without calling the provider", async () => {
    calls.length = 0;
    const bytes = (n: number) => new Uint8Array(n);
    const refused: unknown[] = [
      { binding: "OTHER", op: "get", key: "k" },
      { binding: "toString", op: "get", key: "k" },
      { binding: "__proto__", op: "get", key: "k" },
      { binding: "KV", op: "drop", key: "k" },
      { binding: "KV", op: "get", key: "x".repeat(513) },
      { binding: "KV", op: "get", key: "" },
      { binding: "KV", op: "get", key: 42 },
      { binding: "KV", op: "getBulk", keys: Array.from({ length: 101 }, (_, i) => `k${i}`) },
      { binding: "KV", op: "list", prefix: "", limit: 1001, cursor: null },
      { binding: "KV", op: "list", prefix: "", limit: 10, cursor: "c".repeat(5000) },
      { binding: "KV", op: "put", key: "k", value: "not bytes", metadata: null, expiration: null },
      {
        binding: "KV",
        op: "put",
        key: "k",
        value: bytes(25 * 1024 * 1024 + 1),
        metadata: null,
        expiration: null,
      },
      { binding: "KV", op: "put", key: "k", value: bytes(1), metadata: "x".repeat(1025), expiration: null },
      { binding: "KV", op: "put", key: "k", value: bytes(1), metadata: "{not json", expiration: null },
      { binding: "KV", op: "put", key: "k", value: bytes(1), metadata: null, expiration: -1 },
      null,
      "get",
    ];
    for (const request of refused) {
      const reply = await runKvOp(ctx, access, request);
      expect(reply, String(JSON.stringify(request)).slice(0, 80)).toMatchObject({
        error: { message: expect.any(String) },
      });
    }
    expect(await runKvOp(ctx, null, { binding: "KV", op: "get", key: "k" })).toMatchObject({
      error: { message: "KV is not available" },
    });
    expect(calls).toEqual([]);
  });

  it("hands a provider's failure to the script as an error reply, never a crash", async () => {
    const failing: KvAccess = {
      ...access,
      provider: { ...provider, write: () => Promise.reject(new Error("KV PUT failed: 503 unreachable")) },
    };
    expect(await runKvOp(ctx, failing, { binding: "KV", op: "delete", key: "k" })).toEqual({
      error: { name: "Error", message: "KV PUT failed: 503 unreachable" },
    });
  });
});
