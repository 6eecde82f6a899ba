import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../config.js";
import { isEdgeError } from "../errors.js";
import { createSecretBox, DEV_SECRETS_KEY, parseSecretsKey } from "./secret-box.js";

const KEY = randomBytes(32);

function openError(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (isEdgeError(error)) return error.code;
    throw error;
  }
  throw new Error("expected the secret not to open");
}

describe("sealing secrets with AES-256-GCM", () => {
  it("opens what it sealed, unicode included, and never shows the plaintext in the sealed form", () => {
    const box = createSecretBox(KEY);
    const sealed = box.seal("app", "TOKEN", "s3cret ✓ 🔑");
    expect(sealed.startsWith("v1:")).toBe(true);
    expect(sealed).not.toContain("s3cret");
    expect(box.open("app", "TOKEN", sealed)).toBe("s3cret ✓ 🔑");
    expect(box.open("app", "EMPTY", box.seal("app", "EMPTY", ""))).toBe("");
  });

  it("seals the same value differently each time (random IV)", () => {
    const box = createSecretBox(KEY);
    expect(box.seal("app", "TOKEN", "same")).not.toBe(box.seal("app", "TOKEN", "same"));
  });

  it("refuses a value moved to another script or name, altered, or opened with another key", () => {
    const box = createSecretBox(KEY);
    const sealed = box.seal("app", "TOKEN", "s3cret");
    expect(openError(() => box.open("other", "TOKEN", sealed))).toBe("EDGE_SECRET_UNREADABLE");
    expect(openError(() => box.open("app", "OTHER", sealed))).toBe("EDGE_SECRET_UNREADABLE");
    const bytes = Buffer.from(sealed.slice(3), "base64");
    bytes[bytes.length - 1]! ^= 1;
    expect(openError(() => box.open("app", "TOKEN", `v1:${bytes.toString("base64")}`))).toBe(
      "EDGE_SECRET_UNREADABLE",
    );
    expect(openError(() => box.open("app", "TOKEN", "s3cret"))).toBe("EDGE_SECRET_UNREADABLE");
    expect(openError(() => createSecretBox(randomBytes(32)).open("app", "TOKEN", sealed))).toBe(
      "EDGE_SECRET_UNREADABLE",
    );
  });
});

describe("EDGE_SECRETS_KEY", () => {
  it("reads 32 bytes written as hex, base64 or base64url, and refuses anything else", () => {
    expect(parseSecretsKey(KEY.toString("hex"))?.equals(KEY)).toBe(true);
    expect(parseSecretsKey(KEY.toString("base64"))?.equals(KEY)).toBe(true);
    expect(parseSecretsKey(KEY.toString("base64url"))?.equals(KEY)).toBe(true);
    expect(parseSecretsKey(randomBytes(16).toString("hex"))).toBeNull();
    expect(parseSecretsKey(randomBytes(31).toString("base64"))).toBeNull();
    expect(parseSecretsKey("not a key at all!")).toBeNull();
  });

  it("is parsed once into the config; a bad one fails start-up naming the variable but not the value", () => {
    const env = { EDGE_ADMIN_TOKEN: "test-admin-token" };
    expect(loadConfig({ ...env, EDGE_SECRETS_KEY: KEY.toString("hex") }).secretsKey?.equals(KEY)).toBe(true);
    expect(loadConfig(env).secretsKey).toBeNull();
    expect(() => loadConfig({ ...env, EDGE_SECRETS_KEY: "too-short-secret" })).toThrow(/EDGE_SECRETS_KEY/);
    expect(() => loadConfig({ ...env, EDGE_SECRETS_KEY: "too-short-secret" })).not.toThrow(
      /too-short-secret/,
    );
  });

  it("falls back to the public development key only with EDGE_DEV=1", () => {
    expect(loadConfig({ EDGE_DEV: "1" }).secretsKey?.equals(DEV_SECRETS_KEY)).toBe(true);
    const own = loadConfig({ EDGE_DEV: "1", EDGE_SECRETS_KEY: KEY.toString("base64") });
    expect(own.secretsKey?.equals(KEY)).toBe(true);
  });
});
