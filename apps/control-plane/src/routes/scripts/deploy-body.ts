import type { FastifyRequest } from "fastify";
import { z } from "zod";
import type { Config } from "../../config.js";
import { EdgeError } from "../../errors.js";
import type { ScriptLimits } from "../../store/types.js";
import { type BindingRequests, bindingRequests } from "../kv/bindings.js";
import { parseBody } from "../validation.js";

/** Media types whose body is the raw script source. */
export const JAVASCRIPT_TYPES = ["application/javascript", "text/javascript"] as const;
export const TYPESCRIPT_TYPES = [
  "application/typescript",
  "text/typescript",
  "application/x-typescript",
] as const;

export type ScriptLanguage = "js" | "ts";

const limit = z.number().int().positive();

/** A var or secret map: names are non-empty, values strings. */
export const envMap = z.record(z.string().min(1, "variable names must not be empty"), z.string());

const envelope = z.strictObject({
  source: z.string(),
  language: z.enum(["js", "ts"]).optional(),
  vars: envMap.optional(),
  secrets: envMap.optional(),
  limits: z
    .strictObject({ cpuMs: limit.optional(), memoryMb: limit.optional(), wallMs: limit.optional() })
    .optional(),
  bindings: bindingRequests.optional(),
});

export interface DeployInput {
  source: string;
  language: ScriptLanguage;
  /** Replaces the vars; absent: the active version's vars are kept. */
  vars?: Record<string, string>;
  /** Plaintext, replacing the secrets; absent: the active version's (sealed) secrets are kept. */
  secrets?: Record<string, string>;
  limits: ScriptLimits;
  /** Replaces the bindings (namespaces by name, resolved later); absent: the active version's are kept. */
  bindings?: BindingRequests;
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
 * A deploy body is either the raw source (`application/javascript`, or a
 * TypeScript type) or a JSON envelope `{ source, language?, vars?, secrets?,
 * limits?, bindings? }`. Either way the source must fit in `EDGE_MAX_SCRIPT_BYTES` (the
 * JSON body itself may be larger, for escaping).
 */
export function parseDeployBody(request: FastifyRequest, config: Config): DeployInput {
  const type = mediaType(request);
  let input: DeployInput;
  const raw = typeof request.body === "string" ? request.body : null;
  if ((JAVASCRIPT_TYPES as readonly string[]).includes(type) && raw !== null) {
    input = { source: raw, language: "js", limits: { ...config.defaultLimits } };
  } else if ((TYPESCRIPT_TYPES as readonly string[]).includes(type) && raw !== null) {
    input = { source: raw, language: "ts", limits: { ...config.defaultLimits } };
  } else if (type === "application/json") {
    const body = parseBody(envelope, request.body);
    input = {
      source: body.source,
      language: body.language ?? "js",
      ...(body.vars !== undefined ? { vars: body.vars } : {}),
      ...(body.secrets !== undefined ? { secrets: body.secrets } : {}),
      ...(body.bindings !== undefined ? { bindings: body.bindings } : {}),
      limits: resolveLimits(body.limits, config),
    };
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
