import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { chmod, mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { writeFileAtomic } from "./atomic-file.js";

/** The node key's file beside the cache when EDGE_NODE_CACHE_KEY is not set. */
export const NODE_KEY_FILE = "node.key";
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * Seals a script's env (its vars and decrypted secrets) for the config cache
 * with AES-256-GCM under the node key, bound to the script's name and version
 * (a sealed env cannot be moved to another script). The key is
 * `EDGE_NODE_CACHE_KEY` or, without it, a random key in `node.key` (0600)
 * created beside the cache on first use.
 */
export class VarsSealer {
  readonly #key: Buffer;

  private constructor(key: Buffer) {
    this.#key = key;
  }

  /** The sealer for a cache directory: the configured key, else the key file (created when missing). */
  static async open(dir: string, configured: Buffer | null): Promise<VarsSealer> {
    if (configured !== null) return new VarsSealer(configured);
    const path = join(dir, NODE_KEY_FILE);
    try {
      const key = Buffer.from((await readFile(path, "utf8")).trim(), "hex");
      if (key.length !== 32) throw new Error(`${NODE_KEY_FILE} does not hold a 256-bit hex key`);
      return new VarsSealer(key);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    }
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await chmod(dir, 0o700);
    const key = randomBytes(32);
    await writeFileAtomic(path, key.toString("hex"));
    return new VarsSealer(key);
  }

  seal(vars: Record<string, string>, owner: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv("aes-256-gcm", this.#key, iv);
    cipher.setAAD(Buffer.from(owner, "utf8"));
    const sealed = Buffer.concat([cipher.update(JSON.stringify(vars), "utf8"), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), sealed]).toString("base64");
  }

  /** Throws when the text was not sealed with this key for this owner (or was altered). */
  open(text: string, owner: string): Record<string, string> {
    const data = Buffer.from(text, "base64");
    if (data.length < IV_BYTES + TAG_BYTES) throw new Error("sealed env is truncated");
    const decipher = createDecipheriv("aes-256-gcm", this.#key, data.subarray(0, IV_BYTES));
    decipher.setAAD(Buffer.from(owner, "utf8"));
    decipher.setAuthTag(data.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    const plain = Buffer.concat([decipher.update(data.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]);
    const vars = JSON.parse(plain.toString("utf8")) as unknown;
    if (typeof vars !== "object" || vars === null || Array.isArray(vars))
      throw new Error("sealed env is not a map");
    const out: Record<string, string> = {};
    for (const [name, value] of Object.entries(vars)) if (typeof value === "string") out[name] = value;
    return out;
  }
}
