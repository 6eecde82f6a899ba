/**
 * Entry of a runner worker thread (see threaded-runner.ts): an ordinary
 * in-thread runner serving the messages of the main thread. Each worker
 * builds, runs and disposes its own fresh isolates, so isolate creation, the
 * heaviest blocking step, happens on every core.
 */
import { Writable } from "node:stream";
import { parentPort, workerData } from "node:worker_threads";
import { pino } from "pino";
import { createIsolateRunner, type PreparedScript } from "../runner.js";
import type { StreamingResponse, WaitUntilResult } from "../types.js";
import { cacheProxy } from "./cache-proxy.js";
import { kvProxy } from "./kv-proxy.js";
import type { FromWorker, ToWorker, WorkerOptions } from "./protocol.js";
import { toWire } from "./wire-error.js";

const port = parentPort;
if (port === null) throw new Error("runner-worker must run in a worker thread");
const options = workerData as WorkerOptions;

function send(message: FromWorker, transfer: ArrayBuffer[] = []): void {
  port!.postMessage(message, transfer);
}

/** Host log lines go to the main thread's logger. */
const logStream = new Writable({
  write(chunk: Buffer, _encoding, done) {
    send({ t: "log", line: chunk.toString() });
    done();
  },
});

const kv = kvProxy((id, call) => send({ t: "kv", id, call }));
const cache = cacheProxy((id, call) => send({ t: "cache", id, call }));

const runner = createIsolateRunner({
  ...(options.kv ? { kv: kv.provider } : {}),
  ...(options.cache ? { cache: cache.provider } : {}),
  maxLimits: options.maxLimits,
  warmIsolates: options.warmIsolates,
  warmIsolatesMaxBytes: options.warmIsolatesMaxBytes,
  runtimeSnapshot: options.runtimeSnapshot,
  fetch: options.fetch,
  maxResponseBytes: options.maxResponseBytes,
  admission: options.admission,
  startupCpuMs: options.startupCpuMs,
  maxHostBytes: options.maxHostBytes,
  logger: pino({ level: options.logLevel }, logStream),
  threads: 0,
});
const scripts = new Map<number, PreparedScript>();
const bodies = new Map<number, StreamingResponse["body"]>();
/** Runs whose response head is not out yet, to abort when their client goes away. */
const aborts = new Map<number, AbortController>();
let nextScriptId = 1;

/** A body the main thread can take over without a copy (never a view into a shared pool). */
function owned(bytes: Uint8Array): { bytes: Uint8Array; transfer: ArrayBuffer[] } {
  const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
  const copy = whole && bytes.buffer instanceof ArrayBuffer ? bytes : bytes.slice();
  return { bytes: copy, transfer: [copy.buffer as ArrayBuffer] };
}

function reportWaitUntil(id: number, waitUntil: Promise<WaitUntilResult>): void {
  void waitUntil.then((result) =>
    send({
      t: "waitUntil",
      id,
      result: { ...result, error: result.error === null ? null : toWire(result.error) },
    }),
  );
}

async function handle(message: ToWorker): Promise<void> {
  switch (message.t) {
    case "prepare": {
      try {
        const prepared = await runner.prepare(message.script);
        const scriptId = nextScriptId++;
        scripts.set(scriptId, prepared);
        send({ t: "prepared", id: message.id, scriptId, limits: prepared.limits });
      } catch (err) {
        send({ t: "failed", id: message.id, error: toWire(err) });
      }
      return;
    }
    case "kvReply":
      kv.settle(message.id, message.reply);
      return;
    case "cacheReply":
      cache.settle(message.id, message.reply);
      return;
    case "forget":
      scripts.delete(message.scriptId);
      return;
    case "scheduled": {
      try {
        const prepared = scripts.get(message.scriptId);
        if (prepared === undefined)
          throw new TypeError("runScheduled() needs a PreparedScript returned by this runner's prepare()");
        const result = await runner.runScheduled(prepared, message.event);
        send({ t: "scheduledDone", id: message.id, result });
      } catch (err) {
        send({ t: "failed", id: message.id, error: toWire(err) });
      }
      return;
    }
    case "run": {
      const prepared = scripts.get(message.scriptId);
      const controller = new AbortController();
      const options = { signal: controller.signal };
      aborts.set(message.id, controller);
      try {
        if (prepared === undefined)
          throw new TypeError("run() needs a PreparedScript returned by this runner's prepare()");
        if (message.streaming) {
          const result = await runner.runStreaming(prepared, message.request, options);
          const { status, headers, length } = result.response;
          // A body known up front is complete already (taking it runs nothing in the isolate):
          // it travels with the head, saving the main thread two round trips to this one.
          let inline: ReturnType<typeof owned> | null = null;
          if (length !== null) {
            const whole = await result.response.body.next();
            inline = owned(whole.done ? new Uint8Array(0) : whole.value);
          } else {
            bodies.set(message.id, result.response.body);
          }
          send(
            {
              t: "head",
              id: message.id,
              status,
              headers,
              body: inline?.bytes ?? null,
              length,
              cpuMs: result.cpuMs,
              wallMs: result.wallMs,
              startMs: result.startMs,
              heapBytes: result.heapBytes,
              logs: result.logs,
            },
            inline?.transfer ?? [],
          );
          reportWaitUntil(message.id, result.waitUntil);
        } else {
          const result = await runner.run(prepared, message.request, options);
          const { bytes, transfer } = owned(result.response.body);
          const { status, headers } = result.response;
          send(
            {
              t: "head",
              id: message.id,
              status,
              headers,
              body: bytes,
              cpuMs: result.cpuMs,
              wallMs: result.wallMs,
              startMs: result.startMs,
              heapBytes: result.heapBytes,
              logs: result.logs,
            },
            transfer,
          );
          reportWaitUntil(message.id, result.waitUntil);
        }
      } catch (err) {
        send({ t: "failed", id: message.id, error: toWire(err) });
      } finally {
        aborts.delete(message.id);
      }
      return;
    }
    case "abort":
      aborts.get(message.id)?.abort();
      return;
    case "pull": {
      const body = bodies.get(message.id);
      if (body === undefined) {
        send({ t: "chunk", id: message.id, chunk: null });
        return;
      }
      try {
        const next = await body.next();
        if (next.done) {
          bodies.delete(message.id);
          send({ t: "chunk", id: message.id, chunk: null });
        } else {
          const { bytes, transfer } = owned(next.value);
          send({ t: "chunk", id: message.id, chunk: bytes }, transfer);
        }
      } catch (err) {
        bodies.delete(message.id);
        send({ t: "chunkFailed", id: message.id, error: toWire(err) });
      }
      return;
    }
    case "cancel": {
      const body = bodies.get(message.id);
      bodies.delete(message.id);
      await body?.return?.();
      return;
    }
    case "dispose":
      // Every isolate disposed first: the thread then ends by itself once isolated-vm is done with them.
      await runner.dispose();
      port!.close();
      return;
  }
}

port.on("message", (message: ToWorker) => {
  void handle(message);
});
send({ t: "ready" });
