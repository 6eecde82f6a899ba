import { versionDigest } from "@edge/protocol";
import { afterEach, beforeEach, describe, expect, it, onTestFinished } from "vitest";
import { type Harness, startHarness } from "../../test-harness.js";

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(async () => {
  await h.close();
});

/** `(module)`: the smallest valid Wasm module. */
const EMPTY_WASM = Buffer.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);

const b64 = (content: string | Buffer) =>
  (typeof content === "string" ? Buffer.from(content) : content).toString("base64");

const MAIN = `import { greet } from "./lib/greet.js";
import banner from "banner.txt";
import wasm from "./empty.wasm";
export default { fetch: () => new Response(greet(banner) + String(wasm)) };
`;

function modules(overrides: Array<{ name: string; type: string; content: string }> = []) {
  const base = [
    { name: "index.js", type: "esm", content: b64(MAIN) },
    { name: "lib/greet.js", type: "esm", content: b64(`export const greet = (who) => "hello " + who;`) },
    { name: "banner.txt", type: "text", content: b64("edge") },
    { name: "empty.wasm", type: "wasm", content: b64(EMPTY_WASM) },
    { name: "index.js.map", type: "sourcemap", content: b64('{"version":3,"sources":[],"mappings":""}') },
  ];
  const names = new Set(overrides.map((m) => m.name));
  return [...base.filter((m) => !names.has(m.name)), ...overrides];
}

function put(body: unknown) {
  return h.request({
    method: "PUT",
    url: "/v1/scripts/multi",
    headers: { "content-type": "application/json" },
    payload: JSON.stringify(body),
  });
}

describe("a multi-module deploy (JSON envelope with modules and main)", () => {
  it("stores every module in one immutable version, the main one as its source, hashed together", async () => {
    const res = await put({ modules: modules(), main: "index.js", vars: { A: "1" } });
    expect(res.statusCode).toBe(201);
    const stored = await h.store.getActive("multi");
    expect(stored?.source).toBe(MAIN);
    expect(stored?.vars).toEqual({ A: "1" });
    expect(stored?.modules?.main).toBe("index.js");
    expect(stored?.modules?.modules.map((m) => [m.name, m.type])).toEqual([
      ["lib/greet.js", "esm"],
      ["banner.txt", "text"],
      ["empty.wasm", "wasm"],
      ["index.js.map", "sourcemap"],
    ]);
    expect(Buffer.from(stored!.modules!.modules[2]!.content)).toEqual(EMPTY_WASM);
    expect(res.json().sha256).toBe(versionDigest(MAIN, "index.js", stored!.modules!.modules));
    expect(res.json().sha256).not.toBe(versionDigest(MAIN));

    // Each module can be read back by name, bytes as sent; the main one is the source.
    const wasm = await h.request({ method: "GET", url: "/v1/scripts/multi/source?module=empty.wasm" });
    expect(wasm.statusCode).toBe(200);
    expect(wasm.headers["content-type"]).toBe("application/wasm");
    expect(wasm.rawPayload).toEqual(EMPTY_WASM);
    const main = await h.request({ method: "GET", url: "/v1/scripts/multi/source?module=index.js" });
    expect(main.body).toBe(MAIN);
    const none = await h.request({ method: "GET", url: "/v1/scripts/multi/source?module=nope.js" });
    expect(none.statusCode).toBe(404);
    expect(none.json().error.code).toBe("EDGE_MODULE_NOT_FOUND");

    // A settings change keeps the modules with the new version.
    const vars = await h.request({
      method: "PUT",
      url: "/v1/scripts/multi/vars",
      headers: { "content-type": "application/json" },
      payload: JSON.stringify({ vars: { A: "2" } }),
    });
    expect(vars.statusCode).toBe(201);
    expect((await h.store.getActive("multi"))?.modules).toEqual(stored?.modules);
  });

  it.each([
    [
      "a syntax error in an imported module, by module and line:column",
      modules([{ name: "lib/greet.js", type: "esm", content: b64("export const greet = (who) =>;\n") }]),
      /^Invalid module: lib\/greet\.js:1:\d+: /,
    ],
    [
      "an import no module answers, at the importing line",
      modules([
        {
          name: "index.js",
          type: "esm",
          content: b64(`import x from "./nope.js";\nexport default { fetch() { return x; } };`),
        },
      ]),
      /^Invalid module: index\.js:1:14: Cannot resolve import '\.\/nope\.js'/,
    ],
    [
      "a main module without a default export",
      modules([{ name: "index.js", type: "esm", content: b64("export const fetch = 1;") }]),
      /The main module 'index\.js' has no default export/,
    ],
    [
      "a Wasm module that is not WebAssembly",
      modules([{ name: "empty.wasm", type: "wasm", content: b64("not wasm") }]),
      /Module 'empty\.wasm' is not a valid WebAssembly module/,
    ],
    [
      "a source map named after no ES module",
      modules([{ name: "other.js.map", type: "sourcemap", content: b64("{}") }]),
      /Source map 'other\.js\.map' must be named after an ES module/,
    ],
    [
      "a module name that climbs out of the version",
      modules([{ name: "../etc/passwd", type: "text", content: b64("x") }]),
      /Invalid module name '\.\.\/etc\/passwd'/,
    ],
  ])("refuses %s with 400 EDGE_INVALID_SCRIPT", async (_what, mods, message) => {
    const res = await put({ modules: mods, main: "index.js" });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe("EDGE_INVALID_SCRIPT");
    expect(res.json().error.message).toMatch(message);
    expect(await h.store.getActive("multi")).toBeNull();
  });

  it("refuses a main that names no module, and source beside modules, with 400", async () => {
    const noMain = await put({ modules: modules(), main: "app.js" });
    expect(noMain.statusCode).toBe(400);
    expect(noMain.json().error).toMatchObject({ code: "EDGE_INVALID_SCRIPT" });
    const both = await put({ modules: modules(), main: "index.js", source: MAIN });
    expect(both.statusCode).toBe(400);
    expect(both.json().error.code).toBe("EDGE_INVALID_BODY");
  });

  it("counts every module against the script size limit (413)", async () => {
    const small = await startHarness({ env: { EDGE_MAX_SCRIPT_BYTES: "1024" } });
    try {
      const res = await small.request({
        method: "PUT",
        url: "/v1/scripts/multi",
        headers: { "content-type": "application/json" },
        payload: JSON.stringify({
          modules: modules([{ name: "banner.txt", type: "text", content: b64("x".repeat(1024)) }]),
          main: "index.js",
        }),
      });
      expect(res.statusCode).toBe(413);
      expect(res.json().error.code).toBe("EDGE_SCRIPT_TOO_LARGE");
    } finally {
      await small.close();
    }
  });
});

