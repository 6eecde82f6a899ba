import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { edgectl, startApi, TOKEN } from "./support.js";

describe("edgectl kv", () => {
  let api: Awaited<ReturnType<typeof startApi>>;
  let dir: string;
  let env: Record<string, string>;
  const kv = (...argv: string[]) => edgectl(["kv", ...argv], env, dir);

  beforeAll(async () => {
    api = await startApi();
    dir = mkdtempSync(join(tmpdir(), "edgectl-kv-"));
    env = { EDGE_API_URL: api.url, EDGE_API_TOKEN: TOKEN };
  });

  afterAll(async () => {
    await api.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("creates, lists, renames and deletes namespaces, with API errors as exit codes", async () => {
    expect(await kv("namespace", "create", "sessions")).toMatchObject({
      code: 0,
      out: expect.stringMatching(/^created KV namespace sessions \([0-9a-f]{32}\)\n$/),
    });
    const again = await kv("namespace", "create", "sessions");
    expect(again.code).toBe(4);
    expect(again.err).toContain("EDGE_KV_NAMESPACE_EXISTS");
    expect((await kv("namespace", "list")).out).toMatch(
      /NAME\s+ID\s+VERSION\s+CREATED\nsessions\s+[0-9a-f]{32}\s+0/,
    );
    expect((await kv("namespace", "rename", "sessions", "users")).out).toBe(
      "renamed KV namespace sessions to users\n",
    );
    const listed = await kv("namespace", "list", "--json");
    expect(JSON.parse(listed.out)).toEqual([expect.objectContaining({ name: "users", version: 0 })]);
    expect((await kv("namespace", "delete", "users")).code).toBe(0);
    expect((await kv("namespace", "delete", "users")).code).toBe(3);
  });

  it("puts, gets, lists and deletes keys, with a TTL, metadata and a value from a file", async () => {
    await kv("namespace", "create", "data");
    expect(
      (await kv("key", "put", "data", "greeting", "hello", "--ttl", "3600", "--metadata", '{"by":"cli"}'))
        .out,
    ).toBe("stored greeting in data\n");
    writeFileSync(join(dir, "blob.bin"), Buffer.from([0x68, 0x69]));
    expect((await kv("key", "put", "data", "from/file", "--path", "blob.bin")).code).toBe(0);
    expect((await kv("key", "get", "data", "greeting")).out).toBe("hello");
    expect((await kv("key", "get", "data", "from/file")).out).toBe("hi");
    const got = JSON.parse((await kv("key", "get", "data", "greeting", "--json")).out);
    expect(got).toMatchObject({ key: "greeting", value: "hello", metadata: { by: "cli" } });
    expect(got.expiration).toBeGreaterThan(Date.now() / 1000);
    const page = JSON.parse((await kv("key", "list", "data", "--prefix", "gr", "--json")).out);
    expect(page).toMatchObject({
      keys: [{ name: "greeting", metadata: { by: "cli" } }],
      list_complete: true,
    });
    const bad = await kv("key", "put", "data", "k", "v", "--ttl", "5");
    expect(bad.code).toBe(4);
    expect(bad.err).toContain("Expiration TTL must be at least 60");
    expect((await kv("key", "delete", "data", "greeting")).code).toBe(0);
    expect((await kv("key", "get", "data", "greeting")).code).toBe(3);
  });

  it("writes and deletes in bulk from JSON files, and explains its usage", async () => {
    await kv("namespace", "create", "bulk");
    writeFileSync(
      join(dir, "put.json"),
      JSON.stringify([
        { key: "a", value: "1" },
        { key: "b", value: "Mg==", base64: true },
      ]),
    );
    writeFileSync(join(dir, "delete.json"), JSON.stringify(["a"]));
    expect((await kv("bulk", "put", "bulk", "put.json")).out).toBe("wrote 2 keys to bulk\n");
    expect((await kv("key", "get", "bulk", "b")).out).toBe("2");
    expect((await kv("bulk", "delete", "bulk", "delete.json")).out).toBe("deleted 1 keys from bulk\n");
    expect((await kv("key", "list", "bulk")).out).toMatch(/^KEY\s+EXPIRES\s+METADATA\nb\s*\n$/);
    const wrong = await kv("key", "get", "bulk");
    expect(wrong.code).toBe(2);
    expect(wrong.err).toContain("edgectl kv key get <namespace> <key>");
  });
});
