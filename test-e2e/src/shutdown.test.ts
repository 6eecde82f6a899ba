import { mkdtempSync, rmSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { freshCacheDir } from "./harness/cache-dir.js";
import {
  api,
  type ControlPlane,
  type EdgeNodeProc,
  eventually,
  hit,
  startRouter,
  TOKEN,
} from "./harness/cluster.js";
import { AppProcess, CONTROL_PLANE_MAIN, EDGE_NODE_MAIN } from "./harness/process.js";

const GRACE_MS = 3_000;
/** Room for a loaded machine on top of the grace period; still far below what the open work would take. */
const SLACK_MS = 4_000;

const HANG = `export default {
  async fetch(request) {
    // A long timer, not a promise nothing settles (that one the node ends at once: EDGE_NO_RESPONSE).
    if (new URL(request.url).pathname === "/hang") await new Promise((resolve) => setTimeout(resolve, 600_000));
    return new Response("ok");
  },
};
`;

/** A request that is never answered: kept open until the server goes away. */
function hangingRequest(base: string, host: string): Promise<string> {
  return new Promise((resolve) => {
    const url = new URL("/hang", base);
    const req = request(
      { host: url.hostname, port: url.port, path: url.pathname, headers: { host } },
      (res) => {
        res.resume();
        res.on("end", () => resolve(`status ${res.statusCode}`));
        res.on("error", () => resolve("reset"));
      },
    );
    req.on("error", () => resolve("reset"));
    req.end();
  });
}

/** Sends `signal` and resolves with the exit code and how long the process took to go. */
async function signalAndTime(proc: AppProcess, signal: NodeJS.Signals) {
  const started = Date.now();
  proc.signal(signal);
  const code = await Promise.race([
    proc.exited,
    new Promise<"still running">((r) => setTimeout(() => r("still running"), GRACE_MS + SLACK_MS)),
  ]);
  return { code, ms: Date.now() - started };
}

/**
 * Every app exits within EDGE_SHUTDOWN_GRACE_MS of SIGTERM or SIGINT, whatever
 * it is doing: the control plane with a node's gRPC stream and a tail (SSE)
 * open, the edge node with requests hanging in isolates, the router with a
 * proxied request hanging on a PoP.
 */
describe("bounded shutdown of every app", () => {
  const dir = mkdtempSync(join(tmpdir(), "edge-e2e-shutdown-"));
  const procs: AppProcess[] = [];
  afterAll(async () => {
    await Promise.all(procs.map((p) => p.stop("SIGKILL")));
    rmSync(dir, { recursive: true, force: true });
  });

  it("stops the control plane, an edge node and the router within the grace period while they hold open work", async () => {
    const cpProc = new AppProcess("control-plane", CONTROL_PLANE_MAIN, {
      EDGE_ADMIN_TOKEN: TOKEN,
      EDGE_STORE: `sqlite:${join(dir, "cp.db")}`,
      EDGE_API_HOST: "127.0.0.1",
      EDGE_API_PORT: "0",
      EDGE_GRPC_ADDRESS: "127.0.0.1:0",
      EDGE_SHUTDOWN_GRACE_MS: String(GRACE_MS),
    });
    procs.push(cpProc);
    const ready = await cpProc.waitForLog((r) => r.msg === "control plane listening");
    const cp: ControlPlane = {
      proc: cpProc,
      api: `http://127.0.0.1:${ready.httpPort}`,
      grpcPort: Number(ready.grpcPort),
    };

    const nodeProc = new AppProcess("fra", EDGE_NODE_MAIN, {
      EDGE_POP: "fra",
      EDGE_NODE_ID: "fra-1",
      EDGE_HTTP_HOST: "127.0.0.1",
      EDGE_HTTP_PORT: "0",
      EDGE_CONTROL_PLANE: `127.0.0.1:${cp.grpcPort}`,
      EDGE_CACHE_DIR: freshCacheDir(),
      EDGE_SHUTDOWN_GRACE_MS: String(GRACE_MS),
    });
    procs.push(nodeProc);
    const listening = await nodeProc.waitForLog((r) => r.msg === "edge node listening");
    const node: EdgeNodeProc = { proc: nodeProc, pop: "fra", base: `http://127.0.0.1:${listening.httpPort}` };
    const router = await startRouter(cp, {
      EDGE_SHUTDOWN_GRACE_MS: String(GRACE_MS),
      EDGE_ROUTER_RESPONSE_TIMEOUT_MS: "120000",
      EDGE_DEFAULT_POP: "fra",
    });
    procs.push(router.proc);

    const deployed = await api(
      cp,
      "PUT",
      "/v1/scripts/hang",
      JSON.stringify({ source: HANG, limits: { cpuMs: 1000, wallMs: 60_000 } }),
      "application/json",
    );
    expect(deployed.status).toBe(201);
    await eventually(async () => (await hit(node, "hang")).text === "ok", "the script runs on fra");

    // Open work: a tail stream on the control plane, requests hanging in the node's isolates and
    // through the router (the node's gRPC stream to the control plane is open all along).
    const tail = await fetch(`${cp.api}/v1/scripts/hang/tail`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(tail.status).toBe(200);
    const tailEnded = tail.body ? tail.body.pipeTo(new WritableStream()).catch(() => undefined) : null;
    const hanging = [
      hangingRequest(node.base, "hang.localhost"),
      hangingRequest(node.base, "hang.localhost"),
    ];
    await eventually(async () => (await hit(node, "hang")).text === "ok", "the node still answers");
    hanging.push(hangingRequest(router.base, "hang.localhost"));
    await new Promise((r) => setTimeout(r, 300));

    const cpStop = await signalAndTime(cpProc, "SIGTERM");
    expect(cpStop.code, `control plane after ${cpStop.ms} ms`).not.toBe("still running");
    // It drains what it holds (the tail stream ends, the gRPC stream closes) and exits cleanly.
    expect(cpStop.code, cpProc.tail(8)).toBe(0);
    await tailEnded;

    const routerStop = await signalAndTime(router.proc, "SIGINT");
    expect(routerStop.code, `router after ${routerStop.ms} ms`).not.toBe("still running");
    // Its proxied request still hangs on the PoP: forced, so non-zero.
    expect(routerStop.code).toBe(1);

    const nodeStop = await signalAndTime(nodeProc, "SIGTERM");
    expect(nodeStop.code, `edge node after ${nodeStop.ms} ms`).not.toBe("still running");
    // It could not finish requests that never end: it says so with a non-zero exit.
    expect(nodeStop.code).toBe(1);
    expect(nodeProc.records.some((r) => String(r.msg).includes("did not stop within"))).toBe(true);
    const outcomes = await Promise.all(hanging);
    expect(outcomes).toHaveLength(3);
  });
});
