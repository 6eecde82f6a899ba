import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EXIT, parseBlock, readSse, resolveApiConfig } from "../src/index.js";
import { edgectl, startApi, TOKEN } from "./support.js";

describe("API configuration", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "edgectl-config-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("prefers flags, then EDGE_API_URL / EDGE_API_TOKEN, then the config file, then the default URL", () => {
    const file = join(dir, "config.json");
    writeFileSync(file, JSON.stringify({ apiUrl: "http://file.example:1/", token: "from-file" }));
    expect(resolveApiConfig({}, { EDGECTL_CONFIG: file })).toMatchObject({
      apiUrl: "http://file.example:1",
      token: "from-file",
      source: { apiUrl: file, token: file },
    });
    expect(
      resolveApiConfig(
        {},
        { EDGECTL_CONFIG: file, EDGE_API_URL: "http://env.example", EDGE_API_TOKEN: "env" },
      ),
    ).toMatchObject({ apiUrl: "http://env.example", token: "env" });
    expect(
      resolveApiConfig(
        { apiUrl: "https://flag.example", token: "flag" },
        { EDGECTL_CONFIG: file, EDGE_API_TOKEN: "env" },
      ),
    ).toMatchObject({ apiUrl: "https://flag.example", token: "flag" });
    expect(resolveApiConfig({}, { EDGE_API_TOKEN: "t", XDG_CONFIG_HOME: join(dir, "none") })).toMatchObject({
      apiUrl: "http://127.0.0.1:8080",
      source: { apiUrl: "default" },
    });
  });

  it("fails with a usage error naming the fix when there is no token or the file is bad", async () => {
    const missing = await edgectl(["list"], {});
    expect(missing.code).toBe(EXIT.USAGE);
    expect(missing.err).toContain("EDGE_API_TOKEN");
    const bad = join(dir, "bad.json");
    writeFileSync(bad, JSON.stringify({ token: "x", colour: "blue" }));
    const badFile = await edgectl(["list"], { EDGECTL_CONFIG: bad });
    expect(badFile.code).toBe(EXIT.USAGE);
    expect(badFile.err).toContain(bad);
  });
});

describe("server-sent events", () => {
  it("parses events, multi-line data and skips comments across chunk boundaries", async () => {
    const text = ': keep-alive\n\nevent: open\ndata: {"a":1}\n\nevent: request\ndata: x\ndata: y\n\n';
    const bytes = new TextEncoder().encode(text);
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < bytes.length; i += 7) controller.enqueue(bytes.slice(i, i + 7));
        controller.close();
      },
    });
    const events = [];
    for await (const event of readSse(body)) events.push(event);
    expect(events).toEqual([
      { event: "open", data: '{"a":1}' },
      { event: "request", data: "x\ny" },
    ]);
    expect(parseBlock(": only a comment")).toBeNull();
  });
});

