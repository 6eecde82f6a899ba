// Which runtime APIs the edge node offers (the real-apps suite runs the tests that need them only then).
async function can(fn) {
  try {
    await fn();
    return true;
  } catch {
    return false;
  }
}

export default {
  async fetch() {
    const subtle = crypto.subtle;
    const pair = (algorithm) => subtle.generateKey(algorithm, false, ["sign", "verify"]);
    return Response.json({
      compressionStreams:
        typeof CompressionStream === "function" && typeof DecompressionStream === "function",
      formData:
        typeof FormData === "function" &&
        typeof File === "function" &&
        (await can(() =>
          new Request("http://x/", {
            method: "POST",
            body: "a=1",
            headers: { "content-type": "application/x-www-form-urlencoded" },
          }).formData(),
        )),
      ecdsa: await can(() => pair({ name: "ECDSA", namedCurve: "P-256" })),
      ed25519: await can(() => pair({ name: "Ed25519" })),
      rsa: await can(() =>
        pair({
          name: "RSASSA-PKCS1-v1_5",
          modulusLength: 2048,
          publicExponent: new Uint8Array([1, 0, 1]),
          hash: "SHA-256",
        }),
      ),
    });
  },
};
