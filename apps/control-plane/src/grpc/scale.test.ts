import { createHash } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { createSqliteStore } from "../store/sqlite.js";
import type { Store } from "../store/types.js";
import { startTestControlPlane, type TestControlPlane } from "./test-node.js";

const SCRIPTS = 10_000;
const LIMITS = { cpuMs: 50, memoryMb: 128, wallMs: 30_000 };

async function fill(store: Store, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const source = `export default { fetch() { return new Response("app ${i}"); } };`;
    const sha256 = createHash("sha256").update(source).digest("hex");
    await store.putVersion(`app-${String(i).padStart(5, "0")}`, { sha256, source, vars: {}, limits: LIMITS });
  }
}

/** The store as given, counting whole-snapshot reads. */
function countingSnapshots(store: Store): { store: Store; snapshots: () => number } {
  let snapshots = 0;
  const counted = Object.create(store) as Store;
  counted.snapshot = () => {
    snapshots++;
    return store.snapshot();
  };
  return { store: counted, snapshots: () => snapshots };
}

describe(`a control plane holding ${SCRIPTS} scripts`, () => {
  let cp: TestControlPlane | null = null;
  afterEach(async () => {
    await cp?.close();
  });

  it("sends a fresh node everything in size-bounded parts, then each deploy as a delta of that script alone, with no snapshot read", {
    timeout: 120_000,
  }, async () => {
    const sqlite = createSqliteStore(":memory:");
    await fill(sqlite, SCRIPTS);
    const { store, snapshots } = countingSnapshots(sqlite);
    // Small pushes, so the first sync must be split into several.
    cp = await startTestControlPlane({ store, grpcMaxMessageBytes: 256 * 1024 });

    const node = cp.node();
    node.hello("fra-1");
    const revision = await sqlite.revision();
    await node.until(() => node.pushes.at(-1)?.configVersion === revision, "the first sync's last part");
    const first = node.pushes.slice();
    expect(first.length).toBeGreaterThan(1);
    const names = first.flatMap((push) => push.upserts.map((s) => s.name));
    expect(new Set(names).size).toBe(SCRIPTS);
    expect(names).toHaveLength(SCRIPTS);
    for (const push of first) node.ack(push);
    const readsAtStart = snapshots();

    for (const [i, name] of ["app-00007", "app-05000", "app-09999"].entries()) {
      const source = `export default { fetch() { return new Response("v2 ${i}"); } };`;
      const sha256 = createHash("sha256").update(source).digest("hex");
      await sqlite.putVersion(name, { sha256, source, vars: {}, limits: LIMITS });
      cp.server.hub.notifyChanged();
      const push = await node.push(first.length + i + 1);
      node.ack(push);
      expect(push.upserts.map((s) => [s.name, s.version])).toEqual([[name, 2]]);
      expect(push.removals).toEqual([]);
    }
    await sqlite.deleteScript("app-00100");
    cp.server.hub.notifyChanged();
    const removal = await node.push(first.length + 4);
    expect(removal.upserts).toEqual([]);
    expect(removal.removals).toEqual(["app-00100"]);
    expect(snapshots()).toBe(readsAtStart);

    // A second node connecting now gets the current state in full, without a snapshot read either.
    const late = cp.node();
    late.hello("ams-1");
    const now = await sqlite.revision();
    await late.until(() => late.pushes.at(-1)?.configVersion === now, "the late node's first sync");
    const held = new Map(
      late.pushes.flatMap((push) => push.upserts.map((s) => [s.name, s.version] as const)),
    );
    expect(held.size).toBe(SCRIPTS - 1);
    expect(held.get("app-05000")).toBe(2);
    expect(held.has("app-00100")).toBe(false);
    expect(snapshots()).toBe(readsAtStart);
    await sqlite.close();
  });
});
