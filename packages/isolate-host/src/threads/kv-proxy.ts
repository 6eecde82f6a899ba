import type { KvCaller, KvProvider } from "../host/kv.js";

import { answerCall, type ProxyReply, pendingCalls } from "./call-proxy.js";

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

export type KvCallReply = ProxyReply;

/** The main thread's side: runs a worker's call. Never rejects. */
export function answerKvCall(provider: KvProvider | undefined, call: KvCall): Promise<KvCallReply> {
  return answerCall(async () => {
    if (provider === undefined) throw new Error("KV is not available on this node");
    switch (call.op) {
      case "get":
        return await provider.get(call.ns, call.key, call.caller);
      case "list":
        return await provider.list(call.ns, call.options, call.caller);
      case "write":
        await provider.write(call.ns, call.mutations, call.caller);
        return null;
    }
  });
}

/** The worker's side: a provider whose calls go to the main thread. */
export function kvProxy(post: (id: number, call: KvCall) => void): {
  provider: KvProvider;
  settle(id: number, reply: KvCallReply): void;
} {
  const { send, settle } = pendingCalls<KvCall>(post);
  return {
    provider: {
      get: (ns, key, caller) => send({ op: "get", ns, key, caller }),
      list: (ns, options, caller) => send({ op: "list", ns, options, caller }),
      write: (ns, mutations, caller) => send({ op: "write", ns, mutations, caller }),
    },
    settle,
  };
}
