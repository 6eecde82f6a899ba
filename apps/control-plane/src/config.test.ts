import { hostname } from "node:os";
import { describe, expect, it } from "vitest";
import { loadConfig } from "./config.js";
import { isEdgeError } from "./errors.js";
import { createTestCertificates } from "./testing/test-certs.js";

const T = "test-admin-token-0123";

function loadError(env: Record<string, string>): Error {
  try {
    loadConfig(env);
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected loadConfig to throw");
}

describe("loadConfig", () => {
  it("fills every field with its default when only the admin token is set", () => {
    expect(loadConfig({ EDGE_ADMIN_TOKEN: "s3cret-s3cret-s3cret" })).toEqual({
      dev: false,
      adminToken: "s3cret-s3cret-s3cret",
      metricsToken: null,
      store: "sqlite:.data/control-plane.db",
      redisDurability: { minReplicas: 0, replicaWaitMs: 1_000 },
      apiHost: "127.0.0.1",
      apiPort: 8080,
      grpcAddress: "127.0.0.1:50051",
      maxScriptBytes: 1_048_576,
      defaultLimits: { cpuMs: 50, memoryMb: 128, wallMs: 30_000 },
      maxLimits: { cpuMs: 1000, memoryMb: 512, wallMs: 60_000 },
      nodeTimeoutMs: 15_000,
      nodeRetentionMs: 24 * 3_600_000,
      nodeSettleMs: 45_000,
      metrics: { flushMs: 5_000, retentionMs: 24 * 3_600_000 },
      tail: { bufferSize: 1_000, maxSessions: 100, logsTimeoutMs: 2_000 },
      logLevel: "info",
      logFormat: "json",
      shutdownGraceMs: 10_000,
      controlPlaneId: `${hostname()}-${process.pid}`,
      pushBatchMs: 100,
      grpcMaxMessageBytes: 64 * 1024 * 1024,
      nodeToken: null,
      nodeEnrolment: false,
      cronSeconds: false,
      grpcTls: null,
      secretsKey: null,
      routing: { geoMmdb: null, geoCidrFile: null, defaultPop: null, loadPenaltyKm: 0, maxInFlight: 0 },
    });
  });

  it("reads the config-distribution variables: batching, message size, node token, TLS files", () => {
    const certs = createTestCertificates();
    try {
      const config = loadConfig({
        EDGE_ADMIN_TOKEN: T,
        EDGE_PUSH_BATCH_MS: "0",
        EDGE_GRPC_MAX_MESSAGE_BYTES: String(8 * 1024 * 1024),
        EDGE_NODE_TOKEN: "a-node-token-of-some-length",
        EDGE_GRPC_TLS_CERT: certs.serverCert,
        EDGE_GRPC_TLS_KEY: certs.serverKey,
        EDGE_GRPC_TLS_CLIENT_CA: certs.caCert,
      });
      expect(config).toMatchObject({
        pushBatchMs: 0,
        grpcMaxMessageBytes: 8 * 1024 * 1024,
        nodeToken: "a-node-token-of-some-length",
      });
      expect(config.grpcTls?.cert.toString()).toContain("BEGIN CERTIFICATE");
      expect(config.grpcTls?.clientCa?.toString()).toContain("BEGIN CERTIFICATE");
    } finally {
      certs.remove();
    }
  });

  it.each([
    [
      {
        EDGE_GRPC_MAX_MESSAGE_BYTES: String(4 * 1024 * 1024),
        EDGE_MAX_SCRIPT_BYTES: String(3 * 1024 * 1024),
      },
      "EDGE_GRPC_MAX_MESSAGE_BYTES",
    ],
    [{ EDGE_GRPC_TLS_CERT: "cert.pem" }, "EDGE_GRPC_TLS_KEY"],
    [{ EDGE_GRPC_TLS_CLIENT_CA: "ca.pem" }, "EDGE_GRPC_TLS_CLIENT_CA"],
    [
      { EDGE_GRPC_TLS_CERT: "/nonexistent/cert.pem", EDGE_GRPC_TLS_KEY: "/nonexistent/key.pem" },
      "EDGE_GRPC_TLS_CERT",
    ],
    [{ EDGE_NODE_TOKEN: "short" }, "EDGE_NODE_TOKEN"],
  ])("refuses %o, naming %s", (env, variable) => {
    const error = loadError({ EDGE_ADMIN_TOKEN: T, ...env });
    expect(isEdgeError(error) && error.code).toBe("EDGE_INVALID_CONFIG");
    expect(error.message).toContain(variable);
  });

  it("reads every variable", () => {
    const config = loadConfig({
      EDGE_ADMIN_TOKEN: T,
      EDGE_STORE: "redis://127.0.0.1:6379",
      EDGE_API_HOST: "0.0.0.0",
      EDGE_API_PORT: "0",
      EDGE_GRPC_ADDRESS: "0.0.0.0:0",
      EDGE_NODE_ENROLMENT: "1",
      EDGE_MAX_SCRIPT_BYTES: "2048",
      EDGE_DEFAULT_CPU_MS: "10",
      EDGE_DEFAULT_MEMORY_MB: "64",
      EDGE_DEFAULT_WALL_MS: "1000",
      EDGE_MAX_CPU_MS: "20",
      EDGE_MAX_MEMORY_MB: "256",
      EDGE_MAX_WALL_MS: "2000",
      EDGE_NODE_TIMEOUT_MS: "500",
      EDGE_NODE_RETENTION_HOURS: "3",
      EDGE_LOG_LEVEL: "debug",
      EDGE_CONTROL_PLANE_ID: "cp-1",
      EDGE_METRICS_FLUSH_MS: "250",
      EDGE_METRICS_RETENTION_HOURS: "2",
      EDGE_TAIL_BUFFER: "10",
      EDGE_TAIL_MAX_SESSIONS: "3",
      EDGE_LOGS_TIMEOUT_MS: "700",
    });
    expect(config).toMatchObject({
      store: "redis://127.0.0.1:6379",
      apiHost: "0.0.0.0",
      apiPort: 0,
      grpcAddress: "0.0.0.0:0",
      nodeEnrolment: true,
      maxScriptBytes: 2048,
      defaultLimits: { cpuMs: 10, memoryMb: 64, wallMs: 1000 },
      maxLimits: { cpuMs: 20, memoryMb: 256, wallMs: 2000 },
      nodeTimeoutMs: 500,
      nodeRetentionMs: 3 * 3_600_000,
      logLevel: "debug",
      controlPlaneId: "cp-1",
      metrics: { flushMs: 250, retentionMs: 2 * 3_600_000 },
      tail: { bufferSize: 10, maxSessions: 3, logsTimeoutMs: 700 },
    });
  });

  it("requires EDGE_ADMIN_TOKEN outside development mode", () => {
    const error = loadError({});
    expect(isEdgeError(error) && error.code).toBe("EDGE_INVALID_CONFIG");
    expect(error.message).toContain("EDGE_ADMIN_TOKEN");
  });

  it("treats an empty EDGE_ADMIN_TOKEN as missing", () => {
    expect(loadError({ EDGE_ADMIN_TOKEN: "" }).message).toContain("EDGE_ADMIN_TOKEN");
  });

  it("defaults the admin token to dev-admin-token when EDGE_DEV=1", () => {
    const config = loadConfig({ EDGE_DEV: "1" });
    expect(config.dev).toBe(true);
    expect(config.adminToken).toBe("dev-admin-token");
  });

  it("prefers an explicit admin token in development mode", () => {
    expect(loadConfig({ EDGE_DEV: "1", EDGE_ADMIN_TOKEN: "mine-mine-mine-mine" }).adminToken).toBe(
      "mine-mine-mine-mine",
    );
  });

  it("refuses an admin token shorter than 16 characters, and the dev token without EDGE_DEV=1", () => {
    for (const env of [
      { EDGE_ADMIN_TOKEN: "x" },
      { EDGE_ADMIN_TOKEN: "dev-admin-token" },
      { EDGE_DEV: "1", EDGE_ADMIN_TOKEN: "short" },
    ]) {
      const error = loadError(env);
      expect(isEdgeError(error) && error.code).toBe("EDGE_INVALID_CONFIG");
      expect(error.message).toContain("EDGE_ADMIN_TOKEN");
    }
    expect(loadConfig({ EDGE_DEV: "1", EDGE_ADMIN_TOKEN: "dev-admin-token" }).adminToken).toBe(
      "dev-admin-token",
    );
  });

  it.each(["0.0.0.0:50051", "[::]:50051", "10.1.2.3:50051", "edge-cp:50051"])(
    "refuses to bind gRPC to %s (beyond loopback) without node enrolment, naming EDGE_NODE_ENROLMENT",
    (address) => {
      for (const extra of [{}, { EDGE_NODE_TOKEN: "a-shared-node-token-0123" }]) {
        const error = loadError({ EDGE_ADMIN_TOKEN: T, EDGE_GRPC_ADDRESS: address, ...extra });
        expect(isEdgeError(error) && error.code).toBe("EDGE_INVALID_CONFIG");
        expect(error.message).toContain("EDGE_NODE_ENROLMENT");
      }
      const config = loadConfig({
        EDGE_ADMIN_TOKEN: T,
        EDGE_GRPC_ADDRESS: address,
        EDGE_NODE_ENROLMENT: "1",
      });
      expect(config.nodeEnrolment).toBe(true);
    },
  );

  it.each(["127.0.0.1:0", "127.10.0.1:50051", "localhost:50051", "[::1]:50051"])(
    "binds gRPC to loopback (%s) without enrolment",
    (address) => {
      expect(loadConfig({ EDGE_ADMIN_TOKEN: T, EDGE_GRPC_ADDRESS: address }).nodeEnrolment).toBe(false);
    },
  );

  it("refuses a shared node token together with per-node enrolment", () => {
    const error = loadError({
      EDGE_ADMIN_TOKEN: T,
      EDGE_NODE_ENROLMENT: "1",
      EDGE_NODE_TOKEN: "a-shared-node-token-0123",
    });
    expect(error.message).toContain("EDGE_NODE_TOKEN");
  });

  it.each([
    ["EDGE_API_PORT", "http"],
    ["EDGE_API_PORT", "65536"],
    ["EDGE_API_PORT", "-1"],
    ["EDGE_API_PORT", "80.5"],
    ["EDGE_MAX_SCRIPT_BYTES", "0"],
    ["EDGE_DEFAULT_CPU_MS", "fast"],
    ["EDGE_MAX_WALL_MS", "1e9"],
    ["EDGE_NODE_TIMEOUT_MS", "0"],
    ["EDGE_NODE_RETENTION_HOURS", "0"],
    ["EDGE_LOG_LEVEL", "loud"],
    ["EDGE_GRPC_ADDRESS", "no-port"],
    ["EDGE_GRPC_ADDRESS", "127.0.0.1:70000"],
    ["EDGE_DEV", "yes"],
  ])("rejects %s=%s with an error naming the variable", (variable, value) => {
    const error = loadError({ EDGE_ADMIN_TOKEN: T, [variable]: value });
    expect(isEdgeError(error) && error.code).toBe("EDGE_INVALID_CONFIG");
    expect(error.message).toContain(variable);
  });

  it("rejects a default limit above its maximum, naming both variables", () => {
    const error = loadError({
      EDGE_ADMIN_TOKEN: T,
      EDGE_DEFAULT_MEMORY_MB: "1024",
      EDGE_MAX_MEMORY_MB: "512",
    });
    expect(error.message).toContain("EDGE_DEFAULT_MEMORY_MB");
    expect(error.message).toContain("EDGE_MAX_MEMORY_MB");
  });

  it("ignores variables it does not own", () => {
    expect(() =>
      loadConfig({ EDGE_ADMIN_TOKEN: T, EDGE_SOMETHING_ELSE: "x", HOME: "elsewhere" }),
    ).not.toThrow();
  });
});
