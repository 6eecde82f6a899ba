import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CidrTable, cidrTableFromJson, loadCidrTableFile } from "./cidr-table.js";
import { isRoutingError } from "./errors.js";
import type { GeoSource } from "./geo-source.js";
import { parseIp } from "./ip.js";
import { locateClient } from "./locate.js";
import { openMmdbSource } from "./mmdb-source.js";
import { openGeoSources } from "./route-client.js";
import { cityRecord, writeMmdb } from "./testing/mmdb-writer.js";

let dir: string;
let mmdbPath: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "edge-routing-"));
  mmdbPath = join(dir, "city.mmdb");
  writeFileSync(
    mmdbPath,
    writeMmdb([
      { cidr: "81.0.0.0/8", record: cityRecord(50.11, 8.68, "Frankfurt", "DE") },
      { cidr: "81.20.0.0/16", record: cityRecord(52.52, 13.4, "Berlin", "DE") },
      { cidr: "3.0.0.0/8", record: cityRecord(38.9, -77.4, "Ashburn", "US") },
      { cidr: "2406:3000::/32", record: cityRecord(1.35, 103.8, "Singapore", "SG") },
      { cidr: "100.64.0.0/10", record: { country: { iso_code: "ZZ" } } },
    ]),
  );
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const ip = (text: string) => parseIp(text)!;

describe("an MMDB city database read through maxmind", () => {
  it("locates IPv4 and IPv6 addresses with the matched network and its prefix length", async () => {
    const mmdb = await openMmdbSource(mmdbPath);
    expect(mmdb.lookup(ip("3.4.5.6"))).toEqual({
      point: { lat: 38.9, lon: -77.4 },
      network: "3.0.0.0/8",
      prefixLength: 8,
      label: "Ashburn, US",
    });
    expect(mmdb.lookup(ip("2406:3000:11::5"))).toMatchObject({
      network: "2406:3000::/32",
      prefixLength: 32,
      label: "Singapore, SG",
    });
    expect(mmdb.lookup(ip("::ffff:3.4.5.6"))?.label).toBe("Ashburn, US");
  });

  it("prefers the longest matching network", async () => {
    const mmdb = await openMmdbSource(mmdbPath);
    expect(mmdb.lookup(ip("81.20.9.9"))).toMatchObject({ network: "81.20.0.0/16", label: "Berlin, DE" });
    // The /16 splits the /8: outside it, the answer holds for the widest network the tree still
    // shares with the /16's neighbours (81.0.0.0/12 here), as in real GeoLite2 files.
    expect(mmdb.lookup(ip("81.1.2.3"))).toMatchObject({
      network: "81.0.0.0/12",
      prefixLength: 12,
      label: "Frankfurt, DE",
    });
    expect(mmdb.lookup(ip("81.128.0.1"))).toMatchObject({ network: "81.128.0.0/9", label: "Frankfurt, DE" });
  });

  it("knows nothing about unlisted addresses or records without a location", async () => {
    const mmdb = await openMmdbSource(mmdbPath);
    expect(mmdb.lookup(ip("192.0.2.1"))).toBeNull();
    expect(mmdb.lookup(ip("2001:db8::1"))).toBeNull();
    expect(mmdb.lookup(ip("100.64.1.1"))).toBeNull();
  });

  it("fails to open a missing or corrupt file with EDGE_INVALID_CONFIG", async () => {
    const corrupt = join(dir, "corrupt.mmdb");
    writeFileSync(corrupt, "not a database");
    for (const path of [join(dir, "missing.mmdb"), corrupt]) {
      const error = await openMmdbSource(path).catch((e: unknown) => e);
      expect(isRoutingError(error) && error.code).toBe("EDGE_INVALID_CONFIG");
    }
  });
});

