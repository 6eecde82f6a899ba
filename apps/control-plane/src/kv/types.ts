/** A node's Workers KV replication state, as `GET /v1/nodes` shows it (`kv`). */
export interface KvNodeLag {
  /** Writes the node has not confirmed yet, summed over namespaces. */
  behind: number;
  /** How long the node has been behind (0 when current), in ms. */
  lagMs: number;
}

/** What the API needs of KV replication (`src/kv/replicator.ts`). */
export interface KvChangeListener {
  /** KV data changed (a write, a namespace created or deleted): replicate soon. */
  changed(): void;
  /** The lag of a node this replica streams to, or null. */
  nodeLag?(nodeId: string): KvNodeLag | null;
}
