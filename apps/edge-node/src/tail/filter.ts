import type { TailFilter } from "@edge/protocol";

/** The fields of a request that filters look at; both live outcomes and stored traces have them. */
export interface Filterable {
  method: string;
  url: string;
  status: number;
  /** null or "" when the request did not end in an edge error. */
  errorCode: string | null;
  errorMessage: string | null;
  logs: readonly { message: string }[];
}

export type RequestPredicate = (request: Filterable) => boolean;

const NOTHING: RequestPredicate = () => false;

/**
 * Compiles a tail filter for this node's PoP. Every set criterion must hold;
 * within a criterion any value may. Status tokens: "404" (exact), "4xx"
 * (class), "ok" (below 400, no edge error) and "error" (5xx or an edge error);
 * an unknown token matches nothing.
 */
export function compileFilter(filter: TailFilter | undefined, pop: string): RequestPredicate {
  if (!filter) return () => true;
  if (filter.pops.length > 0 && !filter.pops.includes(pop)) return NOTHING;
  const methods = filter.methods.length > 0 ? new Set(filter.methods.map((m) => m.toUpperCase())) : null;
  const statuses = filter.statuses.length > 0 ? filter.statuses.map(statusTest) : null;
  const search = filter.search.toLowerCase();
  return (request) => {
    if (methods !== null && !methods.has(request.method.toUpperCase())) return false;
    if (statuses !== null && !statuses.some((test) => test(request))) return false;
    if (search !== "" && !mentions(request, search)) return false;
    return true;
  };
}

function statusTest(token: string): RequestPredicate {
  const t = token.trim().toLowerCase();
  if (/^[1-5]\d\d$/.test(t)) {
    const exact = Number(t);
    return (r) => r.status === exact;
  }
  if (/^[1-5]xx$/.test(t)) {
    const cls = Number(t[0]);
    return (r) => Math.floor(r.status / 100) === cls;
  }
  if (t === "ok") return (r) => r.status < 400 && !r.errorCode;
  if (t === "error") return (r) => r.status >= 500 || Boolean(r.errorCode);
  return NOTHING;
}

function mentions(request: Filterable, needle: string): boolean {
  if (request.url.toLowerCase().includes(needle)) return true;
  if (request.errorMessage?.toLowerCase().includes(needle)) return true;
  return request.logs.some((line) => line.message.toLowerCase().includes(needle));
}

/** A sampler for a rate in (0, 1); 0 and anything >= 1 (or not a number) keep everything. */
export function sampler(rate: number, random: () => number = Math.random): () => boolean {
  if (!(rate > 0 && rate < 1)) return () => true;
  return () => random() < rate;
}
