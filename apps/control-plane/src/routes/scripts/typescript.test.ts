import { createHash } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type Harness, startHarness } from "../../test-harness.js";

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(async () => {
  await h.close();
});

const TS = `interface Env { WHO: string }
type Greeting = \`hello \${string}\`;
const greet = (who: string): Greeting => \`hello \${who}\`;
export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    return new Response(greet(env.WHO as string));
  },
} satisfies { fetch(request: Request, env: Env): Promise<Response> };
`;

const sha256 = (text: string) => createHash("sha256").update(text, "utf8").digest("hex");

function putTs(name: string, type: string, payload: string) {
  return h.request({ method: "PUT", url: `/v1/scripts/${name}`, headers: { "content-type": type }, payload });
}

describe("deploying TypeScript", () => {
  it.each(["application/typescript", "text/typescript", "application/x-typescript; charset=utf-8"])(
    "compiles a %s body to JavaScript at deploy time and stores both",
    async (type) => {
      const res = await putTs("typed", type, TS);
      expect(res.statusCode).toBe(201);
      const stored = await h.store.getActive("typed");
      expect(stored?.tsSource).toBe(TS);
      // What nodes run: types gone, the code kept, hashed as sent to them.
      expect(stored?.source).not.toMatch(/interface|satisfies|: string/);
      expect(stored?.source).toMatch(/`hello \$\{who\}`/);
      expect(stored?.source).toMatch(/export\s*{[^}]*as default/);
      expect(res.json().sha256).toBe(sha256(stored!.source));
    },
  );

  it('accepts the JSON envelope with "language": "ts", with vars and limits', async () => {
    const res = await h.request({
      method: "PUT",
      url: "/v1/scripts/typed",
      headers: { "content-type": "application/json" },
      payload: JSON.stringify({ source: TS, language: "ts", vars: { WHO: "ts" }, limits: { cpuMs: 10 } }),
    });
    expect(res.statusCode).toBe(201);
    expect(await h.store.getActive("typed")).toMatchObject({
      tsSource: TS,
      vars: { WHO: "ts" },
      limits: { cpuMs: 10 },
    });
    const script = await h.request({ method: "GET", url: "/v1/scripts/typed" });
    expect(script.json()).toMatchObject({ language: "ts", vars: { WHO: "ts" } });
  });

  it("serves the TypeScript from GET …/source, and the compiled JavaScript with ?compiled=true", async () => {
    await putTs("typed", "application/typescript", TS);
    const ts = await h.request({ method: "GET", url: "/v1/scripts/typed/source" });
    expect(ts.statusCode).toBe(200);
    expect(ts.headers["content-type"]).toBe("application/typescript; charset=utf-8");
    expect(ts.headers["x-edge-script-language"]).toBe("ts");
    expect(ts.body).toBe(TS);
    const js = await h.request({ method: "GET", url: "/v1/scripts/typed/source?compiled=true&version=1" });
    expect(js.headers["content-type"]).toBe("application/javascript; charset=utf-8");
    expect(js.body).toBe((await h.store.getActive("typed"))?.source);
    expect(js.headers.etag).toBe(`"${sha256(js.body)}"`);
    expect(ts.headers.etag).not.toBe(js.headers.etag);
  });

  it("rejects a TypeScript syntax error with 400 EDGE_INVALID_SCRIPT at file.ts:line:column, storing nothing", async () => {
    const res = await putTs(
      "typed",
      "application/typescript",
      "const x: number = 1;\nexport default { fetch( {\n",
    );
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe("EDGE_INVALID_SCRIPT");
    expect(res.json().error.message).toMatch(/typed\.ts:\d+:\d+: /);
    expect(await h.store.getSummary("typed")).toBeNull();
  });

  it("rejects TypeScript without a default export, and keeps JavaScript deploys as they were", async () => {
    const none = await putTs("typed", "application/typescript", "export const handler: number = 1;\n");
    expect(none.statusCode).toBe(400);
    expect(none.json().error.message).toMatch(/no default export/);
    // A JavaScript body that is only valid TypeScript is still a JavaScript syntax error.
    const js = await putTs("plain", "application/javascript", "const x: number = 1;\nexport default {};\n");
    expect(js.statusCode).toBe(400);
    expect(js.json().error.message).toMatch(/plain\.js:1:\d+/);
    const ok = await putTs("plain", "application/javascript", "export default {};\n");
    expect(ok.statusCode).toBe(201);
    expect(await h.store.getActive("plain")).toMatchObject({
      source: "export default {};\n",
      tsSource: null,
    });
    const script = await h.request({ method: "GET", url: "/v1/scripts/plain" });
    expect(script.json().language).toBe("js");
  });
});
