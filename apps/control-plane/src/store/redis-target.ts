import { Redis, type RedisOptions } from "ioredis";
import { EdgeError } from "../errors.js";

/**
 * Where the Redis store connects, from EDGE_STORE:
 *   redis://[user:pass@]host:port[/db], rediss://…          one Redis server
 *   redis-sentinel://[user:pass@]host:port[,host:port…]/<master>[?db=N&sentinelPassword=…&tls=1]
 *                                                          a Sentinel set: ioredis asks the sentinels
 *                                                          for the elected primary and follows failovers
 * The user and password in a Sentinel URL are the data nodes'; the sentinels' own password, if
 * any, is `sentinelPassword`.
 */
export type RedisTarget = { kind: "url"; url: string } | { kind: "sentinel"; options: RedisOptions };

export function isRedisSpec(spec: string): boolean {
  return /^(rediss?|redis-sentinel):\/\//i.test(spec);
}

export function redisTarget(spec: string): RedisTarget {
  if (!/^redis-sentinel:\/\//i.test(spec)) return { kind: "url", url: spec };
  const rest = spec.slice("redis-sentinel://".length);
  const at = rest.lastIndexOf("@", rest.indexOf("/") === -1 ? rest.length : rest.indexOf("/"));
  const auth = at === -1 ? "" : rest.slice(0, at);
  const afterAuth = at === -1 ? rest : rest.slice(at + 1);
  const slash = afterAuth.indexOf("/");
  const hostList = slash === -1 ? afterAuth : afterAuth.slice(0, slash);
  const path = slash === -1 ? "" : afterAuth.slice(slash + 1);
  const [masterName = "", query = ""] = path.split("?");
  if (masterName === "")
    throw invalid("name the primary after the hosts, as in redis-sentinel://h1:26379,h2:26379/mymaster");
  const sentinels = hostList.split(",").map((entry) => {
    const match = /^\[?([^\]]+?)\]?(?::(\d{1,5}))?$/.exec(entry.trim());
    const port = Number(match?.[2] ?? 26379);
    if (match?.[1] === undefined || !Number.isInteger(port) || port < 1 || port > 65535) {
      throw invalid(`"${entry}" is not a sentinel host:port`);
    }
    return { host: match[1], port };
  });
  const params = new URLSearchParams(query);
  const options: RedisOptions = { sentinels, name: decodeURIComponent(masterName) };
  if (auth !== "") {
    const colon = auth.indexOf(":");
    const user = decodeURIComponent(colon === -1 ? "" : auth.slice(0, colon));
    const password = decodeURIComponent(colon === -1 ? auth : auth.slice(colon + 1));
    if (user !== "") options.username = user;
    if (password !== "") options.password = password;
  }
  const db = params.get("db");
  if (db !== null) {
    if (!/^\d{1,2}$/.test(db)) throw invalid(`db=${db} is not a database number`);
    options.db = Number(db);
  }
  const sentinelPassword = params.get("sentinelPassword");
  if (sentinelPassword !== null) options.sentinelPassword = sentinelPassword;
  if (params.get("tls") === "1") {
    options.tls = {};
    options.sentinelTLS = {};
    options.enableTLSForSentinelMode = true;
  }
  return { kind: "sentinel", options };
}

function invalid(reason: string): EdgeError {
  return new EdgeError("EDGE_INVALID_CONFIG", `EDGE_STORE (redis-sentinel://…) is invalid: ${reason}`);
}

/** A client for EDGE_STORE's Redis (one server or a Sentinel set) with the caller's options. */
export function newRedis(spec: string, options: RedisOptions): Redis {
  const target = redisTarget(spec);
  return target.kind === "url"
    ? new Redis(target.url, options)
    : new Redis({ ...target.options, ...options });
}
