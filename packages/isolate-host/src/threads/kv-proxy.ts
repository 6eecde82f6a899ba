import type { KvCaller, KvProvider } from "../host/kv.js";

/**
 * Workers KV across threads: isolates run on worker threads, the embedder's
 * `KvProvider` lives on the main thread. A worker's provider is a proxy that
 * posts each call to the main thread (`{ t: "kv" }`), which runs it on the
 * real provider and answers (`{ t: "kvReply" }`). Values are copied, never shared.
 */

export type KvCall =
  | { op: "get"; ns: string; key: string; caller: KvCaller }
  | { op: "list"; ns: string; options: Parameters<KvProvider["list"]>[1]; caller: KvCaller }
  | { op: "write"; ns: string; mutations: Parameters<KvProvider["write"]>[1]; caller: KvCaller };

export type KvCallReply = { ok: true; value: unknown } | { ok: false; name: string; message: string };

/** The main thread's side: runs a worker's call. Never rejects. */
export async function answerKvCall(provider: KvProvider | undefined, call: KvCall): Promise<KvCallReply> {
  try {
    if (provider === undefined) throw new Error("KV is not available on this node");
    switch (call.op) {
      case "get":
        return { ok: true, value: await provider.get(call.ns, call.key, call.caller) };
      case "list":
        return { ok: true, value: await provider.list(call.ns, call.options, call.caller) };
      case "write":
        await provider.write(call.ns, call.mutations, call.caller);
        return { ok: true, value: null };
    }
  } catch (err) {
    const error = err instanceof Error ? err : new Error(String(err));
    return { ok: false, name: error.name, message: error.message };
  }
}

/** The worker's side: a provider whose calls go to the main thread. */
export function kvProxy(post: (id: number, call: KvCall) => void): {
  provider: KvProvider;
  settle(id: number, reply: KvCallReply): void;
} {
  const waiting = new Map<number, { resolve(value: unknown): void; reject(err: Error): void }>();
  let nextId = 1;
  const send = <T>(call: KvCall): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const id = nextId++;
      waiting.set(id, { resolve: resolve as (value: unknown) => void, reject });
      post(id, call);
    });
  return {
    provider: {
      get: (ns, key, caller) => send({ op: "get", ns, key, caller }),
      list: (ns, options, caller) => send({ op: "list", ns, options, caller }),
      write: (ns, mutations, caller) => send({ op: "write", ns, mutations, caller }),
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
