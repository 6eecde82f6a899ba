import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import type { Command, CommandContext } from "../command.js";
import { EXIT, usage } from "../errors.js";
import { ago, json, table } from "../format.js";

interface NamespaceView {
  name: string;
  id: string;
  createdAt: string;
  version: number;
}

interface KeyList {
  keys: Array<{ name: string; expiration?: number; metadata?: unknown }>;
  list_complete: boolean;
  cursor?: string;
}

const USAGE = [
  "kv namespace list",
  "kv namespace create <name>",
  "kv namespace rename <name> <new-name>",
  "kv namespace delete <name>",
  "kv key list <namespace> [--prefix p] [--limit n] [--cursor c]",
  "kv key get <namespace> <key>",
  "kv key put <namespace> <key> (<value> | --path <file>) [--ttl s | --expiration t] [--metadata json]",
  "kv key delete <namespace> <key>",
  "kv bulk put <namespace> <file.json>     [{ key, value, base64?, expiration?, expiration_ttl?, metadata? }]",
  'kv bulk delete <namespace> <file.json>  ["key", ...]',
];

const path = (ns: string, rest = "") => `/v1/kv/namespaces/${encodeURIComponent(ns)}${rest}`;
const valuePath = (ns: string, key: string) => path(ns, `/values/${encodeURIComponent(key)}`);

function args(ctx: CommandContext, count: number): string[] {
  const rest = ctx.positionals.slice(2);
  if (rest.length !== count) throw usage(`usage: edgectl ${USAGE.join("\n       edgectl ")}`);
  return rest;
}

async function namespaces(ctx: CommandContext, action: string): Promise<number> {
  const api = ctx.api();
  switch (action) {
    case "list": {
      args(ctx, 0);
      const { namespaces } = await api.json<{ namespaces: NamespaceView[] }>("GET", "/v1/kv/namespaces");
      if (ctx.json) ctx.io.out(json(namespaces));
      else if (namespaces.length === 0) ctx.io.out("no KV namespaces\n");
      else
        ctx.io.out(
          table(
            ["NAME", "ID", "VERSION", "CREATED"],
            namespaces.map((n) => [n.name, n.id, n.version, ago(n.createdAt)]),
          ),
        );
      return EXIT.OK;
    }
    case "create": {
      const [name] = args(ctx, 1) as [string];
      const ns = await api.json<NamespaceView>("POST", "/v1/kv/namespaces", { body: { name } });
      ctx.io.out(ctx.json ? json(ns) : `created KV namespace ${ns.name} (${ns.id})\n`);
      return EXIT.OK;
    }
    case "rename": {
      const [name, newName] = args(ctx, 2) as [string, string];
      const ns = await api.json<NamespaceView>("PATCH", path(name), { body: { name: newName } });
      ctx.io.out(ctx.json ? json(ns) : `renamed KV namespace ${name} to ${ns.name}\n`);
      return EXIT.OK;
    }
    case "delete": {
      const [name] = args(ctx, 1) as [string];
      await api.json("DELETE", path(name));
      ctx.io.out(ctx.json ? json({ deleted: name }) : `deleted KV namespace ${name}\n`);
      return EXIT.OK;
    }
    default:
      throw usage(`unknown kv namespace action ${JSON.stringify(action)}`);
  }
}

