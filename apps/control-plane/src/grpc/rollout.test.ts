import { createHash } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { eventually, startTestControlPlane, type TestControlPlane, type TestNode } from "./test-node.js";

describe("gradual rollouts as nodes receive them", () => {
  let cp: TestControlPlane;
  beforeEach(async () => {
    cp = await startTestControlPlane();
  });
  afterEach(async () => {
    await cp.close();
  });

  async function connected(id: string, pop: string): Promise<TestNode> {
    const node = cp.node();
    node.hello(id, { pop });
    node.ack(await node.push(1));
    return node;
  }

  /** v1 active, v2 stored without activation. */
  async function twoVersions(name: string): Promise<void> {
    await cp.deploy(name);
    const v2 = `export default { fetch() { return new Response("${name} v2"); } };`;
    await cp.store.putVersion(
      name,
      { sha256: sha256(v2), source: v2, vars: {}, limits: { cpuMs: 50, memoryMb: 128, wallMs: 30_000 } },
      Date.now(),
      { activate: false },
    );
  }

  it("sends every node the active version with the new one as a canary on a percent rollout", async () => {
    await twoVersions("app");
    const fra = await connected("fra-1", "fra");
    const sin = await connected("sin-1", "sin");

    await cp.store.startRollout("app", { version: 2, percent: 10 });
    cp.server.hub.notifyChanged();
    for (const node of [fra, sin]) {
      const push = await node.push(2);
      expect(push.upserts).toHaveLength(1);
      expect(push.upserts[0]).toMatchObject({ name: "app", version: 1, canary: { percent: 10 } });
      expect(push.upserts[0]?.canary?.script).toMatchObject({ name: "app", version: 2 });
      node.ack(push);
    }
    await eventually(
      () => cp.server.hub.nodes().every((n) => n.canaries.app?.version === 2),
      "both nodes to report the canary",
    );
    expect(cp.server.hub.nodes().map((n) => [n.id, n.scripts.app, n.canaries.app])).toEqual([
      ["fra-1", 1, { version: 2, percent: 10 }],
      ["sin-1", 1, { version: 2, percent: 10 }],
    ]);
  });

  it("sends the new version only to the named PoPs, then to every node once promoted", async () => {
    await twoVersions("app");
    const fra = await connected("fra-1", "fra");
    const sin = await connected("sin-1", "sin");

    await cp.store.startRollout("app", { version: 2, pops: ["fra"] });
    cp.server.hub.notifyChanged();
    const toFra = await fra.push(2);
    expect(toFra.upserts.map((s) => [s.name, s.version, s.canary])).toEqual([["app", 2, undefined]]);
    // sin's desired release did not change: it gets only the new revision, nothing to apply.
    expect((await sin.push(2)).upserts).toEqual([]);

    await cp.store.finishRollout("app", "promote");
    cp.server.hub.notifyChanged();
    expect((await sin.push(3)).upserts.map((s) => [s.name, s.version])).toEqual([["app", 2]]);
    await sin.until(() => fra.pushes.length >= 3, "fra's push of the promotion");
    expect(fra.pushes[2]?.upserts).toEqual([]);
  });

  it("takes the canary away again when the rollout is aborted", async () => {
    await twoVersions("app");
    const fra = await connected("fra-1", "fra");
    await cp.store.startRollout("app", { version: 2, percent: 50 });
    cp.server.hub.notifyChanged();
    fra.ack(await fra.push(2));

    await cp.store.finishRollout("app", "abort");
    cp.server.hub.notifyChanged();
    const back = await fra.push(3);
    expect(back.upserts.map((s) => [s.name, s.version, s.canary])).toEqual([["app", 1, undefined]]);
  });
});

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}
