import { createIsolateRunner } from "@edge/isolate-host";
import type { ConfigPush, Script } from "@edge/protocol";
import { pino } from "pino";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import type { EdgeNode } from "../src/edge-node.js";
import { ScriptRegistry } from "../src/script-registry.js";
import { requestWithHost } from "../src/testing/index.js";
import { type NodeAgainstScripted, startNodeAgainstScripted } from "./node-against-scripted.js";
import { type ScriptedControlPlane, script } from "./scripted-control-plane.js";

const logger = pino({ level: "silent" });
const hello = (name: string) =>
  `export default { fetch: () => new Response(${JSON.stringify(`hello from ${name}`)}) }`;
const THROWS = `throw new Error("boom at the top"); export default { fetch: () => new Response("never") }`;
const NO_HANDLER = "export default { notFetch() {} }";

describe("pushes on the edge node: small ones prepared before the ACK, bulk ones verified and stored", () => {
  let cp: ScriptedControlPlane;
  let node: EdgeNode;
  let base: string;
  let running: NodeAgainstScripted;

  beforeEach(async () => {
    running = await startNodeAgainstScripted({
      EDGE_POP: "fra",
      EDGE_NODE_ID: "fra-bulk",
      EDGE_ISOLATE_THREADS: "1",
      EDGE_WARM_ISOLATES: "1",
      EDGE_PUSH_PREPARE_MAX: "4",
    });
    ({ cp, node, base } = running);
  });

  afterEach(async () => {
    await running.close();
  });

  const get = (name: string) => requestWithHost(base, `${name}.localhost`, "/");
  const push = (configVersion: number, upserts: Script[]) =>
    cp.push({ configVersion, full: false, upserts, removals: [] });

  it("ACKs a first push of 2,500 scripts without preparing any of them, then serves whichever is asked for", async () => {
    const scripts = Array.from({ length: 2_500 }, (_, i) => script(`app-${i}`, 1, hello(`app-${i}`)));
    const ack = await cp.push({ configVersion: 1, full: true, upserts: scripts, removals: [] });
    expect(ack).toMatchObject({ configVersion: 1, errors: [] });
    expect(Object.keys(node.registry.heldReleases())).toHaveLength(2_500);
    expect(node.registry.preparedCount).toBe(0);

    for (const name of ["app-2499", "app-0", "app-1234"]) {
      const res = await get(name);
      expect([res.status, res.text]).toEqual([200, `hello from ${name}`]);
    }
    expect(node.registry.preparedCount).toBe(3);
  }, 120_000);

  it("still NACKs a small push whose script throws at the top level, and does not serve it", async () => {
    const ack = await push(1, [script("thrower", 1, THROWS), script("fine", 1, hello("fine"))]);
    expect(ack.errors.map((e) => [e.name, e.version])).toEqual([["thrower", 1]]);
    expect(ack.errors[0]?.errorDetail).toMatch(/boom at the top/);
    expect((await get("thrower")).status).toBe(404);
    expect((await get("fine")).text).toBe("hello from fine");
    expect(node.registry.rejectedReleases()).toEqual({ thrower: "1" });
  }, 60_000);

  it("ACKs a bulk push holding broken scripts; their requests get their coded errors, every time, and the rest serve", async () => {
    const fine = Array.from({ length: 8 }, (_, i) => script(`ok-${i}`, 1, hello(`ok-${i}`)));
    const ack = await push(1, [...fine, script("thrower", 1, THROWS), script("handlerless", 1, NO_HANDLER)]);
    expect(ack.errors).toEqual([]);
    expect(node.registry.preparedCount).toBe(0);

    for (let i = 0; i < 2; i++) {
      const thrown = await get("thrower");
      expect(thrown.status).toBe(500);
      expect(JSON.parse(thrown.text).error).toMatchObject({ code: "EDGE_SCRIPT_ERROR" });
      expect(JSON.parse(thrown.text).error.message).toMatch(/boom at the top/);
      const handlerless = await get("handlerless");
      expect(handlerless.status).toBe(500);
      expect(JSON.parse(handlerless.text).error.code).toBe("EDGE_NO_FETCH_HANDLER");
    }
    for (const s of fine) expect((await get(s.name)).text).toBe(`hello from ${s.name}`);

    // A NACK after the ACK: heartbeats name both until a push replaces them, and so does the next hello.
    const beat = await cp.waitFor((m) => m.msg?.$case === "heartbeat" && m.msg.value.failed.length === 2);
    const failed = beat.msg?.$case === "heartbeat" ? beat.msg.value.failed : [];
    expect(failed.map((e) => [e.name, e.version]).sort()).toEqual([
      ["handlerless", 1],
      ["thrower", 1],
    ]);
    expect(failed.find((e) => e.name === "thrower")?.errorDetail).toMatch(/boom at the top/);
    expect(node.registry.rejectedReleases()).toEqual({ handlerless: "1", thrower: "1" });
    await push(2, [script("thrower", 2, hello("thrower"))]);
    expect((await get("thrower")).text).toBe("hello from thrower");
    expect(node.registry.failedAfterAck().map((e) => e.name)).toEqual(["handlerless"]);
    expect(node.registry.rejectedReleases()).toEqual({ handlerless: "1" });
  }, 60_000);

  it("NACKs a version of a bulk push whose sha256 does not cover what arrived, and stores the rest", async () => {
    const scripts = Array.from({ length: 6 }, (_, i) => script(`s-${i}`, 1, hello(`s-${i}`)));
    const tampered = { ...script("tampered", 1, hello("tampered")), source: hello("someone else") };
    const ack = await push(1, [...scripts, tampered]);
    expect(ack.errors.map((e) => e.name)).toEqual(["tampered"]);
    expect(ack.errors[0]?.errorDetail).toMatch(/^EDGE_VERSION_DIGEST_MISMATCH/);
    expect((await get("tampered")).status).toBe(404);
    expect((await get("s-5")).text).toBe("hello from s-5");
  }, 60_000);
});

