import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { loadConfig } from "../src/config.js";
import { createEdgeNode, type EdgeNode } from "../src/edge-node.js";
import { ScriptedControlPlane } from "./scripted-control-plane.js";

/** A real edge node connected to a `ScriptedControlPlane`, started and past its hello. */
export interface NodeAgainstScripted {
  cp: ScriptedControlPlane;
  node: EdgeNode;
  /** The node's HTTP front, `http://127.0.0.1:<port>`. */
  base: string;
  /** Stops the node and the control plane, and removes the node's cache directory. */
  close(): Promise<void>;
}

/** Starts both with `env` on top of a node of its own cache dir, port 0 and the control plane's address. */
export async function startNodeAgainstScripted(env: Record<string, string>): Promise<NodeAgainstScripted> {
  const cacheDir = mkdtempSync(join(tmpdir(), "edge-node-test-"));
  const cp = new ScriptedControlPlane();
  const grpcPort = await cp.listen();
  const config = loadConfig({
    EDGE_HTTP_PORT: "0",
    EDGE_CONTROL_PLANE: `127.0.0.1:${grpcPort}`,
    EDGE_CACHE_DIR: cacheDir,
    ...env,
  });
  const node = createEdgeNode(config, { logger: pino({ level: "silent" }) });
  const { httpPort } = await node.start();
  await cp.waitFor((m) => m.msg?.$case === "hello");
  return {
    cp,
    node,
    base: `http://127.0.0.1:${httpPort}`,
    async close() {
      await node.stop();
      await cp.close();
      rmSync(cacheDir, { recursive: true, force: true });
    },
  };
}
