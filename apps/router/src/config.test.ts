import { ROUTING_ENV_VARS } from "@edge/routing";
import { describe, expect, it } from "vitest";
import { loadConfig, ROUTER_ENV_VARS } from "./config.js";

describe("router configuration", () => {
  it("has the documented defaults", () => {
    const config = loadConfig({ EDGE_ADMIN_TOKEN: "t" });
    expect(config).toMatchObject({
      httpHost: "127.0.0.1",
      httpPort: 8000,
      dnsHost: "127.0.0.1",
      dnsPort: 5353,
      dnsTtl: 20,
      dnsNsName: "ns.localhost",
      zone: "localhost",
      apiUrl: "http://127.0.0.1:8080",
      adminToken: "t",
      pollIntervalMs: 1000,
      connectTimeoutMs: 2000,
      responseTimeoutMs: 10_000,
      holdDownMs: 10_000,
      redirectUrl: "http://{hostname}:{port}{path}",
      routing: { geoMmdb: null, geoCidrFile: null, defaultPop: null, loadPenaltyKm: 0, maxInFlight: 0 },
    });
    expect(config.trustedProxies.networks).toEqual([]);
  });

  it("accepts port 0 for both servers, a zone with a trailing dot and a list of trusted proxies", () => {
    const config = loadConfig({
      EDGE_ADMIN_TOKEN: "t",
      EDGE_ROUTER_PORT: "0",
      EDGE_DNS_PORT: "0",
      EDGE_ZONE: "Edge.Example.COM.",
      EDGE_API_URL: "http://control-plane:8080/",
      EDGE_ROUTER_TRUSTED_PROXIES: "10.0.0.0/8, ::1",
      EDGE_DEFAULT_POP: "iad",
    });
    expect(config).toMatchObject({
      httpPort: 0,
      dnsPort: 0,
      zone: "edge.example.com",
      apiUrl: "http://control-plane:8080",
    });
    expect(config.trustedProxies.networks.map((n) => n.text)).toEqual(["10.0.0.0/8", "::1/128"]);
    expect(config.routing.defaultPop).toBe("iad");
  });

  it("uses the development token only when EDGE_DEV=1", () => {
    expect(loadConfig({ EDGE_DEV: "1" }).adminToken).toBe("dev-admin-token");
    expect(() => loadConfig({})).toThrow(/EDGE_ADMIN_TOKEN: required/);
  });

  it("names every bad variable", () => {
    expect(() =>
      loadConfig({ EDGE_ADMIN_TOKEN: "t", EDGE_DNS_PORT: "70000", EDGE_API_URL: "ftp://x" }),
    ).toThrow(/EDGE_DNS_PORT: .*EDGE_API_URL/);
    expect(() => loadConfig({ EDGE_ADMIN_TOKEN: "t", EDGE_ROUTER_TRUSTED_PROXIES: "10.0.0.1/8" })).toThrow(
      /EDGE_ROUTER_TRUSTED_PROXIES: .*host bits/,
    );
    expect(() => loadConfig({ EDGE_ADMIN_TOKEN: "t", EDGE_ROUTING_LOAD_PENALTY_KM: "-3" })).toThrow(
      /EDGE_ROUTING_LOAD_PENALTY_KM/,
    );
    expect(() =>
      loadConfig({
        EDGE_ADMIN_TOKEN: "t",
        EDGE_ROUTER_RESPONSE_TIMEOUT_MS: "0",
        EDGE_ROUTER_HOLD_DOWN_MS: "-1",
      }),
    ).toThrow(/EDGE_ROUTER_RESPONSE_TIMEOUT_MS: .*EDGE_ROUTER_HOLD_DOWN_MS/);
    expect(() => loadConfig({ EDGE_ADMIN_TOKEN: "t", EDGE_ROUTER_REDIRECT_URL: "http://x/" })).toThrow(
      /\{path\}/,
    );
  });

  it("lists every variable it reads, the shared routing ones included", () => {
    expect(ROUTER_ENV_VARS).toEqual(
      expect.arrayContaining([
        "EDGE_ROUTER_PORT",
        "EDGE_DNS_PORT",
        "EDGE_ZONE",
        "EDGE_ROUTER_RESPONSE_TIMEOUT_MS",
        "EDGE_ROUTER_HOLD_DOWN_MS",
        ...ROUTING_ENV_VARS,
      ]),
    );
  });
});
