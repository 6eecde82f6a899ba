import type { Database } from "better-sqlite3";

/**
 * Group commit for one kind of SQLite write. Every commit fsyncs the WAL
 * (`synchronous = FULL`), and better-sqlite3 does that on the event loop: a
 * burst of deploys, one transaction each, spends most of its time waiting for
 * the disk. Calls made in the same turn of the event loop are queued and run
 * together in one IMMEDIATE transaction, each in a savepoint of its own (a
 * better-sqlite3 transaction function called inside another one), so one
 * call's failure (a conflict) undoes only that call. Each promise settles
 * after the shared commit: resolved means fsynced, as before; a failed commit
 * fails every call in it. `run` maps errors as every other store call does.
 */
export function groupCommit<A extends unknown[], T>(
  db: Database,
  write: (...args: A) => T,
  run: <R>(fn: () => R) => Promise<R>,
): (...args: A) => Promise<T> {
  type Call = { args: A; resolve: (value: T | Promise<T>) => void; reject: (error: unknown) => void };
  type Outcome = { ok: true; value: T } | { ok: false; error: unknown };
  let queue: Call[] = [];

  const writeAll = db.transaction((calls: Call[]): Outcome[] =>
    calls.map(({ args }): Outcome => {
      try {
        return { ok: true, value: write(...args) };
      } catch (error) {
        return { ok: false, error };
      }
    }),
  );

  const flush = (): void => {
    const calls = queue;
    queue = [];
    run(() => writeAll.immediate(calls)).then(
      (outcomes) =>
        outcomes.forEach((outcome, i) => {
          calls[i]?.resolve(
            run(() => {
              if (!outcome.ok) throw outcome.error;
              return outcome.value;
            }),
          );
        }),
      (error: unknown) => {
        for (const call of calls) call.reject(error);
      },
    );
  };

  return (...args) =>
    new Promise<T>((resolve, reject) => {
      if (queue.length === 0) setImmediate(flush);
      queue.push({ args, resolve, reject });
    });
}