describe("edgectl against a control plane API", () => {
  let api: Awaited<ReturnType<typeof startApi>>;
  let dir: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    api = await startApi();
    dir = mkdtempSync(join(tmpdir(), "edgectl-scripts-"));
    env = { EDGE_API_URL: api.url, EDGE_API_TOKEN: TOKEN };
    writeFileSync(join(dir, "hello.js"), 'export default { fetch() { return new Response("hi"); } };\n');
    writeFileSync(join(dir, "broken.js"), "export default { fetch( {\n");
    writeFileSync(
      join(dir, "typed.ts"),
      'export default { fetch(): Response { return new Response("ts" as string); } };\n',
    );
  });

  afterAll(async () => {
    await api.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("deploys with vars and secrets and reports the version; with no PoP connected the rollout is trivially complete", async () => {
    const deployed = await edgectl(
      [
        "deploy",
        "hello.js",
        "--name",
        "hello",
        "--var",
        "WHO=cli",
        "--secret",
        "API_KEY",
        "--cpu-ms",
        "20",
        "--json",
      ],
      { ...env, API_KEY: "s3cret" },
      dir,
    );
    expect(deployed.err).toBe("0/0 PoPs on v1\n");
    expect(deployed.code).toBe(EXIT.OK);
    expect(JSON.parse(deployed.out)).toMatchObject({
      name: "hello",
      version: 1,
      rollout: { pops: 0, popsOnVersion: 0, complete: true },
    });
    const versions = await edgectl(["versions", "hello", "--json"], env);
    // The secret went as a secret: stored encrypted, listed by name only.
    expect(JSON.parse(versions.out)[0]).toEqual(
      expect.objectContaining({
        version: 1,
        vars: { WHO: "cli" },
        secrets: ["API_KEY"],
        limits: expect.objectContaining({ cpuMs: 20 }),
      }),
    );
    expect(versions.out).not.toContain("s3cret");
    const table = await edgectl(["versions", "hello"], env);
    expect(table.out).toMatch(/^VERSION\s+CREATED/m);
    expect(table.out).toMatch(/WHO\s+API_KEY/);
    expect(table.out).not.toContain("s3cret");
  });

  it("with --no-bundle deploys a .ts file as TypeScript and keeps the active version's vars and secrets when given none", async () => {
    await edgectl(
      ["deploy", "hello.js", "--name", "typed", "--var", "A=1", "--secret", "K", "--no-wait"],
      { ...env, K: "v" },
      dir,
    );
    const deployed = await edgectl(
      ["deploy", "typed.ts", "--name", "typed", "--no-wait", "--json", "--no-bundle"],
      env,
      dir,
    );
    expect(deployed.code).toBe(EXIT.OK);
    const versions = JSON.parse((await edgectl(["versions", "typed", "--json"], env)).out);
    expect(versions[0]).toMatchObject({ version: 2, vars: { A: "1" }, secrets: ["K"] });
    const script = await fetch(`${env.EDGE_API_URL}/v1/scripts/typed/source`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(script.headers.get("x-edge-script-language")).toBe("ts");
  });

  it("exits 4 with the API's code when the script does not parse, and 2 for a missing secret", async () => {
    const broken = await edgectl(["deploy", "broken.js", "--name", "broken"], env, dir);
    expect(broken.code).toBe(EXIT.REJECTED);
    expect(broken.err).toMatch(/\(EDGE_INVALID_SCRIPT\)/);
    const secret = await edgectl(["deploy", "hello.js", "--name", "x", "--secret", "NOPE"], env, dir);
    expect(secret.code).toBe(EXIT.USAGE);
  });

  it("lists, rolls back and deletes, with exit 3 for what does not exist", async () => {
    await edgectl(["deploy", "hello.js", "--name", "roll", "--no-wait"], env, dir);
    await edgectl(["deploy", "hello.js", "--name", "roll", "--no-wait"], env, dir);
    const list = await edgectl(["list", "--json"], env);
    expect(JSON.parse(list.out)).toEqual(
      expect.arrayContaining([expect.objectContaining({ name: "roll", activeVersion: 2, latestVersion: 2 })]),
    );
    const back = await edgectl(["rollback", "roll", "--to", "1", "--no-wait"], env);
    expect(back).toMatchObject({ code: EXIT.OK, out: "roll: v1 is active\n" });
    expect((await edgectl(["rollback", "roll", "--to", "9"], env)).code).toBe(EXIT.NOT_FOUND);
    expect((await edgectl(["delete", "roll"], env)).code).toBe(EXIT.OK);
    const gone = await edgectl(["versions", "roll", "--json"], env);
    expect(gone.code).toBe(EXIT.NOT_FOUND);
    expect(JSON.parse(gone.err)).toEqual({
      error: { code: "EDGE_SCRIPT_NOT_FOUND", message: expect.any(String) },
    });
  });

  it("exits 5 for a wrong token, 6 when the API cannot be reached, and 2 for bad usage", async () => {
    expect((await edgectl(["list"], { ...env, EDGE_API_TOKEN: "wrong" })).code).toBe(EXIT.UNAUTHORIZED);
    const down = await edgectl(["list"], { ...env, EDGE_API_URL: "http://127.0.0.1:1" });
    expect(down.code).toBe(EXIT.UNREACHABLE);
    expect(down.err).toContain("cannot reach the control plane");
    expect((await edgectl(["frobnicate"], env)).code).toBe(EXIT.USAGE);
    expect((await edgectl(["deploy", "hello.js"], env, dir)).code).toBe(EXIT.USAGE);
    expect((await edgectl(["list", "--bogus"], env)).code).toBe(EXIT.USAGE);
    expect((await edgectl(["versions"], env)).code).toBe(EXIT.USAGE);
    const help = await edgectl(["--help"], {});
    expect(help.code).toBe(EXIT.OK);
    for (const command of [
      "deploy",
      "list",
      "versions",
      "rollback",
      "delete",
      "nodes",
      "tail",
      "metrics",
      "route",
      "dev",
    ]) {
      expect(help.out).toContain(`  ${command} `);
    }
  });

  it("shows nodes and metrics, empty on a cluster without nodes", async () => {
    expect(await edgectl(["nodes"], env)).toMatchObject({ code: EXIT.OK, out: "no edge nodes\n" });
    const metrics = await edgectl(["metrics", "hello", "--json"], env);
    expect(JSON.parse(metrics.out)).toMatchObject({ script: "hello", requests: 0 });
  });
});
