import { createHash, timingSafeEqual } from "node:crypto";
import type { FastifyRequest } from "fastify";
import { EdgeError } from "../errors.js";

const BEARER = /^Bearer[ \t]+([^\s]+)[ \t]*$/i;

function digest(value: string): Buffer {
  return createHash("sha256").update(value, "utf8").digest();
}

/**
 * An `onRequest` hook that accepts only `Authorization: Bearer <token>`.
 * Both sides are hashed first so the comparison is constant-time whatever the
 * lengths (`timingSafeEqual` needs equal lengths).
 */
export function bearerAuth(token: string): (request: FastifyRequest) => Promise<void> {
  const expected = digest(token);
  return async (request) => {
    const header = request.headers.authorization;
    const presented = header === undefined ? undefined : BEARER.exec(header)?.[1];
    if (presented === undefined || !timingSafeEqual(digest(presented), expected)) {
      throw new EdgeError("EDGE_UNAUTHORIZED");
    }
  };
}
