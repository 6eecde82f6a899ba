import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";

/** One static file of the console, ready to send. */
export interface ConsoleAsset {
  body: Buffer;
  contentType: string;
  etag: string;
}

const TYPES: Record<string, string> = {
  html: "text/html; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
  json: "application/json",
};

/** Built by `npm run build` (scripts/build-web.mjs), one level above both src/ and dist/. */
const WEB_DIST = new URL("../web-dist/", import.meta.url);

/**
 * The console's built files by name (`index.html`, `app.js`, …), read once.
 * Empty when the console was not built: the control plane then answers 404.
 */
export function loadConsoleAssets(dir: URL = WEB_DIST): ReadonlyMap<string, ConsoleAsset> {
  const assets = new Map<string, ConsoleAsset>();
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return assets;
  }
  for (const name of names) {
    const type = TYPES[name.split(".").pop() ?? ""];
    if (type === undefined) continue;
    const body = readFileSync(new URL(name, dir));
    const etag = `"${createHash("sha256").update(body).digest("base64url").slice(0, 22)}"`;
    assets.set(name, { body, contentType: type, etag });
  }
  return assets;
}

/**
 * Headers every console response carries: a strict Content-Security-Policy (no inline script or
 * style, no other origin: the map data ships with the console), no framing, no referrer.
 */
export const CONSOLE_SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  "content-security-policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
    "font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
  "cross-origin-opener-policy": "same-origin",
});
