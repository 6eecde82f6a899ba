import type { HostRequest, IsolateRunner, RunResult, ScriptLimits, WorkerScript } from "../src/index.js";

let version = 0;

export const TEST_LIMITS: ScriptLimits = { cpuMs: 50, memoryMb: 64, wallMs: 5_000 };

/** A WorkerScript with a fresh version number, so each test prepares its own. */
export function workerScript(source: string, overrides: Partial<WorkerScript> = {}): WorkerScript {
  version += 1;
  return { name: "test-script", version, source, vars: {}, limits: TEST_LIMITS, ...overrides };
}

export function hostRequest(overrides: Partial<HostRequest> = {}): HostRequest {
  return { method: "GET", url: "https://example.com/path?x=1", headers: [], body: null, ...overrides };
}

/** Prepares `source` and runs one request through it. */
export async function runSource(
  runner: IsolateRunner,
  source: string,
  request: Partial<HostRequest> = {},
  script: Partial<WorkerScript> = {},
): Promise<RunResult> {
  const prepared = await runner.prepare(workerScript(source, script));
  return runner.run(prepared, hostRequest(request));
}

export function bodyText(result: RunResult): string {
  return new TextDecoder().decode(result.response.body);
}

export function header(result: RunResult, name: string): string | undefined {
  return result.response.headers.find(([key]) => key === name)?.[1];
}

/** Catches the rejection of a run so a test can assert on its RunError. */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error("expected the promise to reject");
}
