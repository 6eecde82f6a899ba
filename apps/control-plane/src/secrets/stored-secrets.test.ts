import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRedisStore } from "../store/redis.js";
import { createSqliteStore } from "../store/sqlite.js";
import type { NewVersion } from "../store/types.js";
import { startTestRedis, type TestRedis } from "../testing/test-redis.js";
import { createSecretBox } from "./secret-box.js";

const PLAINTEXT = "redis-pl41ntext-s3cret";
const SOURCE = "export default {};";
const box = createSecretBox(randomBytes(32));

function sealedVersion(name: string): NewVersion {
  return {
    sha256: createHash("sha256").update(SOURCE).digest("hex"),
    source: SOURCE,
    vars: {},
    secrets: { TOKEN: box.seal(name, "TOKEN", PLAINTEXT) },
    limits: { cpuMs: 50, memoryMb: 128, wallMs: 30_000 },
  };
}

describe("secrets in the Redis store", () => {
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await startTestRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it("are kept sealed: the raw version hash does not contain the plaintext, yet they open", async () => {
    const keyPrefix = redis.uniquePrefix();
    const store = await createRedisStore(redis.url, { keyPrefix });
    const raw = new Redis(redis.url);
    try {
      await store.putVersion("app", sealedVersion("app"));
      const hash = await raw.hgetall(`${keyPrefix}version:app:1`);
      expect(Object.keys(hash)).toContain("secrets");
      expect(JSON.stringify(hash)).not.toContain(PLAINTEXT);
      const stored = await store.getActive("app");
      expect(box.open("app", "TOKEN", stored!.secrets.TOKEN!)).toBe(PLAINTEXT);
    } finally {
      raw.disconnect();
      await store.close();
    }
  });

  it("read as none from a version written before secrets existed", async () => {
    const keyPrefix = redis.uniquePrefix();
    const store = await createRedisStore(redis.url, { keyPrefix });
    const raw = new Redis(redis.url);
    try {
      await store.putVersion("old", { ...sealedVersion("old"), secrets: {} });
      await raw.hdel(`${keyPrefix}version:old:1`, "secrets");
      expect(await store.getActive("old")).toMatchObject({ secrets: {}, tsSource: null });
      expect((await store.snapshot()).scripts[0]).toMatchObject({ secrets: {}, tsSource: null });
    } finally {
      raw.disconnect();
      await store.close();
    }
  });
});

describe("secrets in the SQLite store", () => {
  it("upgrade a schema 2 file in place: its versions read with no secrets, no TypeScript and no modules", async () => {
    const dir = mkdtempSync(join(tmpdir(), "edge-secrets-migrate-"));
    const path = join(dir, "edge.db");
    try {
      const store = createSqliteStore(path);
      await store.putVersion("old", sealedVersion("old"), 1_000);
      await store.close();
      // Back to what schema 2 wrote: none of the columns and tables later schemas added.
      const raw = new Database(path);
      raw.exec(
        [
          "ALTER TABLE versions DROP COLUMN secrets_json",
          "ALTER TABLE versions DROP COLUMN ts_source",
          "ALTER TABLE versions DROP COLUMN modules_json",
          "ALTER TABLE versions DROP COLUMN bindings_json",
          "DROP TABLE enrolments",
          "DROP TABLE kv_entries",
          "DROP TABLE kv_namespaces",
          "ALTER TABLE versions DROP COLUMN crons_json",
          "DROP TABLE cron_claims",
          "DROP INDEX scripts_by_change",
          "ALTER TABLE scripts DROP COLUMN changed_revision",
        ].join("; "),
      );
      raw.pragma("user_version = 2");
      raw.close();

      const upgraded = createSqliteStore(path);
      expect(await upgraded.getActive("old")).toMatchObject({
        version: 1,
        secrets: {},
        tsSource: null,
        modules: null,
      });
      await upgraded.putVersion("old", sealedVersion("old"), 2_000);
      expect(Object.keys((await upgraded.getActive("old"))!.secrets)).toEqual(["TOKEN"]);
      await upgraded.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
