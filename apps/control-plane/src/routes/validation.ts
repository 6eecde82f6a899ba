import type { z } from "zod";
import { EdgeError } from "../errors.js";

/** zod issues as one readable line: `limits.cpuMs: expected number, received string; ...`. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => (issue.path.length > 0 ? `${issue.path.join(".")}: ${issue.message}` : issue.message))
    .join("; ");
}

/** Validates a query string; unknown parameters are ignored, bad ones answer 400 EDGE_INVALID_QUERY. */
export function parseQuery<T extends z.ZodType>(schema: T, query: unknown): z.infer<T> {
  const parsed = schema.safeParse(query);
  if (!parsed.success) throw new EdgeError("EDGE_INVALID_QUERY", describeIssues(parsed.error));
  return parsed.data;
}

/** Validates a JSON body; anything else (missing body, wrong shape, unknown keys) answers 400 EDGE_INVALID_BODY. */
export function parseBody<T extends z.ZodType>(schema: T, body: unknown): z.infer<T> {
  if (body === undefined || body === null || typeof body !== "object") {
    throw new EdgeError("EDGE_INVALID_BODY", "Expected a JSON object body");
  }
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw new EdgeError("EDGE_INVALID_BODY", describeIssues(parsed.error));
  return parsed.data;
}
