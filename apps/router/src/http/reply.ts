import type { ServerResponse } from "node:http";
import { errorBody, ROUTER_ERRORS, type RouterErrorCode } from "../errors.js";

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
    "cache-control": "no-store",
  });
  res.end(text);
}

export function sendError(
  res: ServerResponse,
  code: RouterErrorCode,
  message?: string,
  headers: Record<string, string> = {},
): void {
  sendJson(res, ROUTER_ERRORS[code].status, errorBody(code, message), headers);
}
