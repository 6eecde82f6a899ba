import { describe, expect, it } from "vitest";
import { expensiveCryptoRunning } from "./crypto-slots.js";
import { CryptoHost } from "./crypto-subtle.js";

type Answer = { ok: boolean; value: unknown };

/** A CryptoHost with its completions collected, as the isolate would receive them. */
function host() {
  const answers = new Map<number, Answer>();
  let charged = 0;
  const waiters = new Map<number, (answer: Answer) => void>();
  const crypto = new CryptoHost({
    charge: (ms) => {
      charged += ms;
    },
    complete: (id, ok, value) => {
      answers.set(id, { ok, value });
      waiters.get(id)?.({ ok, value });
    },
  });
  let nextId = 1;
  const call = (method: string, args: unknown[]): Promise<Answer> => {
    const id = nextId++;
    return new Promise((resolve) => {
      waiters.set(id, resolve);
      crypto.start(id, { method, args });
      const done = answers.get(id);
      if (done !== undefined) resolve(done);
    });
  };
  return {
    crypto,
    call,
    answers,
    charged: () => charged,
    start: (id: number, request: unknown) => crypto.start(id, request),
  };
}

const AES = [{ name: "AES-GCM", length: 128 }, true, ["encrypt", "decrypt"]];

describe("CryptoHost (host side of SubtleCrypto)", () => {
  it("answers with a numbered key description, never a key object, and charges the script", async () => {
    const h = host();
    const { ok, value } = await h.call("generateKey", AES);
    expect(ok).toBe(true);
    expect(value).toEqual({
      key: {
        handle: 1,
        type: "secret",
        extractable: true,
        algorithm: { name: "AES-GCM", length: 128 },
        usages: ["encrypt", "decrypt"],
      },
    });
    const exported = await h.call("exportKey", ["raw", 1]);
    expect((exported.value as { bytes: Uint8Array }).bytes).toBeInstanceOf(Uint8Array);
    expect(h.charged()).toBeGreaterThan(0);
  });

  it("charges an RSA key generation refused for its usages next to nothing", async () => {
    const h = host();
    const refused = await h.call("generateKey", [
      { name: "RSA-OAEP", modulusLength: 4096, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
      true,
      ["sign"],
    ]);
    expect(refused).toMatchObject({ ok: false, value: { name: "SyntaxError" } });
    expect(h.charged()).toBeLessThan(1);
  });

  it("runs at most two expensive operations at once across all requests, and completes the others after", async () => {
    const rsa = [
      {
        name: "RSASSA-PKCS1-v1_5",
        modulusLength: 2048,
        publicExponent: new Uint8Array([1, 0, 1]),
        hash: "SHA-256",
      },
      false,
      ["sign", "verify"],
    ];
    const requests = [host(), host(), host()];
    const calls = requests.flatMap((h) => [h.call("generateKey", rsa), h.call("generateKey", rsa)]);
    expect(expensiveCryptoRunning()).toBe(2);
    const answers = await Promise.all(calls);
    expect(answers.every((a) => a.ok)).toBe(true);
    expect(expensiveCryptoRunning()).toBe(0);
  });

  it("refuses handles it never issued, and forgets every key when the request ends", async () => {
    const h = host();
    await h.call("generateKey", AES);
    expect(await h.call("exportKey", ["raw", 2])).toEqual({
      ok: false,
      value: { name: "TypeError", message: "The key is not a CryptoKey of this request" },
    });
    expect(await h.call("exportKey", ["raw", { handle: 1 }])).toMatchObject({
      ok: false,
      value: { name: "TypeError" },
    });
    h.crypto.close();
    h.start(99, { method: "exportKey", args: ["raw", 1] });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(h.answers.has(99)).toBe(false);
  });

  it("refuses unknown operations, wrong argument counts and inputs over 16 MiB", async () => {
    const h = host();
    expect(await h.call("constructor", [])).toMatchObject({ ok: false, value: { name: "TypeError" } });
    expect(await h.call("digest", ["SHA-256"])).toMatchObject({ ok: false, value: { name: "TypeError" } });
    expect(await h.call("digest", ["SHA-256", new Uint8Array(16 * 1024 * 1024 + 1)])).toMatchObject({
      ok: false,
      value: { name: "OperationError" },
    });
    h.start(7, null);
    expect(h.answers.get(7)).toMatchObject({ ok: false, value: { name: "TypeError" } });
  });

  it("bounds the bytes a request may queue and still completes what it accepted", async () => {
    const h = host();
    const big = new Uint8Array(15 * 1024 * 1024);
    const calls = Array.from({ length: 8 }, () => h.call("digest", ["SHA-256", big]));
    const answers = await Promise.all(calls);
    const refused = answers.filter((a) => !a.ok);
    expect(refused.length).toBeGreaterThan(0);
    expect(refused[0]?.value).toEqual({
      name: "OperationError",
      message: "Too many crypto operations are pending",
    });
    expect(answers.filter((a) => a.ok).length).toBeGreaterThanOrEqual(4);
  });

  it("caps RSA keygen at 4096 bits and PBKDF2 at 100000 iterations and 1e6 iteration-blocks with NotSupportedError", async () => {
    const h = host();
    const rsa = await h.call("generateKey", [
      { name: "RSA-PSS", modulusLength: 4097, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
      false,
      ["sign"],
    ]);
    expect(rsa).toMatchObject({ ok: false, value: { name: "NotSupportedError" } });
    const key = await h.call("importKey", ["raw", new Uint8Array(8), "PBKDF2", false, ["deriveBits"]]);
    const handle = (key.value as { key: { handle: number } }).key.handle;
    const derived = await h.call("deriveBits", [
      { name: "PBKDF2", hash: "SHA-256", salt: new Uint8Array(8), iterations: 1_000_000 },
      handle,
      256,
    ]);
    expect(derived).toMatchObject({ ok: false, value: { name: "NotSupportedError" } });
    const long = await h.call("deriveBits", [
      { name: "PBKDF2", hash: "SHA-256", salt: new Uint8Array(8), iterations: 100_000 },
      handle,
      256 * 64,
    ]);
    expect(long).toMatchObject({ ok: false, value: { name: "NotSupportedError" } });
  });

  it("bounds the key material a request holds on the host, HMAC key lengths included", async () => {
    const h = host();
    const material = new Uint8Array(15 * 1024 * 1024);
    const hmac = { name: "HMAC", hash: "SHA-256" };
    const results: boolean[] = [];
    for (let i = 0; i < 5; i++)
      results.push((await h.call("importKey", ["raw", material, hmac, false, ["sign"]])).ok);
    expect(results).toEqual([true, true, true, true, false]);
    const huge = await h.call("generateKey", [
      { name: "HMAC", hash: "SHA-256", length: 2 ** 31 },
      false,
      ["sign"],
    ]);
    expect(huge).toMatchObject({ ok: false, value: { name: "OperationError" } });
  });

  it("hashes a digest stream incrementally and closes it on finish", async () => {
    const h = host();
    const started = await h.call("hashStart", ["SHA-1"]);
    const handle = (started.value as { handle: number }).handle;
    await h.call("hashUpdate", [handle, new TextEncoder().encode("ab")]);
    await h.call("hashUpdate", [handle, new TextEncoder().encode("c")]);
    const done = await h.call("hashFinish", [handle]);
    expect(Buffer.from((done.value as { bytes: Uint8Array }).bytes).toString("hex")).toBe(
      "a9993e364706816aba3e25717850c26c9cd0d89d",
    );
    expect(await h.call("hashUpdate", [handle, new Uint8Array(1)])).toMatchObject({
      ok: false,
      value: { name: "InvalidStateError" },
    });
  });
});
