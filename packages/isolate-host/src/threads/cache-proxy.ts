import type { CacheCaller, CacheEntry, CacheProvider } from "../host/cache.js";

import { answerCall, type ProxyReply, pendingCalls } from "./call-proxy.js";

/**
 * The Cache API across threads, as kv-proxy.ts does for KV: a worker's
 * `CacheProvider` posts each call to the main thread (`{ t: "cache" }`),
 * which runs it on the embedder's provider and answers (`{ t: "cacheReply" }`).
 */

export type CacheCall =
  | { op: "get"; key: string; caller: CacheCaller }
  | { op: "put"; key: string; entry: CacheEntry; caller: CacheCaller }
  | { op: "delete"; key: string; caller: CacheCaller };

export type CacheCallReply = ProxyReply;

/** The main thread's side: runs a worker's call. Never rejects. */
export function answerCacheCall(
  provider: CacheProvider | undefined,
  call: CacheCall,
): Promise<CacheCallReply> {
  return answerCall(async () => {
    if (provider === undefined) throw new Error("The Cache API is not available on this node");
    switch (call.op) {
      case "get":
        return await provider.get(call.key, call.caller);
      case "put":
        await provider.put(call.key, call.entry, call.caller);
        return null;
      case "delete":
        return await provider.delete(call.key, call.caller);
    }
  });
}

/** The worker's side: a provider whose calls go to the main thread. */
export function cacheProxy(post: (id: number, call: CacheCall) => void): {
  provider: CacheProvider;
  settle(id: number, reply: CacheCallReply): void;
} {
  const { send, settle } = pendingCalls<CacheCall>(post);
  return {
    provider: {
      get: (key, caller) => send({ op: "get", key, caller }),
      put: (key, entry, caller) => send({ op: "put", key, entry, caller }),
      delete: (key, caller) => send({ op: "delete", key, caller }),
    },
    settle,
  };
}
