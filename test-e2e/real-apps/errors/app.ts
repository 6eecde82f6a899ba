/** Errors a developer must be able to act on: a thrown exception in a module of their own, a missing API. */
import { parseOrder } from "./orders";

declare const HTMLRewriter: new () => unknown;

export default {
  async fetch(request: Request): Promise<Response> {
    const { pathname } = new URL(request.url);
    if (pathname === "/missing-api") {
      return new Response(String(new HTMLRewriter()));
    }
    const order = parseOrder(await request.text());
    return Response.json(order);
  },
};
