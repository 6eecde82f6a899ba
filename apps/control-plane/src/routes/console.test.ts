import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type Harness, startHarness } from "../test-harness.js";

let h: Harness;

beforeEach(async () => {
  h = await startHarness();
});
afterEach(async () => {
  await h.close();
});

// The console is built by `npm run build` (turbo builds @edge/console before the control plane's tests).
describe("the web console's files", () => {
  it("serves the page at /console/ with a strict Content-Security-Policy and no inline script", async () => {
    const res = await h.app.inject({ method: "GET", url: "/console/" });
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toMatch(/^text\/html/);
    const csp = String(res.headers["content-security-policy"]);
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain("unsafe-inline");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(res.headers["x-frame-options"]).toBe("DENY");
    expect(res.body).toContain('<script type="module" src="app.js"></script>');
    expect(res.body).not.toMatch(/<script>(?!<)/);
  });

  it("serves the bundle and the map data, answers 304 to a matching etag and 404 to anything else", async () => {
    const js = await h.app.inject({ method: "GET", url: "/console/app.js" });
    expect(js.statusCode).toBe(200);
    expect(js.headers["content-type"]).toMatch(/^text\/javascript/);
    const again = await h.app.inject({
      method: "GET",
      url: "/console/app.js",
      headers: { "if-none-match": String(js.headers.etag) },
    });
    expect(again.statusCode).toBe(304);
    const world = await h.app.inject({ method: "GET", url: "/console/world-110m.json" });
    expect(world.json()).toMatchObject({ type: "Topology" });
    const missing = await h.app.inject({ method: "GET", url: "/console/..%2Fpackage.json" });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error.code).toBe("EDGE_NOT_FOUND");
  });

  it("redirects /console to /console/ and holds no data: the API behind it still needs the token", async () => {
    const res = await h.app.inject({ method: "GET", url: "/console" });
    expect(res.statusCode).toBe(308);
    expect(res.headers.location).toBe("/console/");
    const api = await h.app.inject({ method: "GET", url: "/v1/nodes" });
    expect(api.statusCode).toBe(401);
  });
});
