import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freshCacheDir } from "./harness/cache-dir.js";
import {
  api,
  type ControlPlane,
  type EdgeNodeProc,
  eventually,
  POPS,
  startControlPlane,
} from "./harness/cluster.js";
import { apiGet, apiPut, KV_SCRIPT, readAt, startNodeWithCache, writeAt } from "./harness/kv.js";

/**
 * Workers KV with real processes: a control plane on a SQLite file and three
 * PoPs, each with its replica on disk. Writes through the API and from a
 * script reach every PoP; killing the control plane in a burst of writes
 * loses no acknowledged write; a PoP restarted while the control plane is
 * down serves its replica.
 */
describe("Workers KV across three PoPs", () => {
  let dir: string;
  let store: string;
  let cp: ControlPlane;
  let grpcPort: number;
  const caches = POPS.map(() => freshCacheDir());
  let nodes: EdgeNodeProc[] = [];
  let namespaceId = "";

  const everywhere = (key: string, value: string | null, on: EdgeNodeProc[] = nodes) =>
    eventually(
      async () => (await Promise.all(on.map((n) => readAt(n, "kvapp", key)))).every((v) => v === value),
      `every PoP reads ${key} = ${value}`,
      20_000,
    );

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "edge-e2e-kv-"));
    store = `sqlite:${join(dir, "cp.db")}`;
    cp = await startControlPlane(store);
    grpcPort = cp.grpcPort;
    nodes = await Promise.all(POPS.map((pop, i) => startNodeWithCache(pop, grpcPort, caches[i]!)));
    const created = await api(
      cp,
      "POST",
      "/v1/kv/namespaces",
      JSON.stringify({ name: "e2e" }),
      "application/json",
    );
    expect(created.status).toBe(201);
    namespaceId = created.json?.id as string;
    const deployed = await api(
      cp,
      "PUT",
      "/v1/scripts/kvapp",
      JSON.stringify({ source: KV_SCRIPT, bindings: { KV: { type: "kv", namespace: "e2e" } } }),
      "application/json",
    );
    expect(deployed.status).toBe(201);
    await eventually(
      async () => (await Promise.all(nodes.map((n) => readAt(n, "kvapp", "none")))).every((v) => v === null),
      "every PoP runs the KV script",
      30_000,
    );
  });

  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.proc.stop()));
    await cp?.proc.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("reads a write made through the API, and one made by a script at one PoP, at every PoP", async () => {
    expect(await apiPut(cp, "e2e", "from-api", "hello from the API")).toBe(true);
    await everywhere("from-api", "hello from the API");

    const [fra, iad, sin] = nodes as [EdgeNodeProc, EdgeNodeProc, EdgeNodeProc];
    expect(await writeAt(fra, "kvapp", "from-script", "written at fra")).toBe(true);
    // A PoP reads its own write at once.
    expect(await readAt(fra, "kvapp", "from-script")).toBe("written at fra");
    await everywhere("from-script", "written at fra", [iad, sin]);
    expect(await apiGet(cp, "e2e", "from-script")).toBe("written at fra");

    type Listed = Array<{ kv: { behind: number; lagMs: number } | null }>;
    const listedNodes = async () => ((await api(cp, "GET", "/v1/nodes")).json?.nodes ?? []) as Listed;
    expect(await listedNodes()).toHaveLength(3);
    await eventually(
      async () => (await listedNodes()).every((n) => n.kv?.behind === 0 && n.kv.lagMs === 0),
      "every node reports no KV lag",
    );

    // The script's reads, misses and writes show in /v1/metrics, by namespace.
    type Kv = Record<string, { reads: number; misses: number; writes: number }>;
    await eventually(async () => {
      const view = await api(cp, "GET", "/v1/metrics?script=kvapp");
      const kv = (view.json?.scripts as Array<{ kv: Kv }> | undefined)?.[0]?.kv?.[namespaceId];
      return kv !== undefined && kv.reads > 0 && kv.misses > 0 && kv.writes === 1;
    }, "KV operations in /v1/metrics");
  });

  it("loses no acknowledged write when the control plane is killed during a burst of writes", async () => {
    const acked = new Map<string, string>();
    const fra = nodes[0]!;
    let stop = false;
    const burst = async (writer: number) => {
      for (let i = 0; !stop && i < 400; i++) {
        const key = `burst-${writer}-${i}`;
        const value = `v${i}`;
        const ok =
          writer % 2 === 0 ? await apiPut(cp, "e2e", key, value) : await writeAt(fra, "kvapp", key, value);
        if (ok) acked.set(key, value);
      }
    };
    const writers = [0, 1, 2, 3].map(burst);
    await eventually(async () => acked.size >= 40, "some writes acknowledged before the kill");
    await cp.proc.stop("SIGKILL");
    await new Promise((r) => setTimeout(r, 500));
    stop = true;
    await Promise.all(writers);
    const before = acked.size;
    cp = await startControlPlane(store, grpcPort);
    expect(before).toBeGreaterThanOrEqual(40);
    for (const [key, value] of acked) expect(await apiGet(cp, "e2e", key)).toBe(value);
    // Every PoP converges on every acknowledged write.
    const last = [...acked.entries()].slice(-5);
    for (const [key, value] of last) await everywhere(key, value);
    // And a spread of them, old and new, script- and API-written, reads right at every PoP.
    const sample = [...acked.entries()].filter((_, i) => i % Math.ceil(acked.size / 30) === 0);
    for (const node of nodes) {
      for (const [key, value] of sample) expect(await readAt(node, "kvapp", key)).toBe(value);
    }
  });

  it("serves its replica from a PoP restarted while the control plane is down", async () => {
    expect(await apiPut(cp, "e2e", "survivor", "still here")).toBe(true);
    await everywhere("survivor", "still here");
    await cp.proc.stop("SIGKILL");
    const sin = nodes[2]!;
    await sin.proc.stop();
    const restarted = await startNodeWithCache(POPS[2]!, grpcPort, caches[2]!);
    nodes[2] = restarted;
    expect(await readAt(restarted, "kvapp", "survivor")).toBe("still here");
    expect(await readAt(restarted, "kvapp", "from-api")).toBe("hello from the API");
    // Writes need the control plane: the script's put fails (after its wait), reads go on.
    cp = await startControlPlane(store, grpcPort);
    await everywhere("survivor", "still here");
  });
});
