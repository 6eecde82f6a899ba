import type { FastifyRequest } from "fastify";
import { z } from "zod";
import type { Config } from "../../config.js";
import { EdgeError } from "../../errors.js";
import type { ScriptLimits } from "../../store/types.js";
import { parseBody } from "../validation.js";

/** Media types whose body is the raw script source. */
export const JAVASCRIPT_TYPES = ["application/javascript", "text/javascript"] as const;

const limit = z.number().int().positive();

const envelope = z.strictObject({
  source: z.string(),
  vars: z.record(z.string().min(1, "variable names must not be empty"), z.string()).optional(),
  limits: z
    .strictObject({ cpuMs: limit.optional(), memoryMb: limit.optional(), wallMs: limit.optional() })
    .optional(),
});

export interface DeployInput {
  source: string;
  vars: Record<string, string>;
  limits: ScriptLimits;
}

function mediaType(request: FastifyRequest): string {
  return (request.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
}

/** Requested limits over the configured maxima are refused rather than silently capped. */
function resolveLimits(requested: Partial<ScriptLimits> | undefined, config: Config): ScriptLimits {
  const limits = { ...config.defaultLimits };
  for (const key of ["cpuMs", "memoryMb", "wallMs"] as const) {
    const value = requested?.[key];
    if (value === undefined) continue;
    if (value > config.maxLimits[key]) {
      throw new EdgeError(
        "EDGE_LIMIT_TOO_HIGH",
        `limits.${key} ${value} is above the maximum of ${config.maxLimits[key]}`,
      );
    }
    limits[key] = value;
  }
  return limits;
}

/**
 * A deploy body is either the raw source (`application/javascript`) or a JSON
 * envelope `{ source, vars?, limits? }`. Either way the source must fit in
 * `EDGE_MAX_SCRIPT_BYTES` (the JSON body itself may be larger, for escaping).
 */
export function parseDeployBody(request: FastifyRequest, config: Config): DeployInput {
  const type = mediaType(request);
  let input: DeployInput;
  if ((JAVASCRIPT_TYPES as readonly string[]).includes(type) && typeof request.body === "string") {
    input = { source: request.body, vars: {}, limits: { ...config.defaultLimits } };
  } else if (type === "application/json") {
    const body = parseBody(envelope, request.body);
    input = { source: body.source, vars: body.vars ?? {}, limits: resolveLimits(body.limits, config) };
  } else {
    throw new EdgeError("EDGE_UNSUPPORTED_MEDIA_TYPE");
  }
  const bytes = Buffer.byteLength(input.source, "utf8");
  if (bytes > config.maxScriptBytes) {
    throw new EdgeError(
      "EDGE_SCRIPT_TOO_LARGE",
      `The script is ${bytes} bytes, above the limit of ${config.maxScriptBytes}`,
    );
  }
  return input;
}
