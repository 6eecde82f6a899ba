import { CONSOLE_SECURITY_HEADERS, type ConsoleAsset, loadConsoleAssets } from "@edge/console";
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from "fastify";
import { EdgeError } from "../errors.js";

/**
 * The web console's static files at `/console/` (built by `@edge/console`). They hold no data
 * and no secret: the console signs in with the admin token, kept in the tab's memory, and reads
 * everything through the same `/v1/*` API and bearer auth as any client. Every answer carries a
 * strict Content-Security-Policy.
 */
export const consoleRoutes: FastifyPluginAsync<{ assets?: ReadonlyMap<string, ConsoleAsset> }> = async (
  app,
  options,
) => {
  const assets = options.assets ?? loadConsoleAssets();
  app.get("/console", async (_request, reply) => reply.redirect("/console/", 308));
  app.get<{ Params: { file?: string } }>("/console/", async (request, reply) =>
    send(request, reply, "index.html"),
  );
  app.get<{ Params: { file: string } }>("/console/:file", async (request, reply) =>
    send(request, reply, request.params.file),
  );

  async function send(request: FastifyRequest, reply: FastifyReply, name: string): Promise<FastifyReply> {
    const asset = assets.get(name);
    if (asset === undefined) {
      throw new EdgeError(
        "EDGE_NOT_FOUND",
        assets.size === 0 ? "The console is not built (npm run build)" : `No console file ${name}`,
      );
    }
    reply.headers(CONSOLE_SECURITY_HEADERS);
    reply.header("etag", asset.etag);
    reply.header("cache-control", name === "index.html" ? "no-cache" : "public, max-age=300");
    if (request.headers["if-none-match"] === asset.etag) return reply.code(304).send();
    return reply.type(asset.contentType).send(asset.body);
  }
};
