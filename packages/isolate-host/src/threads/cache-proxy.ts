import type { CacheCaller, CacheEntry, CacheProvider } from "../host/cache.js";

/**
 * The Cache API across threads, as kv-proxy.ts does for KV: a worker's
 * `CacheProvider` posts each call to the main thread (`{ t: "cache" }`),
 * which runs it on the embedder's provider and answers (`{ t: "cacheReply" }`).
 */

export type CacheCall =
  | { op: "get"; key: string; caller: CacheCaller }
  | { op: "put"; key: string; entry: CacheEntry; caller: CacheCaller }
  | { op: "delete"; key: string; caller: CacheCaller };

export type CacheCallReply = { ok: true; value: unknown } | { ok: false; name: string; message: string };

/** The main thread's side: runs a worker's call. Never rejects. */
export async function answerCacheCall(
  provider: CacheProvider | undefined,
  call: CacheCall,
): Promise<CacheCallReply> {
  try {
    if (provider === undefined) throw new Error("The Cache API is not available on this node");
    switch (call.op) {
      case "get":
        return { ok: true, value: await provider.get(call.key, call.caller) };
      case "put":
        await provider.put(call.key, call.entry, call.caller);
        return { ok: true, value: null };
      case "delete":
        return { ok: true, value: await provider.delete(call.key, call.caller) };
    }
  } catch (err) {
    const error = err instanceof Error ? err : new Error(String(err));
    return { ok: false, name: error.name, message: error.message };
  }
}

/** The worker's side: a provider whose calls go to the main thread. */
export function cacheProxy(post: (id: number, call: CacheCall) => void): {
  provider: CacheProvider;
  settle(id: number, reply: CacheCallReply): void;
} {
  const waiting = new Map<number, { resolve(value: unknown): void; reject(err: Error): void }>();
  let nextId = 1;
  const send = <T>(call: CacheCall): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const id = nextId++;
      waiting.set(id, { resolve: resolve as (value: unknown) => void, reject });
      post(id, call);
    });
  return {
    provider: {
      get: (key, caller) => send({ op: "get", key, caller }),
      put: (key, entry, caller) => send({ op: "put", key, entry, caller }),
      delete: (key, caller) => send({ op: "delete", key, caller }),
    },
    settle(id, reply) {
      const call = waiting.get(id);
      waiting.delete(id);
      if (call === undefined) return;
      if (reply.ok) call.resolve(reply.value);
      else {
        const error = new Error(reply.message);
        error.name = reply.name;
        call.reject(error);
      }
    },
  };
}
