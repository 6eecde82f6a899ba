import { EdgeError, isEdgeError } from "../errors.js";
import type { Store } from "../store/types.js";

/**
 * The store as the API sees it: any failure that is not already an `EdgeError`
 * (a closed database, a lost Redis connection, ...) becomes
 * `EDGE_STORE_UNAVAILABLE` (503) carrying the original error as its cause, so
 * it is logged in full and answered without internals.
 */
export function guardStore(store: Store): Store {
  const guarded = {} as Record<keyof Store, unknown>;
  // Not a call that can fail: it reports its own errors to its handlers.
  guarded.watch = store.watch.bind(store);
  for (const key of Object.keys(METHODS) as Array<keyof Store>) {
    if (key === "watch") continue;
    guarded[key] = async (...args: unknown[]) => {
      try {
        return await (store[key] as (...a: unknown[]) => Promise<unknown>).apply(store, args);
      } catch (error) {
        if (isEdgeError(error)) throw error;
        throw new EdgeError("EDGE_STORE_UNAVAILABLE", undefined, { cause: error });
      }
    };
  }
  return guarded as Store;
}

/** Every `Store` method; a `Record` over the keys makes the compiler flag a new one. */
const METHODS: Record<keyof Store, true> = {
  putVersion: true,
  getActive: true,
  getVersion: true,
  getSummary: true,
  listScripts: true,
  listVersions: true,
  setActive: true,
  startRollout: true,
  finishRollout: true,
  deleteScript: true,
  claimCronTick: true,
  snapshot: true,
  changesSince: true,
  revision: true,
  watch: true,
  saveNodeStates: true,
  listNodeStates: true,
  pruneNodeStates: true,
  createEnrolment: true,
  getEnrolment: true,
  listEnrolments: true,
  deleteEnrolment: true,
  ping: true,
  close: true,
  createKvNamespace: true,
  listKvNamespaces: true,
  getKvNamespace: true,
  renameKvNamespace: true,
  deleteKvNamespace: true,
  writeKv: true,
  readKv: true,
  listKv: true,
  kvChangesSince: true,
  purgeExpiredKv: true,
};
