import type { IncomingMessage } from "node:http";

export class BodyTooLargeError extends Error {
  readonly code = "EDGE_BODY_TOO_LARGE";
  constructor(limit: number) {
    super(`request body exceeds ${limit} bytes`);
  }
}

/**
 * Reads a request body into memory, refusing more than `limit` bytes; each
 * chunk is taken from the node's body budget first (`take` throws past it).
 * Null when there is no body.
 */
export async function readBody(
  req: IncomingMessage,
  limit: number,
  take: (bytes: number) => void = () => {},
): Promise<Uint8Array | null> {
  const declared = Number(req.headers["content-length"] ?? Number.NaN);
  if (declared > limit) throw new BodyTooLargeError(limit);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new BodyTooLargeError(limit);
    take(chunk.length);
    chunks.push(chunk);
  }
  if (size === 0) return req.method === "GET" || req.method === "HEAD" ? null : new Uint8Array(0);
  return chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size);
}
