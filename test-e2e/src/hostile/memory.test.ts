import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deploy, fetchFrom, type HostileCluster, rssBytes, startHostileCluster } from "./hostile-cluster.js";

/** (module (memory (export "mem") 1) (func (export "grow") (param i32) (result i32) local.get 0 memory.grow)) */
const GROW_MODULE = [
  0, 97, 115, 109, 1, 0, 0, 0, 1, 6, 1, 96, 1, 127, 1, 127, 3, 2, 1, 0, 5, 3, 1, 0, 1, 7, 14, 2, 3, 109, 101,
  109, 2, 0, 4, 103, 114, 111, 119, 0, 0, 10, 8, 1, 6, 0, 32, 0, 64, 0, 11,
];

/** Issue 12, High 3: WebAssembly memory is held to the script's memory limit, and the node's RSS stays bounded. */
describe("hostile tenant: WebAssembly memory bombs", () => {
  let cluster: HostileCluster;

  beforeAll(async () => {
    cluster = await startHostileCluster();
    const limits = { cpuMs: 1_000, memoryMb: 64, wallMs: 10_000 };
    await deploy(
      cluster,
      "wasm-bomb",
      `export default { async fetch() {
        const memory = new WebAssembly.Memory({ initial: 1, maximum: 16384 });
        memory.grow(8000);
        new Uint8Array(memory.buffer).fill(1);
        await new Promise((r) => setTimeout(r, 5_000));
        return new Response(String(memory.buffer.byteLength));
      } }`,
      { limits },
    );
    await deploy(
      cluster,
      "wasm-module-bomb",
      `const bytes = new Uint8Array(${JSON.stringify(GROW_MODULE)});
      export default { async fetch() {
        const { instance } = await WebAssembly.instantiate(bytes);
        const grew = instance.exports.grow(8000);
        return new Response(String(grew));
      } }`,
      { limits },
    );
  }, 120_000);

  afterAll(async () => {
    await cluster?.stop();
  });

  it("ends a Wasm memory grown past memoryMb with 503 EDGE_MEMORY_LIMIT, and the node's RSS stays bounded", async () => {
    const pid = cluster.node.proc.pid ?? 0;
    const before = rssBytes(pid);
    const results = await Promise.all(Array.from({ length: 6 }, () => fetchFrom(cluster.node, "wasm-bomb")));
    expect(results.map((r) => [r.status, r.code])).toEqual(Array(6).fill([503, "EDGE_MEMORY_LIMIT"]));
    // Six bombs of 500 MiB each would be 3 GiB; the node grew by far less than one.
    expect(rssBytes(pid) - before).toBeLessThan(256 * 1024 * 1024);
  });

  it("keeps a module's own memory within memoryMb: growth past it fails inside Wasm", async () => {
    const res = await fetchFrom(cluster.node, "wasm-module-bomb");
    expect(res.status).toBe(200);
    expect(res.text).toBe("-1");
  });
});
