import type { NodeEnrolment } from "./types.js";

/** The JSON an enrolment is stored as (SQLite row, Redis hash field). */
export function encodeEnrolment(enrolment: NodeEnrolment): string {
  const { nodeId, pop, tokenSha256, createdAt } = enrolment;
  return JSON.stringify({ nodeId, pop, tokenSha256, createdAt });
}

export function decodeEnrolment(json: string): NodeEnrolment {
  const value = JSON.parse(json) as Partial<NodeEnrolment>;
  if (
    typeof value.nodeId !== "string" ||
    typeof value.pop !== "string" ||
    typeof value.tokenSha256 !== "string" ||
    typeof value.createdAt !== "number"
  ) {
    throw new Error("a stored node enrolment is malformed");
  }
  return { nodeId: value.nodeId, pop: value.pop, tokenSha256: value.tokenSha256, createdAt: value.createdAt };
}
