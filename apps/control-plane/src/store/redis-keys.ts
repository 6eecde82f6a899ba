/**
 * Where the Redis store keeps things, under one prefix (default `edge:`):
 *
 *   <p>revision             string  store-wide change counter (INCR on every mutation)
 *   <p>scripts              set     names of live scripts
 *   <p>script:<name>        hash    active, latest, createdAt, updatedAt; after a delete only
 *                                   `latest` stays, so version numbers are never reused
 *   <p>versions:<name>      zset    version numbers of the script (score = member = version)
 *   <p>version:<name>:<v>   hash    sha256, source, vars (JSON), limits (JSON), createdAt
 *
 * Reserved for a later change feed: `<p>changes`, a Stream. Each mutation's Lua
 * script would XADD { revision, op, name, version } to it in the same atomic
 * step (so stream order is revision order), and every control-plane replica
 * would XREAD BLOCK it to learn about writes made by the others.
 *
 * Script names are [a-z0-9-] (the API validates them) and version numbers are
 * integers, so `:` never makes two keys collide. The Lua scripts build version
 * keys from `versionPrefix`, so this layout targets a single Redis (or a
 * primary with replicas), not Redis Cluster.
 */
export interface RedisKeys {
  revision: string;
  scripts: string;
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
    script: (name) => `${prefix}script:${name}`,
    versions: (name) => `${prefix}versions:${name}`,
    versionPrefix: (name) => `${prefix}version:${name}:`,
    version: (name, version) => `${prefix}version:${name}:${version}`,
    scriptPrefix: `${prefix}script:`,
    versionRoot: `${prefix}version:`,
  };
}
