/**
 * A Hono app as users write them for Workers: a router with params and the
 * framework's own middleware (cors, etag, jwt, compress) and body parsing.
 */
import { Hono } from "hono";
import { compress } from "hono/compress";
import { cors } from "hono/cors";
import { etag } from "hono/etag";
import { jwt, sign } from "hono/jwt";

type Bindings = { JWT_SECRET: string };

const app = new Hono<{ Bindings: Bindings }>();

app.get("/", (c) => c.text("hello from hono"));

app.get("/users/:id/posts/:post", (c) =>
  c.json({ user: c.req.param("id"), post: Number(c.req.param("post")), sort: c.req.query("sort") ?? null }),
);

app.use("/api/*", cors({ origin: "https://app.example", allowMethods: ["GET", "POST"], maxAge: 600 }));
app.get("/api/data", (c) => c.json({ data: [1, 2, 3] }));

app.use("/etag/*", etag());
app.get("/etag/doc", (c) => c.text("a document that does not change"));

app.post("/token", async (c) => {
  const { sub } = await c.req.json<{ sub: string }>();
  const token = await sign(
    { sub, role: "admin", exp: Math.floor(Date.now() / 1000) + 600 },
    c.env.JWT_SECRET,
    "HS256",
  );
  return c.json({ token });
});
app.use("/auth/*", (c, next) => jwt({ secret: c.env.JWT_SECRET, alg: "HS256" })(c, next));
app.get("/auth/me", (c) => {
  const payload = c.get("jwtPayload") as { sub: string; role: string };
  return c.json({ sub: payload.sub, role: payload.role });
});

app.post("/form", async (c) => {
  const body = await c.req.parseBody();
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(body)) {
    out[key] =
      typeof value === "string" ? value : { name: value.name, type: value.type, text: await value.text() };
  }
  return c.json(out);
});

app.use("/big", compress());
app.get("/big", (c) => c.text("compress me please. ".repeat(200)));

app.notFound((c) => c.json({ missing: c.req.path }, 404));

export default app;
