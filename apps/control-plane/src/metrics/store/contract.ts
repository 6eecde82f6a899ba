import { LATENCY_BOUNDS_MS } from "@edge/protocol";
import { describe, expect, it } from "vitest";
import { type ContractFixture, useContractFixture } from "../../store/contract-fixture.js";
import { emptyFigures, type MetricsRow } from "../figures.js";
import type { MetricsStore } from "./types.js";

/**
 * The behaviour every `MetricsStore` shows. `make()` gives a fresh, empty
 * store; `reopen()` a second one on the same data (another replica). The suite
 * closes every store it opened, then calls `cleanup()`.
 */
export type MetricsStoreFixture = ContractFixture<MetricsStore>;

const MIN = 60_000;
const T0 = 1_700_000_040_000; // a minute boundary

export function row(fields: Partial<MetricsRow> = {}): MetricsRow {
  return {
    ...emptyFigures(),
    minute: T0,
    script: "hello",
    version: 1,
    nodeId: "fra-1",
    pop: "fra",
    requests: 1,
    ...fields,
  };
}

export function metricsStoreContract(name: string, make: () => Promise<MetricsStoreFixture>): void {
  describe(`${name} metrics store contract`, () => {
    const fixture = useContractFixture(make);

    const all = { since: 0, until: T0 + 100 * MIN };

    it("adds figures to the same bucket instead of overwriting them, histograms and maps included", async () => {
      const latency = new Array<number>(LATENCY_BOUNDS_MS.length + 1).fill(0);
      latency[3] = 2;
      await fixture.store().addRows([
        row({
          requests: 2,
          errors: 1,
          cpuMsTotal: 1.25,
          latencyBuckets: latency,
          statusClasses: { "2xx": 1, "5xx": 1 },
          errorsByCode: { EDGE_CPU_LIMIT: 1 },
        }),
      ]);
      await fixture
        .store()
        .addRows([
          row({ requests: 3, cpuMsTotal: 0.5, latencyBuckets: latency, statusClasses: { "2xx": 3 } }),
        ]);
      const rows = await fixture.store().readRows(all);
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({
        minute: T0,
        script: "hello",
        version: 1,
        nodeId: "fra-1",
        pop: "fra",
        requests: 5,
        errors: 1,
        cpuMsTotal: 1.75,
        statusClasses: { "2xx": 4, "5xx": 1 },
        errorsByCode: { EDGE_CPU_LIMIT: 1 },
      });
      expect(rows[0]?.latencyBuckets[3]).toBe(4);
      expect(rows[0]?.latencyBuckets).toHaveLength(LATENCY_BOUNDS_MS.length + 1);
    });

    it("keeps one bucket per minute, script, version and node", async () => {
      await fixture
        .store()
        .addRows([
          row(),
          row({ minute: T0 + MIN }),
          row({ version: 2 }),
          row({ nodeId: "fra-2" }),
          row({ script: "other" }),
        ]);
      expect(await fixture.store().readRows(all)).toHaveLength(5);
    });

    it("answers by script, by PoP and by time range, from the minute holding `since`", async () => {
      await fixture
        .store()
        .addRows([
          row({ minute: T0 - 2 * MIN }),
          row({ minute: T0 }),
          row({ minute: T0 + MIN, pop: "iad", nodeId: "iad-1" }),
          row({ minute: T0 + MIN, script: "other" }),
        ]);
      const hello = await fixture
        .store()
        .readRows({ script: "hello", since: T0 + 30_000, until: T0 + 10 * MIN });
      expect(hello.map((r) => r.minute).sort()).toEqual([T0, T0 + MIN]);
      const iad = await fixture.store().readRows({ pop: "iad", ...all });
      expect(iad.map((r) => r.nodeId)).toEqual(["iad-1"]);
      const early = await fixture.store().readRows({ since: 0, until: T0 - MIN });
      expect(early.map((r) => r.minute)).toEqual([T0 - 2 * MIN]);
      expect(await fixture.store().readRows({ script: "nope", ...all })).toEqual([]);
    });

    it("prunes buckets older than a cutoff", async () => {
      await fixture
        .store()
        .addRows([row({ minute: T0 - MIN }), row({ minute: T0 }), row({ minute: T0, script: "b" })]);
      expect(await fixture.store().prune(T0)).toBe(1);
      expect((await fixture.store().readRows(all)).map((r) => r.minute)).toEqual([T0, T0]);
    });

    it("adds up what two replicas write to the same bucket", async (ctx) => {
      const second = await fixture.reopen(ctx);
      await Promise.all([
        fixture.store().addRows([row({ requests: 2 })]),
        second.addRows([row({ requests: 5 })]),
      ]);
      const [seen] = await second.readRows(all);
      expect(seen?.requests).toBe(7);
    });
  });
}
