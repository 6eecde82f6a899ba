import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { metricsStoreContract } from "./contract.js";
import { createSqliteMetricsStore } from "./sqlite.js";

metricsStoreContract("sqlite file", async () => {
  const dir = mkdtempSync(join(tmpdir(), "edge-metrics-store-"));
  const path = join(dir, "data", "edge.db");
  return {
    store: createSqliteMetricsStore(path),
    reopen: async () => createSqliteMetricsStore(path),
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  };
});

metricsStoreContract("sqlite :memory:", async () => ({
  store: createSqliteMetricsStore(":memory:"),
  cleanup: async () => {},
}));
