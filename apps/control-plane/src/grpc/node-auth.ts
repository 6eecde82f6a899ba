import { createHash, timingSafeEqual } from "node:crypto";
import type { Hello } from "@edge/protocol";
import type { Metadata } from "@grpc/grpc-js";
import type { HelloAuthResult } from "../push/session-host.js";
import type { Store } from "../store/types.js";

/** The metadata key an agent sends its token in (`Bearer <token>`). */
export const NODE_TOKEN_METADATA = "authorization";

/** The bearer token a stream presented, or null. */
export function bearerToken(metadata: Metadata): string | null {
  const [value] = metadata.get(NODE_TOKEN_METADATA);
  if (typeof value !== "string" || !value.startsWith("Bearer ")) return null;
  const token = value.slice("Bearer ".length);
  return token === "" ? null : token;
}

/**
 * Checks the shared token a node presents on Connect
 * (`authorization: Bearer <EDGE_NODE_TOKEN>`; loopback binds only). Compared
 * through fixed-length digests in constant time, so neither the length nor a
 * prefix leaks.
 */
export function nodeTokenCheck(token: string | null): (metadata: Metadata) => boolean {
  if (token === null) return () => true;
  const expected = digest(token);
  return (metadata) => {
    const given = bearerToken(metadata);
    return given !== null && timingSafeEqual(digest(given), expected);
  };
}

/** sha256 of a node token, hex: what an enrolment stores instead of the token. */
export function tokenSha256(token: string): string {
  return digest(token).toString("hex");
}

/**
 * Per-node enrolment: the token must be the one issued for the node id the
 * hello claims, and the hello's PoP the one it was enrolled for. A token
 * therefore only ever speaks for its own node.
 */
export function enrolmentCheck(store: Store, token: string): (hello: Hello) => Promise<HelloAuthResult> {
  const given = digest(token);
  return async (hello) => {
    const enrolment = await store.getEnrolment(hello.nodeId);
    const expected = enrolment === null ? null : Buffer.from(enrolment.tokenSha256, "hex");
    // Compared even when there is no enrolment, so the answer takes as long either way.
    const match = timingSafeEqual(
      given,
      expected?.length === given.length ? expected : Buffer.alloc(given.length),
    );
    if (enrolment === null || !match) {
      return {
        ok: false,
        code: "EDGE_NODE_UNAUTHENTICATED",
        detail: "the token is not the one enrolled for this node id",
      };
    }
    if (enrolment.pop !== hello.pop) {
      return {
        ok: false,
        code: "EDGE_NODE_UNAUTHENTICATED",
        detail: `node ${hello.nodeId} is enrolled for another PoP`,
      };
    }
    return { ok: true, credential: enrolment.tokenSha256 };
  };
}

function digest(value: string): Buffer {
  return createHash("sha256").update(value, "utf8").digest();
}
