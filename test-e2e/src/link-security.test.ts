import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTestCertificates, type TestCertificates } from "@edge/control-plane/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, hit, POPS } from "./harness/cluster.js";
import {
  call,
  listNodes,
  type NodeProc,
  type Replica,
  startNode,
  startReplica,
  versioned,
} from "./harness/distribution.js";

const NODE_TOKEN = "e2e-node-enrolment-token";

/** The gRPC link with mTLS and an enrolment token, between real processes. */
describe("a control plane that requires mTLS and an enrolment token", () => {
  let certs: TestCertificates;
  let dataDir: string;
  let cp: Replica;
  let member: NodeProc | undefined;
  let intruder: NodeProc | undefined;

  beforeAll(async () => {
    certs = createTestCertificates();
    dataDir = mkdtempSync(join(tmpdir(), "edge-e2e-tls-"));
    cp = await startReplica("cp-tls", `sqlite:${join(dataDir, "cp.db")}`, {
      env: {
        EDGE_NODE_TOKEN: NODE_TOKEN,
        EDGE_GRPC_TLS_CERT: certs.serverCert,
        EDGE_GRPC_TLS_KEY: certs.serverKey,
        EDGE_GRPC_TLS_CLIENT_CA: certs.caCert,
      },
    });
  });

  afterAll(async () => {
    await member?.proc.stop();
    await intruder?.proc.stop();
    await cp?.proc.stop();
    certs?.remove();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const tlsEnv = (token: string) => ({
    EDGE_NODE_TOKEN: token,
    EDGE_CONTROL_PLANE_CA: certs.caCert,
    EDGE_CONTROL_PLANE_TLS_NAME: "localhost",
    EDGE_NODE_TLS_CERT: certs.clientCert,
    EDGE_NODE_TLS_KEY: certs.clientKey,
  });

  it("serves a node with a client certificate and the token, over TLS", async () => {
    member = await startNode(POPS[0]!, [cp.grpcAddress], { env: tlsEnv(NODE_TOKEN) });
    await eventually(
      async () => (await listNodes(cp)).some((n) => n.id === "fra-1" && n.status === "healthy"),
      "fra-1 healthy",
    );
    expect((await call(cp, "PUT", "/v1/scripts/secure", versioned("over tls"))).status).toBe(201);
    await eventually(async () => (await hit(member!, "secure")).status === 200, "the node serves the deploy");
  });

  it("refuses a node with a valid certificate but a wrong token, and never lists it", async () => {
    intruder = await startNode(POPS[1]!, [cp.grpcAddress], { env: tlsEnv("not-the-enrolment-token") });
    await cp.proc.waitForLog((r) => r.msg === "node refused: missing or wrong enrolment token");
    expect((await listNodes(cp)).map((n) => n.id)).toEqual(["fra-1"]);
    expect((await hit(intruder, "secure")).status).toBe(404);
  });
});
