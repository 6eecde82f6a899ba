import type { IsolateRequest } from "./isolate-session.js";
import type { ModuleSet } from "./modules/module-set.js";
import type { HostRequest } from "./types.js";

/** A private copy of the vars, so later changes by the caller do not reach running scripts. */
export function copyVars(vars: Record<string, string> | undefined): Record<string, string> {
  const copy: Record<string, string> = {};
  for (const [key, value] of Object.entries(vars ?? {})) {
    if (typeof value !== "string") throw new TypeError(`Script var ${key} must be a string`);
    copy[key] = value;
  }
  return copy;
}

/** A script's KV bindings: env names (JavaScript identifiers) -> namespace ids. */
export function copyKvBindings(bindings: Record<string, string> | undefined): Record<string, string> {
  const copy: Record<string, string> = {};
  for (const [name, namespaceId] of Object.entries(bindings ?? {})) {
    if (!/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(name) || typeof namespaceId !== "string" || namespaceId === "") {
      throw new TypeError(`KV binding ${name} is invalid`);
    }
    copy[name] = namespaceId;
  }
  return copy;
}

/**
 * Whether the source looks like it uses URL support (URL, URLSearchParams, or
 * constructors that parse URLs), so its isolates are built with URL parsing
 * warmed up. Only a hint: a script that reaches URL another way just runs colder.
 */
export function usesUrl(set: ModuleSet): boolean {
  for (const module of set.modules.values()) {
    if (module.type === "esm" && /URL|\bRequest\s*\(|\bredirect\s*\(/.test(module.text ?? "")) return true;
  }
  return false;
}

/** The request as the isolate receives it; the URL is normalised by Node's WHATWG parser. */
export function isolateRequest(request: HostRequest): IsolateRequest {
  return {
    method: request.method,
    url: new URL(request.url).href,
    headers: request.headers.map(([name, value]): [string, string] => [name, value]),
    body: request.body,
  };
}
