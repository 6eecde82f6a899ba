/**
 * Where the Redis store keeps things, under one prefix (default `edge:`):
 *
 *   <p>revision             string  store-wide change counter (INCR on every mutation)
 *   <p>scripts              set     names of live scripts
 *   <p>script:<name>        hash    active, latest, createdAt, updatedAt, and while a gradual
 *                                   rollout runs rolloutVersion, rolloutPercent | rolloutPops
 *                                   (JSON), rolloutStartedAt; after a delete only `latest`
 *                                   stays, so version numbers are never reused
 *   <p>versions:<name>      zset    version numbers of the script (score = member = version)
 *   <p>version:<name>:<v>   hash    sha256, source, vars (JSON), limits (JSON), createdAt,
 *                                   secrets (JSON, values sealed), tsSource (TypeScript deploys only)
 *   <p>changes              stream  the change feed: each mutation's Lua script XADDs
 *                                   { rev, op, name, version } in the same atomic step (so
 *                                   stream order is revision order); every replica XREADs it
 *                                   (BLOCK) to learn of writes made by the others. Capped
 *                                   (~10 000 entries): a reader only needs "something changed".
 *   <p>nodes                hash    node id -> JSON node state, as the replica serving it saw it
 *   <p>enrolments           hash    node id -> JSON enrolment (pop, token sha256, createdAt)
 *   <p>cron:<name>:<tick>:<cron>  string  a claimed Cron Trigger tick (owner; PX expiry), see redis-cron.ts
 *
 * Script names are [a-z0-9-] (the API validates them) and version numbers are
 * integers, so `:` never makes two keys collide. The Lua scripts build version
 * keys from `versionPrefix`, so this layout targets a single Redis (or a
 * primary with replicas), not Redis Cluster.
 */
export interface RedisKeys {
  revision: string;
  scripts: string;
  changes: string;
  nodes: string;
  enrolments: string;
  script(name: string): string;
  versions(name: string): string;
  /** Prefix of a script's version hashes; the version number is appended. */
  versionPrefix(name: string): string;
  version(name: string, version: number | string): string;
  /** What the snapshot script prepends to a name to find its hash. */
  scriptPrefix: string;
  /** What the snapshot script prepends to `<name>:<v>` to find a version hash. */
  versionRoot: string;
}

export function redisKeys(prefix: string): RedisKeys {
  return {
    revision: `${prefix}revision`,
    scripts: `${prefix}scripts`,
    changes: `${prefix}changes`,
    nodes: `${prefix}nodes`,
    enrolments: `${prefix}enrolments`,
    script: (name) => `${prefix}script:${name}`,
    versions: (name) => `${prefix}versions:${name}`,
    versionPrefix: (name) => `${prefix}version:${name}:`,
    version: (name, version) => `${prefix}version:${name}:${version}`,
    scriptPrefix: `${prefix}script:`,
    versionRoot: `${prefix}version:`,
  };
}
