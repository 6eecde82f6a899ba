import { createHash } from "node:crypto";
import { chmod, mkdir, readdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import type { Script, ScriptModule } from "@edge/protocol";
import type { Logger } from "pino";
import { z } from "zod";
import { syncDirectory, writeFileAtomic } from "./atomic-file.js";
import { VarsSealer } from "./sealed-vars.js";

/** What a node persists: the config it last applied, and the releases it refuses. */
export interface CachedConfig {
  configVersion: number;
  /** Every script resource as applied (a canary rides inside its script). */
  scripts: Script[];
  /** name -> release key the node rejected (sent in hello so no replica resends it). */
  rejected: Record<string, string>;
}

/** 2: env sealed with the node key (1, plaintext env, is still read and rewritten sealed). */
const FORMAT = 2;
const MANIFEST = "manifest.json";
const BLOBS = "sources";
/** Cached scripts read from disk at once while loading. */
const LOAD_CONCURRENCY = 64;
/**
 * Sources written (and fsynced) at once while saving. Concurrent fsyncs share
 * the file system's journal commits: a first sync of thousands of scripts
 * costs a few commits per batch, not two per source.
 */
const WRITE_CONCURRENCY = 32;

const limits = z.object({ cpuMs: z.number(), memoryMb: z.number(), wallMs: z.number() });
const HEX64 = /^[0-9a-f]{64}$/;
const versionEntry = z.object({
  version: z.number().int().positive(),
  /** As the control plane sent it. */
  sha256: z.string(),
  /** The sha256 of the source as this cache stored it: its file name under `sources/`. */
  blob: z.string().regex(HEX64),
  /** Format 1 only: the env in plaintext. */
  vars: z.record(z.string(), z.string()).optional(),
  /** The env (vars and secrets), sealed by VarsSealer for `name@version`. */
  sealedVars: z.string().optional(),
  limits,
  createdAtMs: z.number(),
  /** Multi-module versions: the main module's name and the other modules, each stored as a blob. */
  mainModule: z.string().optional(),
  modules: z
    .array(z.object({ name: z.string(), type: z.string(), blob: z.string().regex(HEX64) }))
    .optional(),
  /** Workers KV bindings (env name -> namespace id); absent in caches written before KV. */
  kvBindings: z.record(z.string(), z.string()).optional(),
});
const manifestSchema = z.object({
  format: z.union([z.literal(1), z.literal(FORMAT)]),
  savedAtMs: z.number(),
  configVersion: z.number().int().nonnegative(),
  scripts: z.array(
    versionEntry.extend({
      name: z.string().min(1),
      canary: versionEntry.extend({ percent: z.number().int().min(0).max(100) }).nullable(),
    }),
  ),
  rejected: z.record(z.string(), z.string()),
});
type Manifest = z.infer<typeof manifestSchema>;

/**
 * The node's last applied config on local disk, so a node restarted while
 * the control plane is unreachable serves at once (static stability).
 *
 * Layout in the cache directory: `sources/<sha256 of the source>` holds each
 * source once (content-addressed, so versions sharing a source share a file), and
 * `manifest.json` lists the scripts with their settings, the config version
 * and a checksum. Every file is written atomically (temp + fsync + rename +
 * directory fsync) and sources before the manifest naming them, so a crash
 * at any point leaves the previous complete config or the new one. Loading
 * checks the manifest's checksum and every source's sha256: a damaged entry
 * is dropped, the rest is served.
 *
 * Secrets at rest: each script's env (its vars and decrypted secrets) is
 * sealed with the node key (sealed-vars.ts), so the manifest holds no
 * plaintext secret; the directories are 0700 and every file 0600.
 */
export class ConfigCache {
  readonly #dir: string;
  readonly #log: Logger;
  #writing: Promise<void> = Promise.resolve();
  #next: CachedConfig | null = null;
  #lastError: unknown = null;
  /** Sources hashed already (a version is immutable): name@version:sha256 -> blob name. */
  readonly #blobs = new Map<string, string>();
  readonly #configuredKey: Buffer | null;
  #sealer: Promise<VarsSealer> | null = null;

  /** `key`: the node key (EDGE_NODE_CACHE_KEY); null keeps a random one in `node.key` beside the cache. */
  constructor(dir: string, logger: Logger, key: Buffer | null = null) {
    this.#dir = dir;
    this.#log = logger.child({ component: "config-cache", dir });
    this.#configuredKey = key;
  }

  #openSealer(): Promise<VarsSealer> {
    this.#sealer ??= VarsSealer.open(this.#dir, this.#configuredKey).catch((error: unknown) => {
      this.#sealer = null;
      throw error;
    });
    return this.#sealer;
  }

  /** Whether the last save failed (a failing health check). */
  get failing(): boolean {
    return this.#lastError !== null;
  }

  /** The cached config, or null if there is none (or it cannot be read). */
  async load(): Promise<CachedConfig | null> {
    let manifest: Manifest;
    try {
      const text = await readFile(join(this.#dir, MANIFEST), "utf8");
      manifest = parseManifest(text);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") {
        this.#log.error({ err: error }, "the config cache is unreadable; starting without it");
      }
      return null;
    }
    let sealer: VarsSealer;
    try {
      sealer = await this.#openSealer();
    } catch (error) {
      this.#log.error(
        { err: error },
        "the config cache's node key is unreadable; starting without the cache",
      );
      return null;
    }
    // Read several at once (a node may hold thousands), kept in manifest order.
    const read = async (entry: (typeof manifest.scripts)[number]): Promise<Script | null> => {
      try {
        const canary =
          entry.canary === null
            ? undefined
            : {
                script: await this.#readScript(entry.name, entry.canary, sealer),
                percent: entry.canary.percent,
              };
        return { ...(await this.#readScript(entry.name, entry, sealer)), canary };
      } catch (error) {
        this.#log.error({ err: error, script: entry.name }, "a cached script is damaged; dropped");
        return null;
      }
    };
    const scripts: Script[] = [];
    for (let start = 0; start < manifest.scripts.length; start += LOAD_CONCURRENCY) {
      const batch = manifest.scripts.slice(start, start + LOAD_CONCURRENCY);
      for (const script of await Promise.all(batch.map(read))) if (script !== null) scripts.push(script);
    }
    return { configVersion: manifest.configVersion, scripts, rejected: manifest.rejected };
  }

  /**
   * Persists `config` after any save in progress. Saves requested meanwhile
   * collapse into the latest one. Resolves once it is on disk; never rejects
   * (a failure is logged and shows in `failing`).
   */
  save(config: CachedConfig): Promise<void> {
    const first = this.#next === null;
    this.#next = config;
    if (!first) return this.#writing;
    this.#writing = this.#writing.then(async () => {
      const latest = this.#next;
      this.#next = null;
      if (latest === null) return;
      try {
        await this.#write(latest);
        if (this.#lastError !== null) this.#log.info("config cache writable again");
        this.#lastError = null;
      } catch (error) {
        if (this.#lastError === null) this.#log.error({ err: error }, "cannot write the config cache");
        this.#lastError = error;
      }
    });
    return this.#writing;
  }

  /** Waits for pending saves. */
  async flush(): Promise<void> {
    await this.#writing;
  }

  async #write(config: CachedConfig): Promise<void> {
    const sealer = await this.#openSealer();
    const blobs = join(this.#dir, BLOBS);
    await mkdir(blobs, { recursive: true, mode: 0o700 });
    await chmod(this.#dir, 0o700);
    await chmod(blobs, 0o700);
    const present = new Set(await readdir(blobs));
    const wanted = new Set<string>();
    const missing = new Map<string, string | Uint8Array>();
    const want = (blob: string, data: string | Uint8Array): void => {
      wanted.add(blob);
      if (!present.has(blob)) missing.set(blob, data);
    };
    const wantSource = (script: Script): void => {
      want(this.#blobOf(script), script.source);
      for (const module of script.modules ?? []) want(bytesHash(module.content), module.content);
    };
    for (const script of config.scripts) {
      wantSource(script);
      if (script.canary?.script) wantSource(script.canary.script);
    }
    // Every source is on disk, renamed into place, before the manifest names it.
    await writeBlobs(blobs, missing);
    const body: Omit<Manifest, "format"> & { format: typeof FORMAT } = {
      format: FORMAT,
      savedAtMs: Date.now(),
      configVersion: config.configVersion,
      scripts: config.scripts.map((script) => ({
        ...this.#entryOf(script, sealer),
        name: script.name,
        canary:
          script.canary?.script === undefined
            ? null
            : { ...this.#entryOf(script.canary.script, sealer), percent: script.canary.percent },
      })),
      rejected: config.rejected,
    };
    const json = JSON.stringify(body);
    await writeFileAtomic(join(this.#dir, MANIFEST), JSON.stringify({ checksum: sha256(json), body: json }));
    // Sources nothing names any more; best effort, the next save retries.
    for (const name of present) {
      if (!wanted.has(name) && HEX64.test(name)) await rm(join(blobs, name), { force: true });
    }
    for (const [id, blob] of this.#blobs) if (!wanted.has(blob)) this.#blobs.delete(id);
  }

  #blobOf(script: Script): string {
    const id = `${script.name}@${script.version}:${script.sha256}`;
    let blob = this.#blobs.get(id);
    if (blob === undefined) {
      blob = sha256(script.source);
      this.#blobs.set(id, blob);
    }
    return blob;
  }

  #entryOf(script: Script, sealer: VarsSealer): z.infer<typeof versionEntry> {
    return {
      version: script.version,
      sha256: script.sha256,
      blob: this.#blobOf(script),
      sealedVars: sealer.seal({ ...script.vars }, ownerOf(script.name, script.version)),
      limits: script.limits ?? { cpuMs: 0, memoryMb: 0, wallMs: 0 },
      createdAtMs: script.createdAtMs,
      ...((script.modules?.length ?? 0) > 0 || (script.mainModule ?? "") !== ""
        ? {
            mainModule: script.mainModule,
            modules: script.modules.map((m) => ({ name: m.name, type: m.type, blob: bytesHash(m.content) })),
          }
        : {}),
      kvBindings: { ...script.kvBindings },
    };
  }

  async #readScript(name: string, entry: z.infer<typeof versionEntry>, sealer: VarsSealer): Promise<Script> {
    const modules: ScriptModule[] = [];
    for (const module of entry.modules ?? []) {
      const content = await readFile(join(this.#dir, BLOBS, module.blob));
      if (bytesHash(content) !== module.blob)
        throw new Error(`module ${module.blob} does not match its hash`);
      modules.push({ name: module.name, type: module.type, content });
    }
    return toScript(name, entry, await this.#readSource(entry.blob), envOf(sealer, name, entry), modules);
  }

  async #readSource(blob: string): Promise<string> {
    const source = await readFile(join(this.#dir, BLOBS, blob), "utf8");
    if (sha256(source) !== blob) throw new Error(`source ${blob} does not match its hash`);
    return source;
  }
}

/**
 * Writes each blob atomically, `WRITE_CONCURRENCY` at once, then syncs their
 * directory once. The first failure stops the rest and is thrown once every
 * write in flight has settled.
 */
async function writeBlobs(dir: string, blobs: Map<string, string | Uint8Array>): Promise<void> {
  const queue = [...blobs];
  const writer = async (): Promise<void> => {
    for (let next = queue.pop(); next !== undefined; next = queue.pop()) {
      const [blob, data] = next;
      try {
        await writeFileAtomic(join(dir, blob), typeof data === "string" ? data : Buffer.from(data), {
          syncDir: false,
        });
      } catch (error) {
        queue.length = 0;
        throw error;
      }
    }
  };
  const writers = Array.from({ length: Math.min(WRITE_CONCURRENCY, queue.length) }, writer);
  const failed = (await Promise.allSettled(writers)).find((r) => r.status === "rejected");
  if (failed !== undefined) throw failed.reason;
  if (blobs.size > 0) await syncDirectory(dir);
}

function parseManifest(text: string): Manifest {
  const outer = z.object({ checksum: z.string(), body: z.string() }).parse(JSON.parse(text));
  if (sha256(outer.body) !== outer.checksum) throw new Error("the cache manifest fails its checksum");
  return manifestSchema.parse(JSON.parse(outer.body));
}

function ownerOf(name: string, version: number): string {
  return `${name}@${version}`;
}

/** A cached entry's env: sealed (format 2), or plaintext from a format-1 cache. */
function envOf(
  sealer: VarsSealer,
  name: string,
  entry: z.infer<typeof versionEntry>,
): Record<string, string> {
  if (entry.sealedVars !== undefined) return sealer.open(entry.sealedVars, ownerOf(name, entry.version));
  if (entry.vars !== undefined) return entry.vars;
  throw new Error("the cached entry has no env");
}

function toScript(
  name: string,
  entry: z.infer<typeof versionEntry>,
  source: string,
  vars: Record<string, string>,
  modules: ScriptModule[],
): Script {
  return {
    name,
    version: entry.version,
    sha256: entry.sha256,
    source,
    vars,
    limits: entry.limits,
    createdAtMs: entry.createdAtMs,
    canary: undefined,
    mainModule: entry.mainModule ?? "",
    modules,
    kvBindings: entry.kvBindings ?? {},
  };
}

function bytesHash(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

function sha256(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}
