/**
 * What kv-proxy.ts and cache-proxy.ts share: a provider that lives on the main
 * thread, called from worker threads by message. A call's answer is a plain
 * reply (value, or an error's name and message); the worker keeps a table of
 * calls waiting for theirs.
 */

export type ProxyReply = { ok: true; value: unknown } | { ok: false; name: string; message: string };

/** The main thread's side: runs `work` and turns its result or failure into a reply. Never rejects. */
export async function answerCall(work: () => Promise<unknown>): Promise<ProxyReply> {
  try {
    return { ok: true, value: await work() };
  } catch (err) {
    const error = err instanceof Error ? err : new Error(String(err));
    return { ok: false, name: error.name, message: error.message };
  }
}

/** The worker's side: `send` posts a call and waits; `settle` hands a reply to its caller. */
export function pendingCalls<Call>(post: (id: number, call: Call) => void): {
  send<T>(call: Call): Promise<T>;
  settle(id: number, reply: ProxyReply): void;
} {
  const waiting = new Map<number, { resolve(value: unknown): void; reject(err: Error): void }>();
  let nextId = 1;
  return {
    send: <T>(call: Call): Promise<T> =>
      new Promise<T>((resolve, reject) => {
        const id = nextId++;
        waiting.set(id, { resolve: resolve as (value: unknown) => void, reject });
        post(id, call);
      }),
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