describe("bulk pushes in the script registry", () => {
  const runner = createIsolateRunner({ warmIsolates: 0 });
  afterAll(() => runner.dispose());
  const push = (configVersion: number, upserts: Script[]): ConfigPush => ({
    configVersion,
    full: false,
    upserts,
    removals: [],
    nonce: `n${configVersion}`,
  });

  it("counts new versions, not upserts: a push re-sending what the node holds plus a few is prepared", async () => {
    const registry = new ScriptRegistry(runner, logger, { pushPrepareMax: 2 });
    const first = ["a", "b", "c"].map((name) => script(name, 1, hello(name)));
    expect(await registry.apply(push(1, first))).toEqual([]);
    expect(registry.preparedCount).toBe(0);
    expect(await registry.apply(push(2, [...first, script("d", 1, hello("d"))]))).toEqual([]);
    expect(registry.get("d")?.isPrepared).toBe(true);
    expect(registry.get("a")?.isPrepared).toBe(false);
  });

  it("prepares in the background the new versions of a bulk push whose previous version was hot, and only those", async () => {
    const registry = new ScriptRegistry(runner, logger, { pushPrepareMax: 1 });
    expect(await registry.apply(push(1, [script("hot", 1, hello("hot v1"))]))).toEqual([]);
    expect(registry.get("hot")?.isPrepared).toBe(true);
    const bulk = [
      script("hot", 2, hello("hot v2")),
      script("cold-1", 1, hello("c1")),
      script("cold-2", 1, hello("c2")),
    ];
    expect(await registry.apply(push(2, bulk))).toEqual([]);
    await registry.backgroundIdle();
    expect(registry.get("hot")?.version).toBe(2);
    expect(registry.get("hot")?.isPrepared).toBe(true);
    expect(registry.get("cold-1")?.isPrepared).toBe(false);
    expect(registry.preparedCount).toBe(1);
  });

  it("never prepares at push time with a bound of 0, yet still NACKs a malformed module set", async () => {
    const registry = new ScriptRegistry(runner, logger, { pushPrepareMax: 0 });
    const duplicate = {
      ...script("dup", 1, hello("dup")),
      mainModule: "index.js",
      modules: [{ name: "index.js", type: "esm", content: Buffer.from("export {}") }],
    };
    const errors = await registry.apply(push(1, [script("one", 1, hello("one")), duplicate]));
    expect(errors.map((e) => [e.name, e.errorDetail.split(":")[0]])).toEqual([
      ["dup", "EDGE_VERSION_MALFORMED"],
    ]);
    expect(registry.get("one")?.isPrepared).toBe(false);
    expect(registry.get("dup")).toBeUndefined();
  });
});
