/**
 * What the host asks after each entry into the isolate (the dispatch call, a
 * timer firing, a subrequest completing), once V8's microtask queue has
 * drained: has the fetch handler produced its outcome, and is the script still
 * waiting on host work that will call back in? A handler that has not
 * responded and waits on nothing will never respond (see src/run-slot.ts).
 */
import { pendingHostOperations } from "../host.js";
import { pendingTimers } from "../timers.js";

let responded = false;

/** Marks the fetch handler's outcome as produced (called by dispatch before it returns). */
export function markResponded(): void {
  responded = true;
}

export function runState(): { responded: boolean; pending: number } {
  return { responded, pending: pendingHostOperations() + pendingTimers() };
}
