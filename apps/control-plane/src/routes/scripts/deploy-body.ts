import type { FastifyRequest } from "fastify";
import { z } from "zod";
import type { Config } from "../../config.js";
import { checkCrons } from "../../cron/cron-expression.js";
import { EdgeError } from "../../errors.js";
import type { ModuleKind, ScriptLimits, VersionModules } from "../../store/types.js";
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

/** A Cloudflare-style upload, parsed into the JSON envelope by `multipart-upload.ts`. */
export const MULTIPART = "multipart/form-data";

const limit = z.number().int().positive();

/** The smallest memory limit a node runs a script with (isolate-host's floor). */
export const MIN_MEMORY_MB = 8;

/**
 * Var and secret names: what a script reads as `env.NAME` and what travels in
 * headers of the wire format and logs. No whitespace, CR/LF or control bytes.
 */
export const ENV_NAME_PATTERN = /^[A-Za-z_$][A-Za-z0-9_$.-]{0,127}$/;

export const envName = z
  .string()
  .regex(
    ENV_NAME_PATTERN,
    "names are 1-128 characters: a letter, '_' or '$', then letters, digits, '_', '$', '-' or '.'",
  );

/** A var or secret map: valid names, string values. */
export const envMap = z.record(envName, z.string());

const moduleEntry = z.strictObject({
  name: z.string(),
  type: z.enum(["esm", "text", "data", "wasm", "sourcemap"]),
  /** base64 */
  content: z.base64(),
});

const envelope = z.strictObject({
  source: z.string().optional(),
  /** A multi-module version: every module (the main one too), and which one is the entry. */
  modules: z.array(moduleEntry).min(1).optional(),
  main: z.string().optional(),
  language: z.enum(["js", "ts"]).optional(),
  vars: envMap.optional(),
  secrets: envMap.optional(),
  limits: z
    .strictObject({
      cpuMs: limit.optional(),
      // Refused rather than silently raised to the floor nodes would apply.
      memoryMb: limit.min(MIN_MEMORY_MB, `at least ${MIN_MEMORY_MB} MB`).optional(),
      wallMs: limit.optional(),
    })
    .optional(),
  bindings: bindingRequests.optional(),
  /** Cron Triggers; checked (checkCrons) after parsing so the error names the expression. */
  triggers: z.strictObject({ crons: z.array(z.string()).max(64) }).optional(),
});

export interface DeployInput {
  /** The (main) module's source. */
  source: string;
  /**
   * A multi-module version's main module name and every module, the main one
   * included (validated by validateModules; split off when stored).
   */
  modules?: VersionModules;
  language: ScriptLanguage;
  /** Replaces the vars; absent: the active version's vars are kept. */
  vars?: Record<string, string>;
  /** Plaintext, replacing the secrets; absent: the active version's (sealed) secrets are kept. */
  secrets?: Record<string, string>;
  limits: ScriptLimits;
  /** Replaces the bindings (namespaces by name, resolved later); absent: the active version's are kept. */
  bindings?: BindingRequests;
  /** Replaces the Cron Triggers (checked); absent: the active version's are kept. */
  crons?: string[];
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

/** The envelope's code: `source`, or `modules` with `main` naming one of them. */
function sourceOf(body: z.infer<typeof envelope>): Pick<DeployInput, "source" | "modules"> {
  if (body.modules === undefined) {
    if (body.source === undefined || body.main !== undefined) {
      throw new EdgeError("EDGE_INVALID_BODY", 'The body needs "source", or "modules" with "main"');
    }
    return { source: body.source };
  }
  if (body.source !== undefined || body.main === undefined || body.language === "ts") {
    throw new EdgeError(
      "EDGE_INVALID_BODY",
      '"modules" goes with "main" (the entry module\'s name), without "source" or "language": "ts"',
    );
  }
  const modules = body.modules.map((m) => ({
    name: m.name,
    type: m.type as ModuleKind,
    content: new Uint8Array(Buffer.from(m.content, "base64")),
  }));
  const main = modules.find((m) => m.name === body.main);
  return {
    source: main === undefined ? "" : Buffer.from(main.content).toString("utf8"),
    modules: { main: body.main, modules },
  };
}

/**
 * A deploy body is either the raw source (`application/javascript`, or a
 * TypeScript type), a JSON envelope `{ source, language?, vars?, secrets?,
 * limits?, bindings?, triggers?: { crons } }` (or `{ main, modules, … }`), or a Cloudflare-style multipart
 * upload (turned into that envelope when parsed). Either way the source must fit in `EDGE_MAX_SCRIPT_BYTES` (the
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
  } else if (type === "application/json" || type === MULTIPART) {
    const body = parseBody(envelope, request.body);
    input = {
      ...sourceOf(body),
      language: body.language ?? "js",
      ...(body.vars !== undefined ? { vars: body.vars } : {}),
      ...(body.secrets !== undefined ? { secrets: body.secrets } : {}),
      ...(body.bindings !== undefined ? { bindings: body.bindings } : {}),
      ...(body.triggers !== undefined
        ? { crons: checkCrons(body.triggers.crons, { seconds: config.cronSeconds }) }
        : {}),
      limits: resolveLimits(body.limits, config),
    };
  } else {
    throw new EdgeError("EDGE_UNSUPPORTED_MEDIA_TYPE");
  }
  const bytes =
    input.modules === undefined
      ? Buffer.byteLength(input.source, "utf8")
      : input.modules.modules.reduce((sum, m) => sum + m.content.byteLength, 0);
  if (bytes > config.maxScriptBytes) {
    throw new EdgeError(
      "EDGE_SCRIPT_TOO_LARGE",
      `The script is ${bytes} bytes, above the limit of ${config.maxScriptBytes}`,
    );
  }
  return input;
}
