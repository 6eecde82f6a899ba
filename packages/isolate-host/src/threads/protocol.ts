import type { AdmissionOptions } from "../admission.js";
import type { RunErrorCode } from "../errors.js";
import type { FetchOptions } from "../fetch/fetch-options.js";
import type {
  HostRequest,
  LogLine,
  ScheduledEvent,
  ScheduledResult,
  ScriptLimits,
  WorkerScript,
} from "../types.js";
import type { CacheCall, CacheCallReply } from "./cache-proxy.js";
import type { KvCall, KvCallReply } from "./kv-proxy.js";

/** What a worker thread's runner is built with (the serialisable part of IsolateRunnerOptions). */
export interface WorkerOptions {
  maxLimits: ScriptLimits | undefined;
  warmIsolates: number | undefined;
  warmIsolatesMaxBytes: number;
  runtimeSnapshot: boolean | undefined;
  fetch: FetchOptions | undefined;
  maxResponseBytes: number | undefined;
  admission: AdmissionOptions;
  startupCpuMs: number | undefined;
  maxHostBytes: number;
  logLevel: string;
  /** The main thread has a KV provider (calls go there, see kv-proxy.ts). */
  kv: boolean;
  /** The main thread has a Cache API provider (see cache-proxy.ts). */
  cache: boolean;
}

/** An error crossing threads: a RunError by its data, anything else by name and message. */
export type WireError =
  | {
      run: true;
      code: RunErrorCode;
      message: string;
      cpuMs: number;
      logs: LogLine[];
      scriptStack: string | null;
      location: string | null;
    }
  | { run: false; name: string; message: string };

export interface WireWaitUntil {
  cpuMs: number;
  wallMs: number;
  logs: LogLine[];
  error: WireError | null;
}

export type ToWorker =
  | { t: "prepare"; id: number; script: WorkerScript }
  | { t: "forget"; scriptId: number }
  | { t: "run"; id: number; scriptId: number; request: HostRequest; streaming: boolean }
  | { t: "scheduled"; id: number; scriptId: number; event: ScheduledEvent }
  | { t: "pull"; id: number }
  | { t: "cancel"; id: number }
  | { t: "kvReply"; id: number; reply: KvCallReply }
  | { t: "cacheReply"; id: number; reply: CacheCallReply }
  | { t: "abort"; id: number }
  | { t: "dispose" };

export type FromWorker =
  | { t: "ready" }
  | { t: "prepared"; id: number; scriptId: number; limits: ScriptLimits }
  | { t: "failed"; id: number; error: WireError }
  | {
      t: "head";
      id: number;
      status: number;
      headers: Array<[string, string]>;
      /** The whole body (run, and runStreaming when known up front), or null when it is pulled chunk by chunk. */
      body: Uint8Array | null;
      /** With runStreaming: the body's byte length when known up front. */
      length?: number | null;
      cpuMs: number;
      wallMs: number;
      startMs: number;
      heapBytes: number;
      logs: LogLine[];
    }
  | { t: "scheduledDone"; id: number; result: ScheduledResult }
  | { t: "chunk"; id: number; chunk: Uint8Array | null }
  | { t: "chunkFailed"; id: number; error: WireError }
  | { t: "waitUntil"; id: number; result: WireWaitUntil }
  | { t: "log"; line: string }
  | { t: "kv"; id: number; call: KvCall }
  | { t: "cache"; id: number; call: CacheCall };
