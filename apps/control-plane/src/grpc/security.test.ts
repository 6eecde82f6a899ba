import { credentials, makeGenericClientConstructor, type ServiceDefinition, status } from "@grpc/grpc-js";
import { service as healthService } from "grpc-health-check";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createRedisStore } from "../store/redis.js";
import { startRedisServer } from "../testing/redis-server.js";
import { createTestCertificates, type TestCertificates } from "../testing/test-certs.js";
import { startTestControlPlane, type TestControlPlane } from "./test-node.js";

const TOKEN = "enrolment-token-0123456789";

describe("the node enrolment token", () => {
  let cp: TestControlPlane;
  beforeAll(async () => {
    cp = await startTestControlPlane({ nodeToken: TOKEN });
  });
  afterAll(async () => {
    await cp.close();
  });

  it("refuses a node without the token, or with a wrong one, with UNAUTHENTICATED and lists neither", async () => {
    for (const token of [undefined, "enrolment-token-wrong", `${TOKEN}x`]) {
      const node = cp.node(token === undefined ? {} : { token });
      node.hello("intruder-1");
      const ended = await node.ended;
      expect(ended.code).toBe(status.UNAUTHENTICATED);
      expect(ended.details).toMatch(/^EDGE_NODE_UNAUTHENTICATED: /);
    }
    expect(cp.server.hub.nodes().map((n) => n.id)).not.toContain("intruder-1");
  });

  it("serves a node presenting the token", async () => {
    const node = cp.node({ token: TOKEN });
    node.hello("fra-1");
    await node.push(1);
    expect(cp.server.hub.nodes().map((n) => n.id)).toContain("fra-1");
  });
});

describe("TLS and mTLS on the gRPC link", () => {
  let certs: TestCertificates;
  let cp: TestControlPlane | undefined;
  beforeAll(() => {
    certs = createTestCertificates();
  });
  afterAll(() => {
    certs?.remove();
  });
  afterEach(async () => {
    await cp?.close();
    cp = undefined;
  });

  const tls = (clientCa: boolean) => ({
    cert: certs.read(certs.serverCert),
    key: certs.read(certs.serverKey),
    clientCa: clientCa ? certs.read(certs.caCert) : null,
  });

  it("speaks TLS to a node that trusts the control plane's CA, and not in plaintext", async () => {
    cp = await startTestControlPlane({ grpcTls: tls(false) });
    const trusted = cp.node({
      credentials: credentials.createSsl(certs.read(certs.caCert)),
      channelOptions: { "grpc.ssl_target_name_override": "localhost" },
    });
    trusted.hello("fra-1");
    await trusted.push(1);

    const plain = cp.node();
    plain.hello("plain-1");
    expect((await plain.ended).code).toBe(status.UNAVAILABLE);
  });

  it("with mTLS, serves a node whose certificate the client CA signed and refuses others", async () => {
    cp = await startTestControlPlane({ grpcTls: tls(true) });
    const withCert = (cert: string, key: string) =>
      cp!.node({
        credentials: credentials.createSsl(certs.read(certs.caCert), certs.read(key), certs.read(cert)),
        channelOptions: { "grpc.ssl_target_name_override": "localhost" },
      });
    const member = withCert(certs.clientCert, certs.clientKey);
    member.hello("fra-1");
    await member.push(1);

    const stranger = withCert(certs.strangerCert, certs.strangerKey);
    stranger.hello("intruder-1");
    expect((await stranger.ended).code).toBe(status.UNAVAILABLE);
    const anonymous = cp.node({
      credentials: credentials.createSsl(certs.read(certs.caCert)),
      channelOptions: { "grpc.ssl_target_name_override": "localhost" },
    });
    anonymous.hello("anonymous-1");
    expect((await anonymous.ended).code).toBe(status.UNAVAILABLE);
    expect(cp.server.hub.nodes().map((n) => n.id)).toEqual(["fra-1"]);
  });
});

describe("grpc.health.v1", () => {
  type HealthClient = {
    check(
      request: { service: string },
      done: (error: Error | null, reply?: { status: string }) => void,
    ): void;
    close(): void;
  };
  const Health = makeGenericClientConstructor(healthService as unknown as ServiceDefinition, "Health");
  const healthOf = (port: number) => {
    const client = new Health(`127.0.0.1:${port}`, credentials.createInsecure()) as unknown as HealthClient;
    const check = (service = "") =>
      new Promise<string>((resolve, reject) =>
        client.check({ service }, (error, reply) => (error ? reject(error) : resolve(reply?.status ?? ""))),
      );
    return { check, close: () => client.close() };
  };

  it("answers SERVING for the server and for edge.v1.ControlPlaneService, NOT_FOUND for other services", async () => {
    const cp = await startTestControlPlane();
    const health = healthOf(cp.port);
    try {
      expect(await health.check("")).toBe("SERVING");
      expect(await health.check("edge.v1.ControlPlaneService")).toBe("SERVING");
      await expect(health.check("no.such.Service")).rejects.toMatchObject({ code: status.NOT_FOUND });
    } finally {
      health.close();
      await cp.close();
    }
  });

  it("answers NOT_SERVING while its Redis store is down, and SERVING again once it is back", async () => {
    const redis = await startRedisServer({ appendonly: true });
    const store = await createRedisStore(redis.url);
    const cp = await startTestControlPlane({ store });
    const health = healthOf(cp.port);
    const until = async (wanted: string) => {
      for (let i = 0; i < 250 && (await health.check()) !== wanted; i++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      return health.check();
    };
    try {
      expect(await until("SERVING")).toBe("SERVING");
      await redis.stopOnly();
      expect(await until("NOT_SERVING")).toBe("NOT_SERVING");
      await redis.start();
      expect(await until("SERVING")).toBe("SERVING");
    } finally {
      health.close();
      await cp.close();
      await store.close();
      await redis.stop();
    }
  });
});
