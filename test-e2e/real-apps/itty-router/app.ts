/** An itty-router v5 AutoRouter app: params, query, JSON bodies, status errors, 404s. */
import { AutoRouter, error } from "itty-router";

const router = AutoRouter();

router
  .get("/items/:id", ({ params, query }) => ({ id: params.id, q: query.q ?? null }))
  .post("/echo", async (request) => ({ got: await request.json() }))
  .get("/teapot", () => error(418, "short and stout"));

export default router;
