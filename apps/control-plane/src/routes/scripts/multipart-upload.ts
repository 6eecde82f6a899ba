import { z } from "zod";
import { EdgeError } from "../../errors.js";
import type { ModuleKind } from "../../store/types.js";
import { describeIssues } from "../validation.js";

/** A module part's media type -> its module type, as in Cloudflare's Workers upload API. */
const PART_TYPES: Readonly<Record<string, ModuleKind>> = {
  "application/javascript+module": "esm",
  "text/javascript+module": "esm",
  "text/plain": "text",
  "application/octet-stream": "data",
  "application/wasm": "wasm",
  "application/source-map": "sourcemap",
};

/** The `metadata` part: Cloudflare's fields this platform reads (others, such as compatibility_date, are ignored). */
const metadataSchema = z.object({
  main_module: z.string(),
  bindings: z
    .array(z.object({ type: z.string(), name: z.string().min(1), text: z.string().optional() }))
    .optional(),
  limits: z.object({ cpu_ms: z.number().int().positive().optional() }).optional(),
});

function invalid(message: string): EdgeError {
  return new EdgeError("EDGE_INVALID_BODY", message);
}

/**
 * A Cloudflare-style `multipart/form-data` upload turned into the JSON
 * envelope (`{ main, modules, vars?, secrets?, limits? }`): a `metadata`
 * part (JSON with `main_module`, and optionally `bindings` of type
 * `plain_text` (vars) and `secret_text` (secrets), which then replace all of
 * them, and `limits.cpu_ms`) and one part per module, named by its module
 * name and typed by its media type (see PART_TYPES).
 */
export async function envelopeFromMultipart(
  body: Buffer,
  contentType: string,
): Promise<Record<string, unknown>> {
  let form: FormData;
  try {
    form = await new Response(body, { headers: { "content-type": contentType } }).formData();
  } catch {
    throw invalid("The multipart/form-data body does not parse");
  }
  const metadataPart = form.get("metadata");
  if (metadataPart === null) throw invalid('The upload needs a "metadata" part (JSON with "main_module")');
  let metadata: z.infer<typeof metadataSchema>;
  try {
    const text = typeof metadataPart === "string" ? metadataPart : await metadataPart.text();
    const parsed = metadataSchema.safeParse(JSON.parse(text));
    if (!parsed.success) throw invalid(`metadata: ${describeIssues(parsed.error)}`);
    metadata = parsed.data;
  } catch (error) {
    if (error instanceof EdgeError) throw error;
    throw invalid('The "metadata" part is not JSON');
  }
  const modules: Array<{ name: string; type: ModuleKind; content: string }> = [];
  for (const [name, part] of form.entries()) {
    if (name === "metadata") continue;
    if (typeof part === "string") throw invalid(`Part '${name}' must be a file part with a media type`);
    const media = part.type.split(";")[0]!.trim().toLowerCase();
    const type = PART_TYPES[media];
    if (type === undefined) throw invalid(`Part '${name}' has the unsupported media type '${part.type}'`);
    modules.push({ name, type, content: Buffer.from(await part.arrayBuffer()).toString("base64") });
  }
  const envelope: Record<string, unknown> = { main: metadata.main_module, modules };
  if (metadata.bindings !== undefined) {
    const vars: Record<string, string> = {};
    const secrets: Record<string, string> = {};
    for (const binding of metadata.bindings) {
      const into = binding.type === "plain_text" ? vars : binding.type === "secret_text" ? secrets : null;
      if (into === null)
        throw invalid(`Binding '${binding.name}' has the unsupported type '${binding.type}'`);
      into[binding.name] = binding.text ?? "";
    }
    envelope.vars = vars;
    envelope.secrets = secrets;
  }
  if (metadata.limits?.cpu_ms !== undefined) envelope.limits = { cpuMs: metadata.limits.cpu_ms };
  return envelope;
}
