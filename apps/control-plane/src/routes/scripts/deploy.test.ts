import { createHash } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type Harness, HELLO, startHarness } from "../../test-harness.js";

let h: Harness;

beforeEach(async () => {
  h = await startHarness();
});
afterEach(async () => {
  await h.close();
});

const sha256 = (text: string) => createHash("sha256").update(text, "utf8").digest("hex");

/** Everything a failed request must leave alone. */
async function storedState() {
  return { scripts: await h.store.listScripts(), revision: await h.store.revision(), changes: h.hub.changes };
}

function putJson(name: string, payload: unknown) {
  return h.putJson(`/v1/scripts/${name}`, payload);
}

describe("PUT /v1/scripts/:name with a JavaScript body", () => {
  it("stores the original source as version 1, tells the hub, and answers 201", async () => {
    const res = await h.deploy("hello", HELLO);
    expect(res.statusCode).toBe(201);
    const body = res.json();
    expect(body).toEqual({ name: "hello", version: 1, sha256: sha256(HELLO), createdAt: expect.any(String) });
    expect(new Date(body.createdAt).toISOString()).toBe(body.createdAt);
    expect(res.headers.location).toBe("/v1/scripts/hello");

    const stored = await h.store.getActive("hello");
    expect(stored).toMatchObject({
      version: 1,
      source: HELLO,
      sha256: sha256(HELLO),
      vars: {},
      limits: { cpuMs: 50, memoryMb: 128, wallMs: 30_000 },
    });
    expect(h.hub.changes).toBe(1);
  });

  it("keeps the source byte for byte, comments and formatting included", async () => {
    const source = "// keep me\nexport   default {\n\tfetch() { return new Response('é ✓') } // tab\n}\n";
    expect((await h.deploy("exact", source)).statusCode).toBe(201);
    expect((await h.store.getActive("exact"))?.source).toBe(source);
  });

  it("numbers each deploy as a new active version", async () => {
    await h.deploy("hello", HELLO);
    const second = await h.deploy("hello", "export default { fetch() { return new Response('v2') } }");
    expect(second.json().version).toBe(2);
    expect(await h.store.getSummary("hello")).toMatchObject({ activeVersion: 2, latestVersion: 2 });
    expect(h.hub.changes).toBe(2);
  });

  it.each(["text/javascript", "application/javascript; charset=utf-8", "Text/JavaScript;charset=UTF-8"])(
    "accepts content-type %s",
    async (type) => {
      const res = await h.request({
        method: "PUT",
        url: "/v1/scripts/typed",
        headers: { "content-type": type },
        payload: HELLO,
      });
      expect(res.statusCode).toBe(201);
    },
  );

  it("accepts `export { x as default }` as a default export", async () => {
    const res = await h.deploy(
      "aliased",
      "const handler = { fetch() {} };\nexport { handler as default };\n",
    );
    expect(res.statusCode).toBe(201);
  });
});

