import { Worker } from "node:worker_threads";

/**
 * The quick acceptance test for a single-module JavaScript deploy, run before
 * esbuild: V8 itself parses the source as an ES module (`vm.SourceTextModule`,
 * in a worker thread started with `--experimental-vm-modules`) and links it
 * without evaluating anything. A module that parses, imports nothing
 * statically and has a default export is accepted as is; anything else —
 * a syntax error, an import, CommonJS, no default export, or no worker —
 * answers `false` and goes to esbuild, which decides and words the error
 * exactly as before. V8 is at least as strict as esbuild's parser (where they
 * differ, V8 refuses what esbuild accepts, e.g. decorators), so the quick path
 * never accepts a script esbuild would refuse. It costs tens of microseconds a
 * deploy where an esbuild `build()` costs about a millisecond of CPU across
 * the two processes.
 */
export interface ModuleCheck {
  /** True when `source` is certainly a valid module with a default export and no static imports. */
  accepts(source: string): Promise<boolean>;
  /** Ends the worker; later checks answer false. */
  close(): Promise<void>;
}

/**
 * Runs in the worker (CommonJS, evaluated from this string): parses, never
 * evaluates. `link` calls no linker for a module without requests.
 */
const WORKER_SOURCE = `
const { SourceTextModule } = require("node:vm");
const { parentPort } = require("node:worker_threads");
const noImports = () => { throw new Error("no imports"); };
async function accepts(source) {
  let module;
  try {
    module = new SourceTextModule(source);
  } catch {
    return false;
  }
  if (module.moduleRequests.length > 0) return false;
  await module.link(noImports);
  return Reflect.ownKeys(module.namespace).includes("default");
}
parentPort.on("message", async (batch) => {
  const verdicts = await Promise.all(batch.map(({ source }) => accepts(source).catch(() => false)));
  parentPort.postMessage(batch.map(({ id }, i) => ({ id, ok: verdicts[i] })));
});
`;

const WORKER_FLAGS = ["--experimental-vm-modules", "--disable-warning=ExperimentalWarning"];

/**
 * A `ModuleCheck` whose worker starts on the first check and again after a
 * crash (reported to `onCrash`; the checks it held go to esbuild).
 */
export function createModuleCheck(onCrash: (error: Error) => void): ModuleCheck {
  let worker: Worker | null = null;
  let closed = false;
  let nextId = 0;
  const pending = new Map<number, (ok: boolean) => void>();

  const settleAll = (): void => {
    for (const resolve of pending.values()) resolve(false);
    pending.clear();
  };

  const start = (): Worker => {
    const started = new Worker(WORKER_SOURCE, { eval: true, execArgv: WORKER_FLAGS });
    // Never what keeps the process alive.
    started.unref();
    started.on("message", (verdicts: { id: number; ok: boolean }[]) => {
      for (const { id, ok } of verdicts) {
        pending.get(id)?.(ok);
        pending.delete(id);
      }
    });
    const gone = (): void => {
      if (worker === started) worker = null;
      settleAll();
    };
    started.on("error", (error) => {
      onCrash(error);
      gone();
    });
    started.on("exit", gone);
    return started;
  };

  // Checks asked for in the same turn of the event loop travel as one message: under load a
  // message per deploy costs more than the parse.
  let outbox: { id: number; source: string }[] = [];
  const send = (): void => {
    const batch = outbox;
    outbox = [];
    if (closed) return;
    worker ??= start();
    worker.postMessage(batch);
  };

  return {
    accepts(source) {
      if (closed) return Promise.resolve(false);
      const id = nextId++;
      return new Promise((resolve) => {
        pending.set(id, resolve);
        if (outbox.length === 0) setImmediate(send);
        outbox.push({ id, source });
      });
    },
    async close() {
      closed = true;
      const current = worker;
      worker = null;
      settleAll();
      if (current !== null) await current.terminate();
    },
  };
}
