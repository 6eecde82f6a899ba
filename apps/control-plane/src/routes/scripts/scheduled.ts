import type { FastifyPluginAsync } from "fastify";
import { z } from "zod";
import { checkCron } from "../../cron/cron-expression.js";
import { EdgeError } from "../../errors.js";
import type { RouteDeps } from "../types.js";
import { parseBody } from "../validation.js";
import type { NameParams } from "./params.js";

const scheduledBody = z.strictObject({ cron: z.string().max(100).optional() });

/**
 * `POST /scripts/:name/scheduled { cron? }`: runs the script's scheduled()
 * handler once now, on one node this replica holds (no store claim: it is an
 * explicit request, like Cloudflare's `/__scheduled` in `wrangler dev`).
 * `cron` defaults to the active version's first Cron Trigger, else `* * * * *`.
 * Answers the node's outcome; 503 EDGE_NO_NODE when no node could start it.
 */
export const scheduledRoute: FastifyPluginAsync<RouteDeps> = async (app, { config, store, cron }) => {
  app.post<{ Params: NameParams }>("/scripts/:name/scheduled", async (request) => {
    const { name } = request.params;
    const body = parseBody(scheduledBody, request.body ?? {});
    if (body.cron !== undefined) checkCron(body.cron, { seconds: config.cronSeconds });
    const active = await store.getActive(name);
    if (active === null) throw new EdgeError("EDGE_SCRIPT_NOT_FOUND", `No script named ${name}`);
    const expression = body.cron?.trim().split(/\s+/).join(" ") ?? active.crons[0] ?? "* * * * *";
    if (cron === null) throw new EdgeError("EDGE_NO_NODE");
    const result = await cron.run(name, expression, Date.now());
    request.log.info({ ...result }, "scheduled event run on request");
    if (result.outcome === "unavailable") throw new EdgeError("EDGE_NO_NODE");
    return {
      script: name,
      cron: expression,
      scheduledTime: result.scheduledTime,
      outcome: result.outcome,
      nodeId: result.nodeId,
      noRetry: result.noRetry,
      error:
        result.errorCode === null ? null : { code: result.errorCode, message: result.errorMessage ?? "" },
    };
  });
};
