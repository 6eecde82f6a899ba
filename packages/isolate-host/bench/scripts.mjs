// The scripts every benchmark runs (isolate-bench here, the HTTP bench in apps/edge-node/bench),
// so the figures compare the same work.

export const SCRIPTS = {
  "hello-world": {
    source: `export default { fetch: () => new Response("Hello, world!") }`,
    request: { method: "GET", path: "/hello", headers: [["accept", "*/*"]], body: null },
  },
  "url+json+crypto": {
    source: `export default { async fetch(request, env) {
      const url = new URL(request.url);
      const body = await request.json();
      const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(JSON.stringify(body)));
      const hash = [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
      return Response.json({ path: url.pathname, q: url.searchParams.get("q"), doubled: body.items.map((i) => i * 2),
        name: env.NAME, hash, id: crypto.randomUUID() });
    } }`,
    request: {
      method: "POST",
      path: "/api/items?q=search",
      headers: [["content-type", "application/json"]],
      body: new TextEncoder().encode(JSON.stringify({ items: [1, 2, 3, 4, 5] })),
    },
  },
};

export const VARS = { NAME: "bench" };
export const LIMITS = { cpuMs: 50, memoryMb: 128, wallMs: 30_000 };
