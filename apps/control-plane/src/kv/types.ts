/** Told that KV data changed (a write, a namespace created or deleted), so nodes get it soon. */
export interface KvChangeListener {
  changed(): void;
}
