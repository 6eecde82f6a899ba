import type { FastifyRequest } from "fastify";
import { z } from "zod";
import { EdgeError } from "../../errors.js";

/** Lowercase `[a-z0-9-]{1,63}` without a leading or trailing dash: usable as a DNS label. */
export const SCRIPT_NAME_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

export const scriptName = z.string().regex(SCRIPT_NAME_PATTERN, "not a valid script name");

/** A version number as it arrives in a query string. */
export const versionParam = z
  .string()
  .regex(/^[1-9]\d{0,15}$/, "expected a positive whole number")
  .transform(Number);

export interface NameParams {
  name: string;
}

/** `onRequest` hook for routes with `:name`: rejects a bad name before any body is read. */
export async function checkNameParam(request: FastifyRequest): Promise<void> {
  const { name } = request.params as Partial<NameParams>;
  if (name !== undefined && !SCRIPT_NAME_PATTERN.test(name)) {
    throw new EdgeError("EDGE_INVALID_NAME", `Invalid script name ${JSON.stringify(name)}: ${NAME_RULE}`);
  }
}

const NAME_RULE = "use 1-63 characters of a-z, 0-9 and '-', not starting or ending with '-'";