describe("PUT /v1/scripts/:name with a JSON envelope", () => {
  it("round-trips vars and limits", async () => {
    const vars = { GREETING: "hi", EMPTY: "" };
    const limits = { cpuMs: 100, memoryMb: 256, wallMs: 5000 };
    const res = await putJson("env", { source: HELLO, vars, limits });
    expect(res.statusCode).toBe(201);
    expect(res.json().sha256).toBe(sha256(HELLO));

    const got = await h.request({ method: "GET", url: "/v1/scripts/env" });
    expect(got.json()).toMatchObject({ vars, limits, version: 1 });
    expect((await h.store.getActive("env"))?.source).toBe(HELLO);
  });

  it("fills limits that are not given with the configured defaults", async () => {
    await putJson("partial", { source: HELLO, limits: { cpuMs: 7 } });
    expect((await h.store.getActive("partial"))?.limits).toEqual({ cpuMs: 7, memoryMb: 128, wallMs: 30_000 });
  });

  it("accepts a limit equal to the configured maximum", async () => {
    const res = await putJson("maxed", {
      source: HELLO,
      limits: { cpuMs: 1000, memoryMb: 512, wallMs: 60_000 },
    });
    expect(res.statusCode).toBe(201);
  });

  it.each([
    ["cpuMs", 1001],
    ["memoryMb", 513],
    ["wallMs", 60_001],
  ])("refuses limits.%s=%i above the maximum with 400 EDGE_LIMIT_TOO_HIGH naming it", async (key, value) => {
    const before = await storedState();
    const res = await putJson("greedy", { source: HELLO, limits: { [key]: value } });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe("EDGE_LIMIT_TOO_HIGH");
    expect(res.json().error.message).toContain(`limits.${key}`);
    expect(await storedState()).toEqual(before);
  });

  it.each([
    ["an unknown top-level key", { source: HELLO, entry: "main" }],
    ["an unknown limit", { source: HELLO, limits: { gpuMs: 1 } }],
    ["a missing source", { vars: {} }],
    ["a non-string var", { source: HELLO, vars: { N: 1 } }],
    ["a zero limit", { source: HELLO, limits: { cpuMs: 0 } }],
    ["a fractional limit", { source: HELLO, limits: { wallMs: 1.5 } }],
    ["a string limit", { source: HELLO, limits: { memoryMb: "128" } }],
    ["an array", [HELLO]],
    ["a bare string", HELLO],
  ])("refuses %s with 400 EDGE_INVALID_BODY and stores nothing", async (_, payload) => {
    const res = await putJson("bad", payload);
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe("EDGE_INVALID_BODY");
    expect(await h.store.listScripts()).toEqual([]);
    expect(h.hub.changes).toBe(0);
  });

  it("names the offending field in the message", async () => {
    const res = await putJson("bad", { source: HELLO, limits: { cpuMs: "fast" } });
    expect(res.json().error.message).toContain("limits.cpuMs");
  });

  it("refuses JSON that does not parse with 400 EDGE_INVALID_BODY", async () => {
    const res = await h.request({
      method: "PUT",
      url: "/v1/scripts/bad",
      headers: { "content-type": "application/json" },
      payload: '{"source": "export default {}"',
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({
      error: { code: "EDGE_INVALID_BODY", message: "The request body is not valid JSON" },
    });
  });

  it("refuses an empty JSON body with 400 EDGE_INVALID_BODY", async () => {
    const res = await h.request({
      method: "PUT",
      url: "/v1/scripts/bad",
      headers: { "content-type": "application/json" },
      payload: "",
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe("EDGE_INVALID_BODY");
  });
});

describe("PUT /v1/scripts/:name validation", () => {
  it.each(["a", "hello", "my-worker-2", "0", "a".repeat(63), "a-b"])("accepts the name %s", async (name) => {
    expect((await h.deploy(name, HELLO)).statusCode).toBe(201);
  });

  it.each(["-hello", "hello-", "Hello", "hello_world", "hello.js", "a".repeat(64), "h%C3%A9llo", "%20"])(
    "refuses the name %s with 400 EDGE_INVALID_NAME",
    async (name) => {
      const res = await h.deploy(name, HELLO);
      expect(res.statusCode).toBe(400);
      expect(res.json().error.code).toBe("EDGE_INVALID_NAME");
      expect(await h.store.listScripts()).toEqual([]);
    },
  );

  it("reports a syntax error as 400 EDGE_INVALID_SCRIPT with esbuild's line:column", async () => {
    const before = await storedState();
    const res = await h.deploy("broken", "export default {\n  fetch() {\n    return 1 +;\n  }\n}\n");
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe("EDGE_INVALID_SCRIPT");
    expect(res.json().error.message).toMatch(/broken\.js:3:14: Unexpected ";"/);
    expect(await storedState()).toEqual(before);
  });

  it.each([
    ["no exports", "const handler = {};\n"],
    ["only named exports", "export const fetch = () => new Response('x');\n"],
    ["an empty module", ""],
  ])("refuses a module with %s with 400 EDGE_INVALID_SCRIPT", async (_, source) => {
    const res = await h.deploy("nodefault", source);
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toEqual({
      code: "EDGE_INVALID_SCRIPT",
      message: expect.stringMatching(/default export/),
    });
    expect(await h.store.listScripts()).toEqual([]);
  });

  it("refuses a CommonJS module, which esbuild alone would give a default export", async () => {
    const res = await h.deploy("cjs", "module.exports = { fetch() {} };\n");
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe("EDGE_INVALID_SCRIPT");
    expect(res.json().error.message).toContain("CommonJS");
  });

  it("validates a script inside a JSON envelope the same way", async () => {
    const res = await putJson("broken", { source: "export default {" });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe("EDGE_INVALID_SCRIPT");
    expect(res.json().error.message).toMatch(/broken\.js:\d+:\d+/);
  });

  it.each([
    ["text/plain", "text/plain"],
    ["application/octet-stream", "application/octet-stream"],
    ["application/x-www-form-urlencoded", "application/x-www-form-urlencoded"],
  ])("refuses content-type %s with 415 EDGE_UNSUPPORTED_MEDIA_TYPE", async (_, type) => {
    const res = await h.request({
      method: "PUT",
      url: "/v1/scripts/hello",
      headers: { "content-type": type },
      payload: HELLO,
    });
    expect(res.statusCode).toBe(415);
    expect(res.json().error.code).toBe("EDGE_UNSUPPORTED_MEDIA_TYPE");
    expect(await h.store.listScripts()).toEqual([]);
  });

  it("refuses a body without a content type with 415", async () => {
    const res = await h.request({ method: "PUT", url: "/v1/scripts/hello", payload: Buffer.from(HELLO) });
    expect(res.statusCode).toBe(415);
    expect(res.json().error.code).toBe("EDGE_UNSUPPORTED_MEDIA_TYPE");
  });

  it("refuses a request without any body with 415", async () => {
    const res = await h.request({ method: "PUT", url: "/v1/scripts/hello" });
    expect(res.statusCode).toBe(415);
    expect(res.json().error.code).toBe("EDGE_UNSUPPORTED_MEDIA_TYPE");
  });
});

describe("PUT /v1/scripts/:name size limit (EDGE_MAX_SCRIPT_BYTES, 1 MiB by default)", () => {
  const MiB = 1_048_576;
  /** A valid module of exactly `bytes` UTF-8 bytes. */
  const scriptOf = (bytes: number) => {
    const head = "export default {};\n//";
    return head + "x".repeat(bytes - head.length);
  };

  it("accepts a script of exactly 1 MiB", async () => {
    const res = await h.deploy("big", scriptOf(MiB));
    expect(res.statusCode).toBe(201);
    expect((await h.store.getActive("big"))?.source.length).toBe(MiB);
  });

  it("refuses a script of 1 MiB + 1 byte with 413 EDGE_SCRIPT_TOO_LARGE and stores nothing", async () => {
    await h.deploy("big", HELLO);
    const before = await storedState();
    const res = await h.deploy("big", scriptOf(MiB + 1));
    expect(res.statusCode).toBe(413);
    expect(res.json().error.code).toBe("EDGE_SCRIPT_TOO_LARGE");
    expect(await storedState()).toEqual(before);
  });

  it("holds the source in a JSON envelope to the same limit", async () => {
    expect((await putJson("big", { source: scriptOf(MiB) })).statusCode).toBe(201);
    const res = await putJson("big", { source: scriptOf(MiB + 1) });
    expect(res.statusCode).toBe(413);
    expect(res.json().error.code).toBe("EDGE_SCRIPT_TOO_LARGE");
    expect((await h.store.getSummary("big"))?.latestVersion).toBe(1);
  });

  it("counts bytes, not characters", async () => {
    const small = await startHarness({ env: { EDGE_MAX_SCRIPT_BYTES: "64" } });
    try {
      const source = `export default {};\n//${"é".repeat(22)}`; // 21 + 44 = 65 bytes, 43 characters
      const res = await small.deploy("accents", source);
      expect(res.statusCode).toBe(413);
      const json = await small.request({
        method: "PUT",
        url: "/v1/scripts/accents",
        headers: { "content-type": "application/json" },
        payload: JSON.stringify({ source }),
      });
      expect(json.statusCode).toBe(413);
      expect(json.json().error.message).toContain("64");
    } finally {
      await small.close();
    }
  });
});
