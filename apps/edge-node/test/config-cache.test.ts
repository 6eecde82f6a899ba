import { createHash } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Script } from "@edge/protocol";
import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type CachedConfig, ConfigCache } from "../src/cache/config-cache.js";

const logger = pino({ level: "silent" });

function script(name: string, version: number, source = `export default {}; // ${name} v${version}`): Script {
  return {
    name,
    version,
    sha256: createHash("sha256").update(source).digest("hex"),
    source,
    vars: { WHO: name },
    limits: { cpuMs: 50, memoryMb: 64, wallMs: 5_000 },
    createdAtMs: 1_700_000_000_000 + version,
    canary: undefined,
    mainModule: "",
    modules: [],
    kvBindings: {},
  };
}

describe("the on-disk config cache", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "edge-cache-"));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  const config: CachedConfig = {
    configVersion: 42,
    scripts: [script("hello", 3), { ...script("app", 1), canary: { script: script("app", 2), percent: 10 } }],
    rejected: { broken: "7" },
  };

  it("has nothing to load before the first save", async () => {
    expect(await new ConfigCache(join(dir, "absent"), logger).load()).toBeNull();
  });

  it("loads what was saved: scripts with their settings, a canary, the config version and rejected releases", async () => {
    await new ConfigCache(dir, logger).save(config);
    expect(await new ConfigCache(dir, logger).load()).toEqual(config);
  });

  it("keeps a multi-module version's modules, bytes intact, and drops a version whose module blob is damaged", async () => {
    const multi: Script = {
      ...script("multi", 1),
      mainModule: "index.js",
      modules: [
        { name: "lib/a.js", type: "esm", content: Buffer.from("export default 1;") },
        { name: "add.wasm", type: "wasm", content: Buffer.from([0, 97, 115, 109, 1, 0, 0, 0, 255]) },
      ],
    };
    const saved: CachedConfig = { configVersion: 5, scripts: [multi, script("hello", 1)], rejected: {} };
    await new ConfigCache(dir, logger).save(saved);
    expect(await new ConfigCache(dir, logger).load()).toEqual(saved);
    const wasmBlob = createHash("sha256")
      .update(Buffer.from([0, 97, 115, 109, 1, 0, 0, 0, 255]))
      .digest("hex");
    writeFileSync(join(dir, "sources", wasmBlob), "tampered");
    const loaded = await new ConfigCache(dir, logger).load();
    expect(loaded?.scripts.map((s) => s.name)).toEqual(["hello"]);
  });

  it("keeps the latest of several saves made in a row, and each source once", async () => {
    const cache = new ConfigCache(dir, logger);
    const saves = [1, 2, 3, 4].map((v) =>
      cache.save({ configVersion: v, scripts: [script("hello", v), script("same", 1)], rejected: {} }),
    );
    await Promise.all(saves);
    const loaded = await new ConfigCache(dir, logger).load();
    expect(loaded?.configVersion).toBe(4);
    expect(loaded?.scripts.map((s) => [s.name, s.version])).toEqual([
      ["hello", 4],
      ["same", 1],
    ]);
    // Sources no longer named are removed: one per script left.
    expect(readdirSync(join(dir, "sources"))).toHaveLength(2);
  });

  it("leaves no temporary files behind, and ignores one a crash left", async () => {
    const cache = new ConfigCache(dir, logger);
    await cache.save(config);
    expect(readdirSync(dir).filter((f) => f.endsWith(".tmp"))).toEqual([]);
    writeFileSync(join(dir, ".manifest.json.123.abcd.tmp"), "{ half a manif");
    expect(await new ConfigCache(dir, logger).load()).toEqual(config);
  });

  it("drops a script whose source file was damaged and serves the rest", async () => {
    await new ConfigCache(dir, logger).save(config);
    const blob = createHash("sha256").update(script("hello", 3).source).digest("hex");
    writeFileSync(join(dir, "sources", blob), "export default { evil: true };");
    const loaded = await new ConfigCache(dir, logger).load();
    expect(loaded?.scripts.map((s) => s.name)).toEqual(["app"]);
  });

  it("refuses a manifest that fails its checksum rather than serving a damaged config", async () => {
    await new ConfigCache(dir, logger).save(config);
    const path = join(dir, "manifest.json");
    writeFileSync(path, readFileSync(path, "utf8").replace('"configVersion\\":42', '"configVersion\\":43'));
    expect(await new ConfigCache(dir, logger).load()).toBeNull();
  });

  it("reports failing while it cannot write, and recovers", async () => {
    const blocked = join(dir, "file-not-dir");
    writeFileSync(blocked, "x");
    const cache = new ConfigCache(join(blocked, "cache"), logger);
    await cache.save(config);
    expect(cache.failing).toBe(true);
    rmSync(blocked);
    await cache.save(config);
    expect(cache.failing).toBe(false);
  });

  it("keeps scripts' env sealed with the node key: no secret in plaintext, files 0600 and directories 0700", async () => {
    const secret = "sk_live_do-not-leak-9f2c";
    const withSecret: CachedConfig = {
      configVersion: 1,
      scripts: [{ ...script("pay", 1), vars: { API_KEY: secret } }],
      rejected: {},
    };
    await new ConfigCache(dir, logger).save(withSecret);
    const files = [
      join(dir, "manifest.json"),
      join(dir, "node.key"),
      ...readdirSync(join(dir, "sources")).map((f) => join(dir, "sources", f)),
    ];
    for (const file of files) {
      expect(readFileSync(file, "utf8")).not.toContain(secret);
      expect(statSync(file).mode & 0o777).toBe(0o600);
    }
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir, "sources")).mode & 0o777).toBe(0o700);
    // The same node (same key file) reads it back after a restart.
    expect((await new ConfigCache(dir, logger).load())?.scripts[0]?.vars).toEqual({ API_KEY: secret });
  });

  it("uses a configured node key, and a cache sealed under another key yields no script rather than wrong env", async () => {
    const key = Buffer.alloc(32, 7);
    await new ConfigCache(dir, logger, key).save(config);
    expect(await new ConfigCache(dir, logger, key).load()).toEqual(config);
    expect((await new ConfigCache(dir, logger, Buffer.alloc(32, 8)).load())?.scripts).toEqual([]);
  });
});
