import { describe, expect, it } from "vitest";
import { loadRoutingSettings, ROUTING_ENV_VARS } from "./settings.js";

describe("routing settings", () => {
  it("defaults to no geo data, no default PoP and distance-only ranking", () => {
    expect(loadRoutingSettings({})).toEqual({
      geoMmdb: null,
      geoCidrFile: null,
      defaultPop: null,
      loadPenaltyKm: 0,
      maxInFlight: 0,
    });
  });

  it("reads every variable, treating empty ones as unset", () => {
    expect(
      loadRoutingSettings({
        EDGE_GEO_MMDB: "geo/city.mmdb",
        EDGE_GEO_CIDR_FILE: "",
        EDGE_DEFAULT_POP: "fra",
        EDGE_ROUTING_LOAD_PENALTY_KM: "2.5",
        EDGE_ROUTING_MAX_IN_FLIGHT: "64",
      }),
    ).toEqual({
      geoMmdb: "geo/city.mmdb",
      geoCidrFile: null,
      defaultPop: "fra",
      loadPenaltyKm: 2.5,
      maxInFlight: 64,
    });
    expect(ROUTING_ENV_VARS).toContain("EDGE_DEFAULT_POP");
  });

  it("names each bad variable", () => {
    expect(() =>
      loadRoutingSettings({ EDGE_DEFAULT_POP: "Frankfurt!", EDGE_ROUTING_MAX_IN_FLIGHT: "-1" }),
    ).toThrow(/EDGE_DEFAULT_POP: .*; EDGE_ROUTING_MAX_IN_FLIGHT/);
  });
});
