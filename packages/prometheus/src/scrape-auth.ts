import { createHash, timingSafeEqual } from "node:crypto";

const BEARER = /^Bearer[ \t]+([^\s]+)[ \t]*$/i;

function digest(value: string): Buffer {
  return createHash("sha256").update(value, "utf8").digest();
}

/**
 * Checks a scrape's `Authorization` header against a bearer token (what
 * Prometheus sends with `authorization: { credentials: ... }`). With no token
 * configured every scrape is let in. Both sides are hashed first so the
 * comparison takes the same time whatever the lengths.
 */
export function scrapeAuthorizer(token: string | null): (authorization: string | undefined) => boolean {
  if (token === null) return () => true;
  const expected = digest(token);
  return (authorization) => {
    const presented = authorization === undefined ? undefined : BEARER.exec(authorization)?.[1];
    return presented !== undefined && timingSafeEqual(digest(presented), expected);
  };
}
