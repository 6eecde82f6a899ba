import { describe, expect, it } from "vitest";
import type { ContractContext } from "./contract.js";
import { version } from "./contract-helpers.js";

const text = (s: string) => new TextEncoder().encode(s);
const put = (key: string, value: string, extra: { metadata?: string; expiration?: number } = {}) => ({
  key,
  value: text(value),
  metadata: extra.metadata ?? null,
  expiration: extra.expiration ?? null,
});

/** Workers KV: namespaces, values, listings, changes since a version, expirations. */
export function kvContract(context: ContractContext): void {
  describe("kv", () => {
    it("creates, lists, renames and deletes namespaces, keeping the id across a rename", async () => {
      const store = context.store();
      const created = await store.createKvNamespace("sessions", 1_000);
      expect(created).toMatchObject({ name: "sessions", createdAt: 1_000, version: 0 });
      expect(created.id).toMatch(/^[0-9a-f]{32}$/);
      await expect(store.createKvNamespace("sessions")).rejects.toMatchObject({
        code: "EDGE_KV_NAMESPACE_EXISTS",
      });
      await store.createKvNamespace("flags");
      expect((await store.listKvNamespaces()).map((ns) => ns.name)).toEqual(["flags", "sessions"]);
      await expect(store.renameKvNamespace("sessions", "flags")).rejects.toMatchObject({
        code: "EDGE_KV_NAMESPACE_EXISTS",
      });
      const renamed = await store.renameKvNamespace("sessions", "users");
      expect(renamed).toMatchObject({ id: created.id, name: "users" });
      expect(await store.getKvNamespace("sessions")).toBeNull();
      expect(await store.renameKvNamespace("nope", "other")).toBeNull();
      expect(await store.deleteKvNamespace("users")).toBe(true);
      expect(await store.deleteKvNamespace("users")).toBe(false);
      expect(await store.getKvNamespace("users")).toBeNull();
    });

    it("stores bytes with metadata and expiration, numbering each write with the namespace's next version", async () => {
      const store = context.store();
      const ns = await store.createKvNamespace("data");
      const binary = new Uint8Array([0, 255, 1, 128]);
      const versions = await store.writeKv(ns.id, [
        put("a", "one", { metadata: '{"x":1}' }),
        { key: "bin", value: binary, metadata: null, expiration: 4_000_000_000 },
      ]);
      expect(versions).toEqual([1, 2]);
      const a = await store.readKv(ns.id, "a");
      expect(new TextDecoder().decode(a!.value)).toBe("one");
      expect(a).toMatchObject({ key: "a", metadata: '{"x":1}', expiration: null, version: 1 });
      expect([...(await store.readKv(ns.id, "bin"))!.value]).toEqual([0, 255, 1, 128]);
      expect((await store.getKvNamespace("data"))!.version).toBe(2);
      expect(await store.writeKv(ns.id, [{ key: "a", delete: true }])).toEqual([3]);
      expect(await store.readKv(ns.id, "a")).toBeNull();
      expect(await store.writeKv("0".repeat(32), [put("a", "x")])).toBeNull();
    });

    it("reads an expired key as absent and purges it", async () => {
      const store = context.store();
      const ns = await store.createKvNamespace("ttl");
      await store.writeKv(ns.id, [put("soon", "v", { expiration: 2_000 }), put("later", "v")]);
      expect(await store.readKv(ns.id, "soon", 1_999_000)).not.toBeNull();
      expect(await store.readKv(ns.id, "soon", 2_000_000)).toBeNull();
      expect((await store.listKv(ns.id, { limit: 10 }, 2_000_000)).keys.map((k) => k.name)).toEqual([
        "later",
      ]);
      expect(await store.purgeExpiredKv(2_000_000)).toBe(1);
      expect(await store.readKv(ns.id, "soon", 0)).toBeNull();
    });

    it("lists keys in byte order by prefix, a page at a time, with a cursor until complete", async () => {
      const store = context.store();
      const ns = await store.createKvNamespace("list");
      await store.writeKv(ns.id, [
        put("user:3", "c", { metadata: '"m"' }),
        put("user:1", "a"),
        put("user:2", "b"),
        put("other", "x"),
        put("user:é", "e"),
      ]);
      const first = await store.listKv(ns.id, { prefix: "user:", limit: 2 });
      expect(first.keys.map((k) => k.name)).toEqual(["user:1", "user:2"]);
      expect(first.cursor).toEqual(expect.any(String));
      const second = await store.listKv(ns.id, { prefix: "user:", limit: 2, cursor: first.cursor });
      expect(second.keys).toEqual([
        { name: "user:3", expiration: null, metadata: '"m"' },
        { name: "user:é", expiration: null, metadata: null },
      ]);
      expect(second.cursor).toBeNull();
      expect((await store.listKv(ns.id, { limit: 1000 })).keys).toHaveLength(5);
    });

    it("returns the keys written after a version, tombstones included, within a byte budget", async () => {
      const store = context.store();
      const ns = await store.createKvNamespace("changes");
      await store.writeKv(ns.id, [put("a", "1"), put("b", "2"), put("c", "3")]);
      await store.writeKv(ns.id, [{ key: "a", delete: true }, put("b", "22")]);
      const fromZero = await store.kvChangesSince(ns.id, 0, 1 << 20);
      // From scratch, a tombstone is not worth sending.
      expect(fromZero.changes.map((c) => [c.key, c.version, c.deleted])).toEqual([
        ["c", 3, false],
        ["b", 5, false],
      ]);
      const since3 = await store.kvChangesSince(ns.id, 3, 1 << 20);
      expect(since3.changes.map((c) => [c.key, c.version, c.deleted])).toEqual([
        ["a", 4, true],
        ["b", 5, false],
      ]);
      expect(new TextDecoder().decode(since3.changes[1]!.value)).toBe("22");
      const small = await store.kvChangesSince(ns.id, 3, 1);
      expect(small).toMatchObject({ more: true, changes: [{ key: "a" }] });
      expect((await store.kvChangesSince(ns.id, 5, 1 << 20)).changes).toEqual([]);
    });

    it("keeps a version's bindings with the version, so a rollback restores them", async () => {
      const store = context.store();
      const bindings = { CACHE: { type: "kv" as const, namespaceId: "a".repeat(32), namespace: "cache" } };
      await store.putVersion("app", version("export default {}", { bindings }));
      await store.putVersion("app", version("export default { v: 2 }"));
      expect((await store.getVersion("app", 1))!.bindings).toEqual(bindings);
      expect((await store.getActive("app"))!.bindings).toEqual({});
      await store.setActive("app", 1);
      expect((await store.snapshot()).scripts[0]!.bindings).toEqual(bindings);
      expect((await store.listVersions("app"))[1]!.bindings).toEqual(bindings);
    });
  });
}
