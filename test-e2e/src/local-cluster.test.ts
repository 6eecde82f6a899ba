import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually } from "./harness/cluster.js";
import { hitPort, isAlive, LocalCluster } from "./harness/local-cluster.js";

const TOKEN = "dev-admin-token";
const script = (version: string) => `export default { fetch() { return new Response("${version}"); } };\n`;

async function deploy(cluster: LocalCluster, name: string, source: string): Promise<number> {
  const res = await fetch(`${cluster.apiUrl}/v1/scripts/${name}`, {
    method: "PUT",
    headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/javascript" },
    body: source,
  });
  return res.status;
}

/**
 * The local cluster as a newcomer runs it (`npm start`): it supervises its
 * processes, so a control plane killed with SIGKILL is restarted while the
 * PoPs go on serving from their caches; and SIGTERM to `npm start` stops
 * every process it started.
 */
describe("the local cluster's supervisor", () => {
  let cluster: LocalCluster;
  beforeAll(async () => {
    cluster = await LocalCluster.start({ viaNpm: true });
    // `npm start` builds first (turbo: cached, but slow on a busy machine).
  }, 180_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  it("keeps every PoP answering while the control plane is killed and restarted, and deploys reach every PoP after", async () => {
    const pops = Object.values(cluster.ports.pops);
    expect(await deploy(cluster, "hello", script("v1"))).toBe(201);
    for (const port of pops)
      await eventually(
        async () => (await hitPort(port, "hello")).text === "v1",
        `v1 on port ${port}`,
        30_000,
      );

    const killedPid = cluster.pidOf("control-plane");
    const from = cluster.records.length;
    process.kill(killedPid, "SIGKILL");

    // Until the supervisor has the control plane back (and the PoPs reconnected), every request is answered.
    let sent = 0;
    const failures: string[] = [];
    const back = cluster.waitFor(
      (r) => r.process === "control-plane" && r.msg === "control plane listening",
      60_000,
      from,
    );
    let isBack = false;
    void back.then(() => {
      isBack = true;
    });
    const deadline = Date.now() + 60_000;
    while (!isBack && Date.now() < deadline) {
      for (const port of pops) {
        sent += 1;
        const res = await hitPort(port, "hello").catch((err: Error) => ({ status: 0, text: err.message }));
        if (res.status !== 200 || res.text !== "v1") failures.push(`${port}: ${res.status} ${res.text}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    await back;
    expect(failures).toEqual([]);
    expect(sent).toBeGreaterThan(0);
    const restartLine = cluster.records
      .slice(from)
      .find((r) => r.process === "cluster" && /control-plane exited unexpectedly/.test(String(r.msg)));
    expect(restartLine?.msg).toMatch(/SIGKILL.*restarting it in \d+ ms/);
    expect(cluster.pidOf("control-plane")).not.toBe(killedPid);
    // The other processes were left alone.
    for (const name of ["fra", "iad", "sin", "router"]) expect(isAlive(cluster.pidOf(name))).toBe(true);

    expect(await deploy(cluster, "hello", script("v2"))).toBe(201);
    for (const port of pops)
      await eventually(
        async () => (await hitPort(port, "hello")).text === "v2",
        `v2 on port ${port}`,
        30_000,
      );
  });

  it("stops every process it started when `npm start` gets SIGTERM", async () => {
    // The launcher itself (behind npm and its shell) and every process it started.
    const pids = [...new Set(cluster.allPids())];
    const running = pids.filter(isAlive);
    expect(running.length).toBeGreaterThanOrEqual(6);
    cluster.signal("SIGTERM");
    const code = await Promise.race([
      cluster.exited,
      new Promise((r) => setTimeout(() => r("still running"), 15_000)),
    ]);
    expect(code).not.toBe("still running");
    await eventually(
      async () => running.every((pid) => !isAlive(pid)),
      "every cluster process is gone",
      5_000,
    );
  });
});

describe("the local cluster's launcher", () => {
  it("stops every process it started when its terminal closes (SIGHUP)", async () => {
    const cluster = await LocalCluster.start();
    try {
      const running = [...new Set(cluster.allPids())].filter(isAlive);
      expect(running.length).toBeGreaterThanOrEqual(6);
      cluster.signal("SIGHUP");
      await eventually(
        async () => running.every((pid) => !isAlive(pid)),
        "every cluster process is gone",
        15_000,
      );
    } finally {
      await cluster.stop();
    }
  }, 120_000);
});
