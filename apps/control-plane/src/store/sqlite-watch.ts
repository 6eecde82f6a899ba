import type { ChangeWatch, WatchHandlers } from "./types.js";

/** How often a watch looks at the revision; another process writing the same file is seen this late at most. */
export const SQLITE_WATCH_INTERVAL_MS = 250;

/**
 * The SQLite store's change feed: it polls the revision (one indexed read). A
 * single control plane also learns of its own writes at once, from its API;
 * this is for another process on the same file.
 */
export function pollRevision(
  readRevision: () => number,
  handlers: WatchHandlers,
  intervalMs = SQLITE_WATCH_INTERVAL_MS,
): ChangeWatch {
  let last: number | null = null;
  // The first tick reports "established", like every recovery.
  let failing = true;
  const tick = (): void => {
    let revision: number;
    try {
      revision = readRevision();
    } catch (error) {
      failing = true;
      handlers.onError(error);
      return;
    }
    const moved = last !== null && revision !== last;
    last = revision;
    if (failing) {
      failing = false;
      handlers.onChange();
    } else if (moved) {
      handlers.onChange(revision);
    }
  };
  const first = setTimeout(tick, 0);
  const timer = setInterval(tick, intervalMs);
  timer.unref();
  return {
    close: async () => {
      clearTimeout(first);
      clearInterval(timer);
    },
  };
}
