import { createHash, randomBytes } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { createSecretBox } from "../secrets/secret-box.js";
import type { Store } from "../store/types.js";
import { startTestControlPlane, type TestControlPlane } from "./test-node.js";

const KEY = randomBytes(32);
const LIMITS = { cpuMs: 50, memoryMb: 128, wallMs: 30_000 };

/** Stores a version the way the API does: secrets sealed with the control plane's key. */
function putWithSecrets(store: Store, name: string, secrets: Record<string, string>, activate = true) {
  const box = createSecretBox(KEY);
  const source = `export default { fetch(r, env) { return new Response(env.TOKEN); } }; // ${name}`;
  return store.putVersion(
    name,
    {
      sha256: createHash("sha256").update(source).digest("hex"),
      source,
      vars: { PUBLIC: "p" },
      secrets: Object.fromEntries(Object.entries(secrets).map(([k, v]) => [k, box.seal(name, k, v)])),
      limits: LIMITS,
    },
    Date.now(),
    { activate },
  );
}

describe("secrets in the push to nodes", () => {
  let cp: TestControlPlane | undefined;
  afterEach(async () => {
    await cp?.close();
    cp = undefined;
  });

  it("reach a node decrypted, as ordinary env entries beside the vars", async () => {
    cp = await startTestControlPlane({ secretsKey: KEY });
    await putWithSecrets(cp.store, "app", { TOKEN: "s3cret ✓" });
    const node = cp.node();
    node.hello("fra-1");
    const push = await node.push(1);
    expect(push.upserts.map((s) => [s.name, s.vars])).toEqual([["app", { PUBLIC: "p", TOKEN: "s3cret ✓" }]]);
  });

  it("are opened per version: a canary carries its own secrets", async () => {
    cp = await startTestControlPlane({ secretsKey: KEY });
    await putWithSecrets(cp.store, "app", { TOKEN: "one" });
    const node = cp.node();
    node.hello("fra-1");
    node.ack(await node.push(1));
    await putWithSecrets(cp.store, "app", { TOKEN: "two" }, false);
    await cp.store.startRollout("app", { version: 2, percent: 50 });
    cp.server.hub.notifyChanged();
    const [script] = (await node.push(2)).upserts;
    expect([script?.version, script?.vars.TOKEN]).toEqual([1, "one"]);
    expect([script?.canary?.script?.version, script?.canary?.script?.vars.TOKEN]).toEqual([2, "two"]);
  });

  it("withhold a script whose secrets cannot be opened (no key, or another key) and publish the rest", async () => {
    for (const secretsKey of [null, randomBytes(32)]) {
      cp = await startTestControlPlane({ secretsKey });
      await putWithSecrets(cp.store, "locked", { TOKEN: "x" });
      await cp.deploy("open");
      const node = cp.node();
      node.hello("fra-1");
      const push = await node.push(1);
      expect(push.upserts.map((s) => s.name)).toEqual(["open"]);
      await cp.close();
      cp = undefined;
    }
  });
});
