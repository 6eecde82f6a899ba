import { mkdtempSync, rmSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../harness/cli.js";
import {
  api,
  type ControlPlane,
  type EdgeNodeProc,
  eventually,
  POPS,
  startControlPlane,
  startEdgeNode,
  TOKEN,
} from "../harness/cluster.js";

/** Where the apps live: `edgectl deploy` runs from the test-e2e folder, so packages resolve from its node_modules. */
const E2E_ROOT = new URL("../../", import.meta.url).pathname;

export interface AppResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  text: string;
  json(): unknown;
}

export interface CallInit {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

/** A control plane (SQLite) and one edge node as real processes, with the apps deployed by the real edgectl. */
export interface AppCluster {
  cp: ControlPlane;
  node: EdgeNodeProc;
  /** `edgectl deploy <file> --name <name> [--var K=V]…` from the test-e2e folder, waiting for the node to run it. */
  deploy(name: string, file: string, vars?: Record<string, string>): Promise<void>;
  /** An HTTP request to `<script>.localhost` on the node; the body comes back as bytes. */
  call(script: string, path: string, init?: CallInit): Promise<AppResponse>;
  close(): Promise<void>;
}

export async function startAppCluster(): Promise<AppCluster> {
  const home = mkdtempSync(join(tmpdir(), "edge-e2e-apps-"));
  const cp = await startControlPlane(`sqlite:${join(home, "cp.db")}`);
  let node: EdgeNodeProc | undefined;
  try {
    node = await startEdgeNode(POPS[0]!, cp.grpcPort);
    await eventually(
      async () => {
        const { json } = await api(cp, "GET", "/v1/nodes");
        return ((json?.nodes ?? []) as Array<{ status: string }>).some((n) => n.status === "healthy");
      },
      "the edge node is healthy",
      30_000,
    );
  } catch (err) {
    await node?.proc.stop();
    await cp.proc.stop();
    throw err;
  }
  const base = node.base;
  const env = { EDGE_API_URL: cp.api, EDGE_API_TOKEN: TOKEN };
  return {
    cp,
    node,
    async deploy(name, file, vars = {}) {
      const args = ["deploy", file, "--name", name, "--cpu-ms", "1000", "--timeout", "60s"];
      for (const [key, value] of Object.entries(vars)) args.push("--var", `${key}=${value}`);
      const res = await runCli(args, { env, home, cwd: E2E_ROOT, timeoutMs: 90_000 });
      if (res.code !== 0) throw new Error(`edgectl deploy ${file} failed (${res.code}): ${res.stderr}`);
    },
    call: (script, path, init = {}) => call(base, `${script}.localhost`, path, init),
    async close() {
      await node?.proc.stop();
      await cp.proc.stop();
      rmSync(home, { recursive: true, force: true });
    },
  };
}

/** node:http rather than fetch: fetch drops a Host header, and a body must come back as it was sent (gzip). */
function call(base: string, host: string, path: string, init: CallInit): Promise<AppResponse> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${base}${path}`,
      { method: init.method ?? "GET", headers: { ...init.headers, host }, timeout: 30_000 },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => {
          const body = Buffer.concat(chunks);
          const text = body.toString("utf8");
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body,
            text,
            json: () => JSON.parse(text),
          });
        });
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error(`${path}: no answer within 30 s`)));
    req.on("error", reject);
    req.end(init.body);
  });
}

/** A multipart/form-data body with text fields and one file part, as a browser would send it. */
export function multipart(
  fields: Array<[string, string]>,
  file: { field: string; name: string; type: string; content: string },
): { body: Buffer; contentType: string } {
  const boundary = "----edge-real-apps-7d2f9c";
  const parts = fields.map(
    ([name, value]) => `--${boundary}\r\ncontent-disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`,
  );
  parts.push(
    `--${boundary}\r\ncontent-disposition: form-data; name="${file.field}"; filename="${file.name}"\r\n` +
      `content-type: ${file.type}\r\n\r\n${file.content}\r\n`,
  );
  parts.push(`--${boundary}--\r\n`);
  return { body: Buffer.from(parts.join("")), contentType: `multipart/form-data; boundary=${boundary}` };
}
