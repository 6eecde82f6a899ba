import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { KvEntry } from "@edge/protocol";
import { describe, expect, it } from "vitest";
import { KvReplica } from "../src/kv/replica.js";

const NS = "a".repeat(32);
const entry = (key: string, version: number, value: string, extra: Partial<KvEntry> = {}): KvEntry => ({
  key,
  version,
  deleted: false,
  value: Buffer.from(value),
  expiration: 0,
  ...extra,
});
const text = (replica: KvReplica, key: string, now?: number) => {
  const found = replica.get(NS, key, now);
  return found === null ? null : new TextDecoder().decode(found.value);
};

describe("a PoP's KV replica", () => {
  it("keeps the newest write of each key whatever order syncs and own writes arrive in", () => {
    const replica = new KvReplica(":memory:");
    replica.applySync({
      namespaces: [{ namespaceId: NS, version: 3, entries: [entry("k", 3, "three")] }],
      removedNamespaces: [],
    });
    replica.applySync({
      namespaces: [{ namespaceId: NS, version: 2, entries: [entry("k", 2, "two")] }],
      removedNamespaces: [],
    });
    expect(text(replica, "k")).toBe("three");
    replica.applyOwnWrite(
      NS,
      [{ key: "k", value: Buffer.from("five"), metadata: '{"m":1}', expiration: null }],
      [5],
    );
    expect(replica.get(NS, "k")).toMatchObject({ metadata: '{"m":1}' });
    replica.applySync({
      namespaces: [{ namespaceId: NS, version: 4, entries: [entry("k", 4, "four")] }],
      removedNamespaces: [],
    });
    expect(text(replica, "k")).toBe("five");
    // The namespace version only moves with syncs, in order: a reconnect asks for what came after it.
    expect(replica.versions()).toEqual({ [NS]: 4 });
    replica.applySync({
      namespaces: [{ namespaceId: NS, version: 6, entries: [entry("k", 6, "", { deleted: true })] }],
      removedNamespaces: [],
    });
    expect(text(replica, "k")).toBeNull();
    replica.close();
  });

  it("hides expired keys at once, purges them, lists by prefix with cursors, and drops removed namespaces", () => {
    const replica = new KvReplica(":memory:");
    replica.applySync({
      namespaces: [
        {
          namespaceId: NS,
          version: 4,
          entries: [
            entry("p:1", 1, "a"),
            entry("p:2", 2, "b", { expiration: 2_000 }),
            entry("p:3", 3, "c"),
            entry("q", 4, "d"),
          ],
        },
      ],
      removedNamespaces: [],
    });
    expect(text(replica, "p:2", 1_999_000)).toBe("b");
    expect(text(replica, "p:2", 2_000_000)).toBeNull();
    const first = replica.list(NS, { prefix: "p:", limit: 1, cursor: null }, 2_000_000);
    expect(first.keys.map((k) => k.name)).toEqual(["p:1"]);
    const rest = replica.list(NS, { prefix: "p:", limit: 10, cursor: first.cursor }, 2_000_000);
    expect(rest).toEqual({ keys: [{ name: "p:3", expiration: null, metadata: null }], cursor: null });
    expect(replica.purgeExpired(2_000_000)).toBe(1);
    replica.applySync({ namespaces: [], removedNamespaces: [NS] });
    expect(replica.versions()).toEqual({});
    expect(text(replica, "q")).toBeNull();
    replica.close();
  });

  it("is restored from disk after a restart", () => {
    const dir = mkdtempSync(join(tmpdir(), "edge-kv-replica-"));
    try {
      const replica = new KvReplica(dir);
      replica.applySync({
        namespaces: [{ namespaceId: NS, version: 1, entries: [entry("k", 1, "kept")] }],
        removedNamespaces: [],
      });
      replica.close();
      const reopened = new KvReplica(dir);
      expect(text(reopened, "k")).toBe("kept");
      expect(reopened.versions()).toEqual({ [NS]: 1 });
      reopened.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
