import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type Harness, HELLO, startHarness } from "../../test-harness.js";

let h: Harness;

beforeEach(async () => {
  h = await startHarness({ env: { EDGE_SECRETS_KEY: "00".repeat(32) } });
});
afterEach(async () => {
  await h.close();
});

const stored = async () => ({ scripts: await h.store.listScripts(), changes: h.hub.changes });

describe("deploys every node would reject are refused by the API", () => {
  it.each([
    ['import fs from "node:fs";\n', "node:fs"],
    ['import { Hono } from "hono";\n', "hono"],
    ['import "./helpers.js";\n', "./helpers.js"],
    ['export * from "node:path";\n', "node:path"],
  ])(
    "refuses a static import (%s) with 400 EDGE_INVALID_SCRIPT naming it, and stores nothing",
    async (line, specifier) => {
      const before = await stored();
      const res = await h.deploy("imports", `${line}${HELLO}`);
      expect(res.statusCode).toBe(400);
      expect(res.json().error.code).toBe("EDGE_INVALID_SCRIPT");
      expect(res.json().error.message).toContain(JSON.stringify(specifier));
      expect(await stored()).toEqual(before);
    },
  );

  it("refuses an import in a TypeScript deploy too, but accepts a type-only import", async () => {
    const put = (source: string) =>
      h.request({
        method: "PUT",
        url: "/v1/scripts/typed",
        headers: { "content-type": "application/typescript" },
        payload: source,
      });
    expect((await put(`import { readFileSync } from "node:fs";\nreadFileSync;\n${HELLO}`)).statusCode).toBe(
      400,
    );
    expect(
      (await put(`import type { Thing } from "./types";\nconst t: Thing | null = null;\n${HELLO}`))
        .statusCode,
    ).toBe(201);
  });

  it("accepts a dynamic import(), which only fails when it runs", async () => {
    const res = await h.deploy("lazy", `const load = () => import("node:fs");\n${HELLO}`);
    expect(res.statusCode).toBe(201);
  });

  it.each([0.5, 1, 7])(
    "refuses limits.memoryMb=%d below the 8 MB floor with 400 instead of raising it",
    async (memoryMb) => {
      const res = await h.putJson("/v1/scripts/tiny", { source: HELLO, limits: { memoryMb } });
      expect(res.statusCode).toBe(400);
      expect(res.json().error.message).toContain("limits.memoryMb");
      expect(await h.store.listScripts()).toEqual([]);
    },
  );

  it("accepts limits.memoryMb=8", async () => {
    const res = await h.putJson("/v1/scripts/tiny", { source: HELLO, limits: { memoryMb: 8 } });
    expect(res.statusCode).toBe(201);
    expect((await h.store.getActive("tiny"))?.limits.memoryMb).toBe(8);
  });

  it.each([
    "BAD\r\nX-Injected: 1",
    "NAME\n",
    "with space",
    "tab\tname",
    "nul\u0000",
    "1DIGIT",
    "é",
    "x".repeat(129),
  ])("refuses the var or secret name %j with 400 EDGE_INVALID_BODY", async (name) => {
    for (const field of ["vars", "secrets"]) {
      const res = await h.putJson("/v1/scripts/env", { source: HELLO, [field]: { [name]: "v" } });
      expect(res.statusCode).toBe(400);
      expect(res.json().error.code).toBe("EDGE_INVALID_BODY");
    }
    expect(await h.store.listScripts()).toEqual([]);
  });

  it("refuses a bad name in PUT …/vars and …/secrets (set and unset) with 400", async () => {
    expect((await h.deploy("env", HELLO)).statusCode).toBe(201);
    const before = await stored();
    for (const [url, body] of [
      ["/v1/scripts/env/vars", { set: { "A\r\nB": "1" } }],
      ["/v1/scripts/env/vars", { unset: ["A\nB"] }],
      ["/v1/scripts/env/secrets", { secrets: { "k y": "1" } }],
    ] as const) {
      const res = await h.putJson(url, body);
      expect(res.statusCode).toBe(400);
      expect(res.json().error.code).toBe("EDGE_INVALID_BODY");
    }
    expect(await stored()).toEqual(before);
  });

  it("accepts the usual names: API_KEY, $x, _private, my-var, a.b", async () => {
    const vars = { API_KEY: "1", $x: "2", _private: "3", "my-var": "4", "a.b": "5" };
    const res = await h.putJson("/v1/scripts/env", { source: HELLO, vars });
    expect(res.statusCode).toBe(201);
  });
});