describe("the operator's CIDR table", () => {
  const table = new CidrTable([
    { cidr: "10.0.0.0/8", lat: 50.11, lon: 8.68, label: "office" },
    { cidr: "10.9.0.0/16", lat: 1.35, lon: 103.8 },
    { cidr: "fd00:1::/32", lat: 38.9, lon: -77.4, label: "lab v6" },
  ]);

  it("matches the longest prefix, IPv4 and IPv6", () => {
    expect(table.lookup(ip("10.9.1.1"))).toMatchObject({
      network: "10.9.0.0/16",
      point: { lat: 1.35 },
      label: null,
    });
    expect(table.lookup(ip("10.8.1.1"))).toMatchObject({
      network: "10.0.0.0/8",
      prefixLength: 8,
      label: "office",
    });
    expect(table.lookup(ip("fd00:1:2::3"))).toMatchObject({ network: "fd00:1::/32", label: "lab v6" });
    expect(table.lookup(ip("11.0.0.1"))).toBeNull();
  });

  it("refuses bad files with the entry and the problem named", async () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ cidr: "10.0.0.0/8" }, /top level/],
      [[{ cidr: "10.0.0.0/8", lat: 95, lon: 0 }], /entry 0.lat/],
      [[{ cidr: "10.0.0.0/8", lat: 1, lon: 1, city: "x" }], /entry 0/],
      [
        [
          { cidr: "10.0.0.0/8", lat: 1, lon: 1 },
          { cidr: "10.0.0.1/8", lat: 1, lon: 1 },
        ],
        /entry 1: .*host bits/,
      ],
    ];
    for (const [json, message] of cases) expect(() => cidrTableFromJson(json)).toThrow(message);
    const notJson = join(dir, "bad.json");
    writeFileSync(notJson, "{");
    await expect(loadCidrTableFile(notJson)).rejects.toThrow(/not valid JSON/);
    await expect(loadCidrTableFile(join(dir, "none.json"))).rejects.toThrow(/cannot read/);
  });
});

describe("locating a client", () => {
  let sources: GeoSource[];

  beforeAll(async () => {
    const cidrPath = join(dir, "cidr.json");
    writeFileSync(
      cidrPath,
      JSON.stringify([
        { cidr: "81.0.0.0/8", lat: 0, lon: 0 },
        { cidr: "192.168.0.0/16", lat: 1.35, lon: 103.8, label: "lab" },
      ]),
    );
    sources = await openGeoSources({ geoMmdb: mmdbPath, geoCidrFile: cidrPath });
  });

  it("believes a well-formed x-edge-client-geo header first", () => {
    expect(locateClient({ geoHeader: "1.35,103.8", ip: "81.1.1.1" }, sources)).toMatchObject({
      point: { lat: 1.35, lon: 103.8 },
      source: "header",
      notes: [],
    });
  });

  it("asks the MMDB before the CIDR table, and the table for what the MMDB does not know", () => {
    expect(locateClient({ ip: "81.1.1.1" }, sources)).toMatchObject({
      source: "mmdb",
      label: "Frankfurt, DE",
    });
    expect(locateClient({ ip: "192.168.4.4" }, sources)).toMatchObject({
      source: "cidr",
      point: { lat: 1.35, lon: 103.8 },
      network: "192.168.0.0/16",
      prefixLength: 16,
      label: "lab",
    });
  });

  it("ignores a malformed header with a note and falls back to the IP", () => {
    const located = locateClient({ geoHeader: "somewhere nice", ip: "3.3.3.3" }, sources);
    expect(located).toMatchObject({ source: "mmdb", label: "Ashburn, US" });
    expect(located.notes).toEqual([
      expect.stringMatching(/^x-edge-client-geo ignored: expected "<lat>,<lon>"/),
    ]);
  });

  it("answers an unknown location, with every reason, for an unknown or invalid IP", () => {
    expect(locateClient({ geoHeader: "999,0", ip: "192.0.2.1" }, sources)).toEqual({
      point: null,
      source: null,
      ip: "192.0.2.1",
      network: null,
      prefixLength: null,
      label: null,
      notes: ["x-edge-client-geo ignored: latitude 999 is outside -90..90", "no geo data for 192.0.2.1"],
    });
    expect(locateClient({ ip: "not-an-ip" }, sources).notes).toEqual(['"not-an-ip" is not an IP address']);
    expect(locateClient({ ip: "192.0.2.1" }, []).notes).toEqual([
      "no geo source is configured to locate 192.0.2.1",
    ]);
    expect(locateClient({}, sources)).toMatchObject({ point: null, notes: [] });
  });
});
