import { describe, expect, it } from "vitest";
import { CLIENT_GEO_HEADER, parseClientGeoHeader } from "./client-geo-header.js";
import { EARTH_RADIUS_KM, haversineKm, isGeoPoint } from "./geo-point.js";

const london = { lat: 51.5074, lon: -0.1278 };
const paris = { lat: 48.8566, lon: 2.3522 };

describe("haversineKm", () => {
  it("measures London to Paris as about 344 km", () => {
    expect(haversineKm(london, paris)).toBeGreaterThan(340);
    expect(haversineKm(london, paris)).toBeLessThan(347);
  });

  it("is zero for the same point and the same both ways", () => {
    expect(haversineKm(paris, paris)).toBe(0);
    expect(haversineKm(london, paris)).toBeCloseTo(haversineKm(paris, london), 9);
  });

  it("gives half the circumference for antipodal points and crosses the date line the short way", () => {
    expect(haversineKm({ lat: 0, lon: 0 }, { lat: 0, lon: 180 })).toBeCloseTo(Math.PI * EARTH_RADIUS_KM, 6);
    // 179.5°E to 179.5°W on the equator is 1° apart, not 359°.
    expect(haversineKm({ lat: 0, lon: 179.5 }, { lat: 0, lon: -179.5 })).toBeCloseTo(111.2, 0);
  });

  it("accepts only finite coordinates within range as a point", () => {
    expect(isGeoPoint({ lat: 90, lon: -180 })).toBe(true);
    expect(isGeoPoint({ lat: 90.1, lon: 0 })).toBe(false);
    expect(isGeoPoint({ lat: 0, lon: Number.NaN })).toBe(false);
  });
});

describe(`the ${CLIENT_GEO_HEADER} header`, () => {
  it("reads lat,lon in decimal degrees, with or without spaces and signs", () => {
    expect(parseClientGeoHeader("1.35,103.8")).toEqual({ ok: true, point: { lat: 1.35, lon: 103.8 } });
    expect(parseClientGeoHeader(" -33.87 , +151.21 ")).toEqual({
      ok: true,
      point: { lat: -33.87, lon: 151.21 },
    });
    expect(parseClientGeoHeader("0,0")).toEqual({ ok: true, point: { lat: 0, lon: 0 } });
  });

  it.each([
    ["", "expected"],
    ["1.35", "expected"],
    ["1.35,103.8,7", "expected"],
    ["1.35;103.8", "expected"],
    ["1e1,2", "expected"],
    ["0x10,2", "expected"],
    ["Infinity,0", "expected"],
    ["1.35,103.8, 2,3", "expected"],
    ["91,0", "latitude 91 is outside"],
    ["0,-180.5", "longitude -180.5 is outside"],
    [`1,${"1".repeat(80)}`, "longer than 64"],
  ])("refuses %j with a reason", (value, reason) => {
    const result = parseClientGeoHeader(value);
    expect(result.ok).toBe(false);
    expect(result.ok ? "" : result.reason).toContain(reason);
  });
});
