import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";
import { EdgeError } from "../errors.js";

/**
 * Secrets at rest: each value sealed on its own with AES-256-GCM under
 * `EDGE_SECRETS_KEY`, with a fresh random 96-bit IV. The script and secret
 * names are bound in as associated data, so a sealed value copied to another
 * script or name no longer opens. Names stay readable (listings show them);
 * values never leave the control plane except in the push to nodes.
 *
 * Sealed form: `v1:` + base64(iv | tag | ciphertext).
 */

const PREFIX = "v1:";
const IV_BYTES = 12;
const TAG_BYTES = 16;
export const SECRETS_KEY_BYTES = 32;

/**
 * The key `EDGE_DEV=1` uses when `EDGE_SECRETS_KEY` is unset: sha256 of a
 * public string, so anyone can open what it seals. Development only.
 */
export const DEV_SECRETS_KEY: Buffer = createHash("sha256").update("edge-dev-secrets-key").digest();

export interface SecretBox {
  seal(script: string, name: string, plaintext: string): string;
  /** Throws `EDGE_SECRET_UNREADABLE` when the value was not sealed by this key for this script and name. */
  open(script: string, name: string, sealed: string): string;
}

/** Parses `EDGE_SECRETS_KEY`: 32 bytes written as 64 hex digits or as base64. Null if it is neither. */
export function parseSecretsKey(text: string): Buffer | null {
  const value = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(value)) return Buffer.from(value, "hex");
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(value)) return null;
  const bytes = Buffer.from(value, value.includes("-") || value.includes("_") ? "base64url" : "base64");
  return bytes.length === SECRETS_KEY_BYTES ? bytes : null;
}

function associatedData(script: string, name: string): Buffer {
  return Buffer.from(`edge-secret\0${script}\0${name}`, "utf8");
}

export function createSecretBox(key: Buffer): SecretBox {
  if (key.length !== SECRETS_KEY_BYTES) {
    throw new EdgeError("EDGE_INVALID_CONFIG", `A secrets key must be ${SECRETS_KEY_BYTES} bytes`);
  }
  // A private copy: the caller's buffer may be reused or zeroed.
  const secretKey = Buffer.from(key);
  return {
    seal(script, name, plaintext) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv("aes-256-gcm", secretKey, iv, { authTagLength: TAG_BYTES });
      cipher.setAAD(associatedData(script, name));
      const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
      return PREFIX + Buffer.concat([iv, cipher.getAuthTag(), body]).toString("base64");
    },
    open(script, name, sealed) {
      const raw = sealed.startsWith(PREFIX) ? Buffer.from(sealed.slice(PREFIX.length), "base64") : null;
      if (raw === null || raw.length < IV_BYTES + TAG_BYTES) throw unreadable(script, name, "malformed");
      try {
        const decipher = createDecipheriv("aes-256-gcm", secretKey, raw.subarray(0, IV_BYTES), {
          authTagLength: TAG_BYTES,
        });
        decipher.setAAD(associatedData(script, name));
        decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
        const body = raw.subarray(IV_BYTES + TAG_BYTES);
        return Buffer.concat([decipher.update(body), decipher.final()]).toString("utf8");
      } catch (cause) {
        throw unreadable(script, name, "not sealed with this EDGE_SECRETS_KEY, or altered", cause);
      }
    },
  };
}

function unreadable(script: string, name: string, why: string, cause?: unknown): EdgeError {
  return new EdgeError("EDGE_SECRET_UNREADABLE", `Secret ${name} of ${script} cannot be opened: ${why}`, {
    cause,
  });
}
