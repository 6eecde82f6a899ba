import { createHash, timingSafeEqual } from "node:crypto";
import type { Metadata } from "@grpc/grpc-js";

/** The metadata key an agent sends its enrolment token in. */
export const NODE_TOKEN_METADATA = "authorization";

/**
 * Checks the enrolment token a node presents on Connect
 * (`authorization: Bearer <EDGE_NODE_TOKEN>`). Compared through fixed-length
 * digests in constant time, so neither the length nor a prefix leaks.
 */
export function nodeTokenCheck(token: string | null): (metadata: Metadata) => boolean {
  if (token === null) return () => true;
  const expected = digest(token);
  return (metadata) => {
    const [value] = metadata.get(NODE_TOKEN_METADATA);
    if (typeof value !== "string" || !value.startsWith("Bearer ")) return false;
    return timingSafeEqual(digest(value.slice("Bearer ".length)), expected);
  };
}

function digest(value: string): Buffer {
  return createHash("sha256").update(value, "utf8").digest();
}