async function keys(ctx: CommandContext, action: string): Promise<number> {
  const api = ctx.api();
  switch (action) {
    case "list": {
      const [ns] = args(ctx, 1) as [string];
      const query = {
        prefix: ctx.values.prefix as string | undefined,
        limit: ctx.values.limit as string | undefined,
        cursor: ctx.values.cursor as string | undefined,
      };
      const page = await api.json<KeyList>("GET", path(ns, "/keys"), { query });
      if (ctx.json) ctx.io.out(json(page));
      else {
        ctx.io.out(
          table(
            ["KEY", "EXPIRES", "METADATA"],
            page.keys.map((k) => [
              k.name,
              k.expiration === undefined ? "" : new Date(k.expiration * 1000).toISOString(),
              k.metadata === undefined ? "" : JSON.stringify(k.metadata),
            ]),
          ),
        );
        if (!page.list_complete) ctx.io.out(`more: --cursor ${page.cursor}\n`);
      }
      return EXIT.OK;
    }
    case "get": {
      const [ns, key] = args(ctx, 2) as [string, string];
      const res = await api.bytes("GET", valuePath(ns, key));
      const bytes = new Uint8Array(await res.arrayBuffer());
      if (ctx.json) {
        const metadata = res.headers.get("x-edge-kv-metadata");
        const expiration = res.headers.get("x-edge-kv-expiration");
        ctx.io.out(
          json({
            key,
            value: new TextDecoder().decode(bytes),
            metadata: metadata === null ? null : JSON.parse(metadata),
            expiration: expiration === null ? null : Number(expiration),
          }),
        );
      } else ctx.io.out(new TextDecoder().decode(bytes));
      return EXIT.OK;
    }
    case "put": {
      const file = ctx.values.path as string | undefined;
      const rest = args(ctx, file === undefined ? 3 : 2);
      const [ns, key, text] = rest as [string, string, string | undefined];
      const raw =
        file === undefined ? new TextEncoder().encode(text) : await readFile(resolve(ctx.io.cwd, file));
      const metadata = ctx.values.metadata as string | undefined;
      const result = await api.json<{ version: number }>("PUT", valuePath(ns, key), {
        raw: new Uint8Array(raw),
        query: {
          expiration_ttl: ctx.values.ttl as string | undefined,
          expiration: ctx.values.expiration as string | undefined,
        },
        ...(metadata !== undefined ? { headers: { "x-edge-kv-metadata": metadata } } : {}),
      });
      ctx.io.out(ctx.json ? json(result) : `stored ${key} in ${ns}\n`);
      return EXIT.OK;
    }
    case "delete": {
      const [ns, key] = args(ctx, 2) as [string, string];
      await api.json("DELETE", valuePath(ns, key));
      ctx.io.out(ctx.json ? json({ deleted: key }) : `deleted ${key} from ${ns}\n`);
      return EXIT.OK;
    }
    default:
      throw usage(`unknown kv key action ${JSON.stringify(action)}`);
  }
}

async function bulk(ctx: CommandContext, action: string): Promise<number> {
  const [ns, file] = args(ctx, 2) as [string, string];
  let body: unknown;
  try {
    body = JSON.parse(await readFile(resolve(ctx.io.cwd, file), "utf8"));
  } catch (error) {
    throw usage(`cannot read ${file} as JSON: ${(error as Error).message}`);
  }
  if (action === "put") {
    const result = await ctx.api().json<{ written: number }>("PUT", path(ns, "/bulk"), { body });
    ctx.io.out(ctx.json ? json(result) : `wrote ${result.written} keys to ${ns}\n`);
    return EXIT.OK;
  }
  if (action === "delete") {
    const result = await ctx.api().json<{ deleted: number }>("POST", path(ns, "/bulk/delete"), { body });
    ctx.io.out(ctx.json ? json(result) : `deleted ${result.deleted} keys from ${ns}\n`);
    return EXIT.OK;
  }
  throw usage(`unknown kv bulk action ${JSON.stringify(action)}`);
}

export const kvCommand: Command = {
  name: "kv",
  summary: "Workers KV: namespaces, keys and values, bulk writes",
  usage: "kv <namespace|key|bulk> <action> ...",
  help: [
    ...USAGE.map((line) => `  edgectl ${line}`),
    "",
    "A script binds a namespace in its deploy envelope:",
    '  { "source": "...", "bindings": { "MY_KV": { "type": "kv", "namespace": "<name>" } } }',
  ],
  positionals: ["group", "action"],
  variadic: true,
  options: {
    prefix: { type: "string" },
    limit: { type: "string" },
    cursor: { type: "string" },
    path: { type: "string" },
    ttl: { type: "string" },
    expiration: { type: "string" },
    metadata: { type: "string" },
  },
  async run(ctx) {
    const [group, action] = ctx.positionals as [string, string];
    if (group === "namespace" || group === "namespaces") return namespaces(ctx, action);
    if (group === "key" || group === "keys") return keys(ctx, action);
    if (group === "bulk") return bulk(ctx, action);
    throw usage(`unknown kv group ${JSON.stringify(group)}: namespace, key or bulk`);
  },
};
