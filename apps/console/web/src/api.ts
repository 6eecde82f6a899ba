/**
 * The console's only way to the control plane: its public HTTP API (`/v1/*`), with the admin
 * token as a bearer token. The token lives in this module's memory for the tab only: never in
 * a URL, a cookie or storage, so a reload signs out.
 */
let token: string | null = null;
let onSignedOut: () => void = () => {};

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Checks a token against the API and keeps it when it is accepted. Resolves to the HTTP status
 * (200 when signed in); a network failure rejects.
 */
export async function signIn(value: string): Promise<number> {
  const response = await fetch("/v1/nodes", {
    headers: { authorization: `Bearer ${value}` },
    cache: "no-store",
  });
  if (response.ok) token = value;
  return response.status;
}

export function signOut(): void {
  token = null;
  onSignedOut();
}

export function signedIn(): boolean {
  return token !== null;
}

export function whenSignedOut(callback: () => void): void {
  onSignedOut = callback;
}

/** A request to the API; rejects with ApiError carrying the API's `{ error: { code, message } }`. */
export async function api<T>(method: string, path: string, body?: unknown, contentType?: string): Promise<T> {
  const response = await request(method, path, body, contentType);
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}

export async function apiText(path: string): Promise<string> {
  return (await request("GET", path)).text();
}

/** A raw response for streams (the live tail). */
export async function apiStream(path: string, signal: AbortSignal): Promise<Response> {
  return request("GET", path, undefined, undefined, signal);
}

async function request(
  method: string,
  path: string,
  body?: unknown,
  contentType = "application/json",
  signal?: AbortSignal,
): Promise<Response> {
  if (token === null) throw new ApiError(401, "EDGE_UNAUTHORIZED", "Sign in first");
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  let payload: string | undefined;
  if (body !== undefined) {
    headers["content-type"] = contentType;
    payload = typeof body === "string" ? body : JSON.stringify(body);
  }
  const init: RequestInit = { method, headers, cache: "no-store" };
  if (payload !== undefined) init.body = payload;
  if (signal !== undefined) init.signal = signal;
  const response = await fetch(path, init);
  if (response.ok) return response;
  let code = `HTTP_${response.status}`;
  let message = response.statusText;
  try {
    const parsed = (await response.json()) as { error?: { code?: string; message?: string } };
    code = parsed.error?.code ?? code;
    message = parsed.error?.message ?? message;
  } catch {
    // not JSON: keep the status
  }
  if (response.status === 401) signOut();
  throw new ApiError(response.status, code, message);
}
