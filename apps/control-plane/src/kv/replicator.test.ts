import type { KvSync, KvWriteResult } from "@edge/protocol";
import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  eventually,
  startTestControlPlane,
  type TestControlPlane,
  type TestNode,
} from "../grpc/test-node.js";
import { createSqliteStore } from "../store/sqlite.js";
import type { Store } from "../store/types.js";
import { createKvReplicator, type KvReplicator } from "./replicator.js";

const text = (s: string) => new TextEncoder().encode(s);
const put = (key: string, value: string) => ({ key, value: text(value), metadata: null, expiration: null });

function syncs(node: TestNode): KvSync[] {
  return node.messages.flatMap((m) => (m.msg?.$case === "kvSync" ? [m.msg.value] : []));
}

function results(node: TestNode): KvWriteResult[] {
  return node.messages.flatMap((m) => (m.msg?.$case === "kvWriteResult" ? [m.msg.value] : []));
}

/** namespace id -> version reached and key -> value (null for a tombstone), over every sync received. */
function applied(node: TestNode) {
  const versions: Record<string, number> = {};
  const values = new Map<string, string | null>();
  for (const sync of syncs(node)) {
    for (const ns of sync.namespaces) {
      versions[ns.namespaceId] = Number(ns.version);
      for (const e of ns.entries) values.set(e.key, e.deleted ? null : new TextDecoder().decode(e.value));
    }
    for (const id of sync.removedNamespaces) delete versions[id];
  }
  return { versions, values };
}

describe("KV replication over the node stream", () => {
  let store: Store;
  let kv: KvReplicator;
  let cp: TestControlPlane;

  beforeEach(async () => {
    store = createSqliteStore(":memory:");
    kv = createKvReplicator({ store, logger: pino({ level: "silent" }), pollMs: 50 });
    kv.start();
    cp = await startTestControlPlane({ store, telemetry: kv.hooks });
  });

  afterEach(async () => {
    await cp.close();
    await kv.close();
    await store.close();
  });

  async function subscribed(versions: Record<string, number>, id = "node-1"): Promise<TestNode> {
    const node = cp.node();
    node.hello(id, { pop: "fra" });
    await node.until(() => node.welcome !== undefined, "welcome");
    node.send({ $case: "kvSubscribe", value: { versions } });
    return node;
  }

  it("sends a new node every live key, then after a reconnect only the keys written since", async () => {
    const ns = await store.createKvNamespace("cache");
    await store.writeKv(
      ns.id,
      Array.from({ length: 50 }, (_, i) => put(`k${i}`, `v${i}`)),
    );
    await store.writeKv(ns.id, [{ key: "k0", delete: true }]);
    const first = await subscribed({});
    await first.until(() => applied(first).versions[ns.id] === 51, "the whole namespace");
    const entries = syncs(first).flatMap((s) => s.namespaces.flatMap((n) => n.entries));
    // From scratch: the 49 live keys, no tombstone.
    expect(entries).toHaveLength(49);
    first.close();

    await store.writeKv(ns.id, [put("k1", "changed"), { key: "k2", delete: true }, put("new", "n")]);
    const again = await subscribed({ [ns.id]: 51 }, "node-1");
    await again.until(() => applied(again).versions[ns.id] === 54, "the changes");
    const delta = syncs(again).flatMap((s) => s.namespaces.flatMap((n) => n.entries));
    expect(delta.map((e) => [e.key, Number(e.version), e.deleted])).toEqual([
      ["k1", 52, false],
      ["k2", 53, true],
      ["new", 54, false],
    ]);
  });

  it("streams later writes at once, removes deleted namespaces, and sends large namespaces in bounded parts", async () => {
    const small = createKvReplicator({ store, logger: pino({ level: "silent" }), maxSyncBytes: 1024 });
    await cp.close();
    cp = await startTestControlPlane({ store, telemetry: small.hooks });
    const ns = await store.createKvNamespace("big");
    await store.writeKv(
      ns.id,
      Array.from({ length: 20 }, (_, i) => put(`k${i}`, "x".repeat(200))),
    );
    const node = await subscribed({});
    await node.until(() => applied(node).versions[ns.id] === 20, "the namespace");
    expect(syncs(node).length).toBeGreaterThanOrEqual(4);

    await store.writeKv(ns.id, [put("late", "arrives")]);
    small.changed();
    await node.until(() => applied(node).values.get("late") === "arrives", "a later write");

    await store.deleteKvNamespace("big");
    small.changed();
    await node.until(() => syncs(node).some((s) => s.removedNamespaces.includes(ns.id)), "the removal");
    await small.close();
  });

  it("makes a node's write durable before answering, with its versions, and refuses bad writes", async () => {
    const ns = await store.createKvNamespace("writes");
    const node = await subscribed({});
    node.send({
      $case: "kvWrite",
      value: {
        requestId: 7,
        namespaceId: ns.id,
        mutations: [
          { key: "a", delete: false, value: Buffer.from("1"), metadata: '{"m":1}', expiration: 0 },
          { key: "b", delete: true, value: Buffer.alloc(0), expiration: 0 },
        ],
      },
    });
    await node.until(() => results(node).length === 1, "the write result");
    expect(results(node)[0]).toEqual({ requestId: 7, errorCode: "", errorMessage: "", versions: [1, 2] });
    expect(await store.readKv(ns.id, "a")).toMatchObject({ metadata: '{"m":1}', version: 1 });

    node.send({
      $case: "kvWrite",
      value: {
        requestId: 8,
        namespaceId: ns.id,
        mutations: [{ key: "", delete: true, value: Buffer.alloc(0), expiration: 0 }],
      },
    });
    node.send({
      $case: "kvWrite",
      value: {
        requestId: 9,
        namespaceId: "f".repeat(32),
        mutations: [{ key: "k", delete: true, value: Buffer.alloc(0), expiration: 0 }],
      },
    });
    await node.until(() => results(node).length === 3, "two refusals");
    expect(
      results(node)
        .slice(1)
        .map((r) => [r.requestId, r.errorCode]),
    ).toEqual([
      [8, "EDGE_KV_INVALID_WRITE"],
      [9, "EDGE_KV_NAMESPACE_NOT_FOUND"],
    ]);
  });

  it("reports a node's lag until it confirms the version it holds", async () => {
    const ns = await store.createKvNamespace("lag");
    await store.writeKv(ns.id, [put("a", "1"), put("b", "2")]);
    const node = await subscribed({});
    await node.until(() => applied(node).versions[ns.id] === 2, "the namespace");
    await new Promise((r) => setTimeout(r, 120));
    expect(kv.nodeLag("node-1")).toMatchObject({ behind: 2 });
    node.send({ $case: "kvSubscribe", value: { versions: { [ns.id]: 2 } } });
    await eventually(() => kv.nodeLag("node-1")?.behind === 0, "the confirmation");
    expect(kv.nodeLag("node-1")).toEqual({ behind: 0, lagMs: 0 });
    expect(kv.nodeLag("unknown")).toBeNull();
  });
});