describe("a single-module deploy", () => {
  it("that imports another module is refused at deploy with 400 EDGE_INVALID_SCRIPT naming the import", async () => {
    const res = await h.request({
      method: "PUT",
      url: "/v1/scripts/single",
      headers: { "content-type": "application/javascript" },
      payload: `import { greet } from "./lib/greet.js";\nexport default { fetch: () => new Response(greet()) };`,
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toEqual({
      code: "EDGE_INVALID_SCRIPT",
      message:
        'The script imports "./lib/greet.js" but was uploaded as a single module: nodes resolve no imports; bundle it (edgectl deploy does) or upload every module ("modules" and "main")',
    });
  });
});

describe("a Cloudflare-style multipart/form-data upload", () => {
  function form(parts: Array<[string, Blob | string]>): FormData {
    const data = new FormData();
    for (const [name, value] of parts) {
      if (typeof value === "string") data.append(name, value);
      else data.append(name, value, name);
    }
    return data;
  }

  async function upload(data: FormData, harness: Harness = h) {
    const request = new Request("http://x/", { method: "PUT", body: data });
    return harness.request({
      method: "PUT",
      url: "/v1/scripts/multi",
      headers: { "content-type": request.headers.get("content-type") ?? "" },
      payload: Buffer.from(await request.arrayBuffer()),
    });
  }

  it("takes the metadata part's main_module and bindings, and one part per module typed by its media type", async () => {
    // Secrets need a sealing key.
    const keyed = await startHarness({ env: { EDGE_SECRETS_KEY: "00".repeat(32) } });
    onTestFinished(() => keyed.close());
    const res = await upload(
      form([
        [
          "metadata",
          JSON.stringify({
            main_module: "index.js",
            compatibility_date: "2025-01-01",
            bindings: [
              { type: "plain_text", name: "GREETING", text: "hi" },
              { type: "secret_text", name: "TOKEN", text: "s3cret" },
            ],
            limits: { cpu_ms: 20 },
          }),
        ],
        ["index.js", new Blob([MAIN], { type: "application/javascript+module" })],
        [
          "lib/greet.js",
          new Blob(['export const greet = (w) => "hi " + w;'], { type: "application/javascript+module" }),
        ],
        ["banner.txt", new Blob(["edge"], { type: "text/plain" })],
        ["empty.wasm", new Blob([EMPTY_WASM], { type: "application/wasm" })],
        [
          "index.js.map",
          new Blob(['{"version":3,"sources":[],"mappings":""}'], { type: "application/source-map" }),
        ],
      ]),
      keyed,
    );
    expect(res.statusCode).toBe(201);
    const stored = await keyed.store.getActive("multi");
    expect(stored?.source).toBe(MAIN);
    expect(stored?.vars).toEqual({ GREETING: "hi" });
    expect(Object.keys(stored?.secrets ?? {})).toEqual(["TOKEN"]);
    expect(stored?.limits.cpuMs).toBe(20);
    expect(stored?.modules?.modules.map((m) => [m.name, m.type])).toEqual([
      ["lib/greet.js", "esm"],
      ["banner.txt", "text"],
      ["empty.wasm", "wasm"],
      ["index.js.map", "sourcemap"],
    ]);
  });

  it("refuses an upload without metadata, with an unknown part type or binding, with 400 EDGE_INVALID_BODY", async () => {
    const script = new Blob([MAIN], { type: "application/javascript+module" });
    for (const [parts, message] of [
      [[["index.js", script]], /needs a "metadata" part/],
      [
        [
          ["metadata", JSON.stringify({ main_module: "index.js" })],
          ["index.js", new Blob(["x"], { type: "application/python" })],
        ],
        /Part 'index\.js' has the unsupported media type 'application\/python'/,
      ],
      [
        [
          [
            "metadata",
            JSON.stringify({ main_module: "index.js", bindings: [{ type: "kv_namespace", name: "KV" }] }),
          ],
          ["index.js", script],
        ],
        /Binding 'KV' has the unsupported type 'kv_namespace'/,
      ],
    ] as const) {
      const res = await upload(form(parts as unknown as Array<[string, Blob | string]>));
      expect(res.statusCode).toBe(400);
      expect(res.json().error.code).toBe("EDGE_INVALID_BODY");
      expect(res.json().error.message).toMatch(message);
    }
  });
});
