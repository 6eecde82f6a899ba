import type { FastifyPluginAsync } from "fastify";
import { z } from "zod";
import { EdgeError } from "../../errors.js";
import type { RouteDeps } from "../types.js";
import { parseQuery } from "../validation.js";
import { type NameParams, versionParam } from "./params.js";
import { presentScript, presentStaged, presentSummary, presentVersion, rollout } from "./present.js";

/** Scripts per page of `GET /v1/scripts`: 1000 by default and at most. */
const MAX_PAGE = 1_000;
const listQuery = z.object({
  limit: z.coerce.number().int().min(1).max(MAX_PAGE).default(MAX_PAGE),
  cursor: z
    .string()
    .regex(/^[a-z0-9-]{1,63}$/, "a script name from a previous page")
    .optional(),
});

const sourceQuery = z.object({
  version: versionParam.optional(),
  /** For a TypeScript version: `true` answers the JavaScript nodes run instead of the TypeScript. */
  compiled: z.enum(["true", "false"]).optional(),
  /** For a multi-module version: one of its modules by name (the main one is the default). */
  module: z.string().min(1).optional(),
});

/** How a module is served by `GET …/source?module=`. */
const MODULE_MEDIA: Readonly<Record<string, string>> = {
  esm: "application/javascript; charset=utf-8",
  text: "text/plain; charset=utf-8",
  data: "application/octet-stream",
  wasm: "application/wasm",
  sourcemap: "application/json; charset=utf-8",
};

function scriptNotFound(name: string): EdgeError {
  return new EdgeError("EDGE_SCRIPT_NOT_FOUND", `No script named ${name}`);
}

/**
 * The read side: listings, one script (with `staged`, the gradual rollout in
 * progress, and `rollout`, which version each node runs), its versions, and a
 * version's source.
 */
export const readRoutes: FastifyPluginAsync<RouteDeps> = async (app, { store, hub }) => {
  // Pages of at most `limit` scripts by name; `cursor` (null on the last page) asks for the next.
  app.get("/scripts", async (request) => {
    const { limit, cursor } = parseQuery(listQuery, request.query);
    const page = await store.listScripts({
      ...(cursor === undefined ? {} : { after: cursor }),
      limit: limit + 1,
    });
    const more = page.length > limit;
    const scripts = page.slice(0, limit);
    return { scripts: scripts.map(presentSummary), cursor: more ? (scripts.at(-1)?.name ?? null) : null };
  });

  app.get<{ Params: NameParams }>("/scripts/:name", async (request) => {
    const { name } = request.params;
    const [summary, active] = await Promise.all([store.getSummary(name), store.getActive(name)]);
    if (summary === null || active === null) throw scriptNotFound(name);
    return {
      ...presentScript(active, summary),
      staged: presentStaged(summary.rollout),
      rollout: rollout(name, hub.nodes()),
    };
  });

  app.get<{ Params: NameParams }>("/scripts/:name/versions", async (request) => {
    const { name } = request.params;
    const [summary, versions] = await Promise.all([store.getSummary(name), store.listVersions(name)]);
    if (summary === null) throw scriptNotFound(name);
    return { versions: versions.map((meta) => presentVersion(meta, summary.activeVersion)) };
  });

  app.get<{ Params: NameParams }>("/scripts/:name/source", async (request, reply) => {
    const { name } = request.params;
    const { version, compiled, module } = parseQuery(sourceQuery, request.query);
    const found = version === undefined ? await store.getActive(name) : await store.getVersion(name, version);
    if (found === null) {
      if (version === undefined || (await store.getSummary(name)) === null) throw scriptNotFound(name);
      throw new EdgeError("EDGE_VERSION_NOT_FOUND", `Script ${name} has no version ${version}`);
    }
    if (module !== undefined && module !== found.modules?.main) {
      const part = found.modules?.modules.find((m) => m.name === module);
      if (part === undefined) {
        throw new EdgeError(
          "EDGE_MODULE_NOT_FOUND",
          `Version ${found.version} of ${name} has no module ${module}`,
        );
      }
      return reply
        .type(MODULE_MEDIA[part.type] ?? "application/octet-stream")
        .header("x-edge-script-version", String(found.version))
        .header("x-edge-module-type", part.type)
        .send(Buffer.from(part.content));
    }
    const typescript = found.tsSource !== null && compiled !== "true";
    return (
      reply
        .type(typescript ? "application/typescript; charset=utf-8" : "application/javascript; charset=utf-8")
        .header("x-edge-script-version", String(found.version))
        .header("x-edge-script-language", found.tsSource === null ? "js" : "ts")
        // sha256 names the compiled JavaScript; the TypeScript of the same version is another representation.
        .header("etag", typescript ? `"${found.sha256}-ts"` : `"${found.sha256}"`)
        .send(typescript ? found.tsSource : found.source)
    );
  });
};
