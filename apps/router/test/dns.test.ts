import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cidrTableFromJson, type GeoSource, openMmdbSource } from "@edge/routing";
import { cityRecord, writeMmdb } from "@edge/routing/testing";
import type { DecodedPacket, OptAnswer } from "dns-packet";
import { encode } from "dns-packet";
import { pino } from "pino";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.js";
import { answerDnsMessage } from "../src/dns/answer.js";
import { createNodeAddressBook } from "../src/dns/node-addresses.js";
import { staticNodeView } from "../src/node-view/types.js";
import { createDecider } from "../src/route-decider.js";
import { createRouter, type Router } from "../src/router.js";
import { aQuery, dig, frame, tcpExchange, udpExchange, udpQuery } from "./dns-client.js";
import { node } from "./support.js";

const logger = pino({ level: "silent" });

/** The client-subnet option of an answer, as dns-packet decodes it. */
const ecsOf = (packet: DecodedPacket) =>
  (packet.additionals?.find((a) => a.type === "OPT") as OptAnswer | undefined)?.options.find(
    (o) => o.code === 8,
  ) as { family: number; sourcePrefixLength: number; scopePrefixLength: number; ip: string } | undefined;

const answersOf = (packet: DecodedPacket) =>
  (packet.answers ?? []).map((a) => [a.type, "data" in a ? a.data : null, "ttl" in a ? a.ttl : null]);

describe("the router's DNS server", () => {
  let dir: string;
  let sources: GeoSource[];
  let view: ReturnType<typeof staticNodeView>;
  let router: Router;
  let port: number;

  const cluster = () => [
    node("fra-1", "fra", "frankfurt", "127.0.0.2:8101"),
    node("iad-1", "iad", "virginia", "127.0.0.3:8102"),
    node("sin-1", "sin", "singapore", "127.0.0.4:8103"),
  ];

  beforeAll(async () => {
    // A city database the test writes itself (the MaxMind DB format), plus the operator's table
    // placing the resolver (127.0.0.1, this test) in Virginia.
    dir = mkdtempSync(join(tmpdir(), "edge-router-dns-"));
    const mmdb = join(dir, "city.mmdb");
    writeFileSync(
      mmdb,
      writeMmdb([
        { cidr: "81.0.0.0/8", record: cityRecord(50.11, 8.68, "Frankfurt", "DE") },
        { cidr: "1.32.0.0/16", record: cityRecord(1.29, 103.85, "Singapore", "SG") },
        { cidr: "2406:3000::/32", record: cityRecord(1.29, 103.85, "Singapore", "SG") },
      ]),
    );
    sources = [
      await openMmdbSource(mmdb),
      cidrTableFromJson([{ cidr: "127.0.0.0/8", lat: 38.9, lon: -77.4 }]),
    ];
    view = staticNodeView([]);
    const config = loadConfig({
      EDGE_ADMIN_TOKEN: "unused",
      EDGE_ROUTER_PORT: "0",
      EDGE_DNS_PORT: "0",
      EDGE_DEFAULT_POP: "fra",
      EDGE_ZONE: "edge.test",
    });
    router = createRouter(config, { logger, view, geoSources: sources });
    ({ dnsPort: port } = await router.start());
  });

  afterAll(async () => {
    await router?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  beforeEach(() => {
    view.nodes = cluster();
  });

  it("answers A with the PoP nearest the client subnet, echoing ECS with the matched network as scope", async () => {
    const frankfurt = await udpQuery(port, aQuery("hello.edge.test", { subnet: "81.2.3.0/24" }));
    expect(frankfurt.rcode).toBe("NOERROR");
    expect(frankfurt.flag_aa).toBe(true);
    expect(frankfurt.id).toBe(4242);
    expect(answersOf(frankfurt)).toEqual([["A", "127.0.0.2", 20]]);
    expect(ecsOf(frankfurt)).toMatchObject({
      family: 1,
      sourcePrefixLength: 24,
      scopePrefixLength: 8,
      ip: "81.2.3.0",
    });

    const singapore = await udpQuery(port, aQuery("Hello.Edge.Test", { subnet: "1.32.200.0/24" }));
    expect(answersOf(singapore)).toEqual([["A", "127.0.0.4", 20]]);
    expect(singapore.answers?.[0]?.name).toBe("Hello.Edge.Test");
    expect(ecsOf(singapore)?.scopePrefixLength).toBe(16);
  });

  it("reads an IPv6 client subnet", async () => {
    const reply = await udpQuery(port, aQuery("hello.edge.test", { subnet: "2406:3000:1::/48" }));
    expect(answersOf(reply)).toEqual([["A", "127.0.0.4", 20]]);
    expect(ecsOf(reply)).toMatchObject({ family: 2, sourcePrefixLength: 48, scopePrefixLength: 32 });
  });

  it("uses the resolver's own address without ECS, and adds no OPT record when the query had none", async () => {
    const reply = await udpQuery(port, aQuery("hello.edge.test"));
    expect(answersOf(reply)).toEqual([["A", "127.0.0.3", 20]]);
    expect(reply.additionals).toEqual([]);
  });

  it("answers an unlocated subnet from the default PoP, scoped to that subnet only", async () => {
    const reply = await udpQuery(port, aQuery("hello.edge.test", { subnet: "192.0.2.0/24" }));
    expect(answersOf(reply)).toEqual([["A", "127.0.0.2", 20]]);
    expect(ecsOf(reply)?.scopePrefixLength).toBe(24);
  });

  it("falls back to the resolver address for a /0 subnet, with scope 0", async () => {
    const reply = await udpQuery(port, aQuery("hello.edge.test", { subnet: "0.0.0.0/0" }));
    expect(answersOf(reply)).toEqual([["A", "127.0.0.3", 20]]);
    expect(ecsOf(reply)).toMatchObject({ sourcePrefixLength: 0, scopePrefixLength: 0 });
  });

  it("moves clients to the next nearest PoP when theirs is not healthy", async () => {
    view.nodes = cluster().map((n) => (n.pop === "sin" ? { ...n, status: "disconnected" as const } : n));
    const reply = await udpQuery(port, aQuery("hello.edge.test", { subnet: "1.32.200.0/24" }));
    expect(answersOf(reply)).toEqual([["A", "127.0.0.2", 20]]);
  });

  it("answers SERVFAIL when no node is healthy, and again once one is", async () => {
    view.nodes = [];
    expect((await udpQuery(port, aQuery("hello.edge.test"))).rcode).toBe("SERVFAIL");
    view.nodes = cluster();
    expect((await udpQuery(port, aQuery("hello.edge.test"))).rcode).toBe("NOERROR");
  });

  it("answers AAAA for an IPv4-only PoP with NODATA and the SOA for negative caching", async () => {
    const reply = await udpQuery(port, aQuery("hello.edge.test", { type: "AAAA" }));
    expect(reply.rcode).toBe("NOERROR");
    expect(reply.answers).toEqual([]);
    expect(reply.authorities?.[0]).toMatchObject({
      type: "SOA",
      name: "edge.test",
      ttl: 20,
      data: { minimum: 20 },
    });
  });

  it("answers SOA and NS at the apex, NXDOMAIN below a script name and REFUSED outside the zone", async () => {
    const soa = await udpQuery(port, aQuery("edge.test", { type: "SOA" }));
    expect(soa.answers?.[0]).toMatchObject({
      type: "SOA",
      data: { mname: "ns.edge.test", rname: "hostmaster.edge.test", minimum: 20 },
    });
    const ns = await udpQuery(port, aQuery("edge.test", { type: "NS" }));
    expect(answersOf(ns)).toEqual([["NS", "ns.edge.test", 3600]]);
    const txt = await udpQuery(port, aQuery("hello.edge.test", { type: "TXT" }));
    expect([txt.rcode, txt.answers?.length, txt.authorities?.[0]?.type]).toEqual(["NOERROR", 0, "SOA"]);
    const deeper = await udpQuery(port, aQuery("a.b.edge.test"));
    expect([deeper.rcode, deeper.flag_aa, deeper.authorities?.[0]?.type]).toEqual(["NXDOMAIN", true, "SOA"]);
    const outside = await udpQuery(port, aQuery("example.com"));
    expect([outside.rcode, outside.flag_aa, outside.answers?.length]).toEqual(["REFUSED", false, 0]);
  });

  it("survives malformed packets: garbage gets FORMERR, runts and responses get nothing", async () => {
    const garbage = Buffer.from("12ffffffffffffffffffffffffffffff", "hex");
    garbage.writeUInt16BE(0x1234, 0);
    garbage.writeUInt16BE(0x0100, 2);
    const formerr = await udpExchange(port, [garbage]);
    expect(formerr.readUInt16BE(0)).toBe(0x1234);
    expect(formerr.readUInt16BE(2) & 0x800f).toBe(0x8001);

    // A runt and a response packet go unanswered: the first datagram back answers the good query after them.
    const response = encode({ ...aQuery("hello.edge.test", { id: 7 }), type: "response" });
    const first = await udpExchange(port, [
      Buffer.from([1, 2, 3]),
      response,
      encode(aQuery("hello.edge.test", { id: 8 })),
    ]);
    expect(first.readUInt16BE(0)).toBe(8);
  });

  it("refuses a bad client subnet with FORMERR and an unknown EDNS version with BADVERS", async () => {
    const badBits = aQuery("hello.edge.test", { id: 9 });
    badBits.additionals = [
      {
        type: "OPT",
        name: ".",
        udpPayloadSize: 1232,
        extendedRcode: 0,
        ednsVersion: 0,
        flags: 0,
        flag_do: false,
        // 81.2.3.1/24: a bit set beyond the source prefix.
        options: [{ code: 8, ip: undefined, data: Buffer.from([0, 1, 24, 0, 81, 2, 3, 1]) }],
      },
    ];
    expect((await udpQuery(port, badBits)).rcode).toBe("FORMERR");
    const v1 = aQuery("hello.edge.test", { subnet: "81.2.3.0/24" });
    const opt = v1.additionals?.[0] as OptAnswer;
    opt.ednsVersion = 1;
    const badvers = await udpQuery(port, v1);
    expect(badvers.additionals?.find((a) => a.type === "OPT")).toMatchObject({ extendedRcode: 1 });
    // The server still answers normally afterwards.
    expect((await udpQuery(port, aQuery("hello.edge.test"))).rcode).toBe("NOERROR");
  });

  it("answers over TCP, several queries on one connection, in order", async () => {
    const [a, b] = await tcpExchange(
      port,
      [
        frame(encode(aQuery("hello.edge.test", { id: 1, subnet: "81.2.3.0/24" }))),
        frame(encode(aQuery("hello.edge.test", { id: 2, subnet: "1.32.0.0/16" }))),
      ],
      2,
    );
    expect([a?.id, answersOf(a!)]).toEqual([1, [["A", "127.0.0.2", 20]]]);
    expect([b?.id, answersOf(b!)]).toEqual([2, [["A", "127.0.0.4", 20]]]);
  });

  it("answers a garbage TCP message with FORMERR and keeps the connection for the next query", async () => {
    const garbage = Buffer.alloc(20, 0xff);
    garbage.writeUInt16BE(77, 0);
    garbage.writeUInt16BE(0x0100, 2);
    const [bad, good] = await tcpExchange(
      port,
      [frame(garbage), frame(encode(aQuery("hello.edge.test", { id: 78 })))],
      2,
    );
    expect([bad?.id, bad?.rcode]).toEqual([77, "FORMERR"]);
    expect([good?.id, good?.rcode]).toEqual([78, "NOERROR"]);
  });

  it("gives the real dig client the nearest PoP for +subnet, over UDP and TCP", async () => {
    const frankfurt = await dig(port, ["hello.edge.test", "A", "+subnet=81.2.3.0/24"]);
    expect(frankfurt).toMatch(/status: NOERROR/);
    expect(frankfurt).toMatch(/flags: qr aa rd;/);
    expect(frankfurt).toContain("; CLIENT-SUBNET: 81.2.3.0/24/8");
    expect(frankfurt).toMatch(/^hello\.edge\.test\.\s+20\s+IN\s+A\s+127\.0\.0\.2$/m);

    const singapore = await dig(port, ["+tcp", "hello.edge.test", "A", "+subnet=1.32.9.0/24"]);
    expect(singapore).toMatch(/^hello\.edge\.test\.\s+20\s+IN\s+A\s+127\.0\.0\.4$/m);
    expect(singapore).toContain("(TCP)");

    expect(await dig(port, ["+short", "hello.edge.test", "A"])).toBe("127.0.0.3\n");
    expect(await dig(port, ["nope.a.edge.test"])).toMatch(/status: NXDOMAIN/);
    expect(await dig(port, ["example.org"])).toMatch(/status: REFUSED/);
  });
});

describe("DNS answers for PoPs advertised by host name", () => {
  it("resolves the host name and answers both families from it", async () => {
    const view = staticNodeView([node("fra-1", "fra", "frankfurt", "edge-fra:8101")]);
    const resolved: string[] = [];
    // Stands in for the OS resolver (what compose's service names go through).
    const addresses = createNodeAddressBook(20_000, async (host) => {
      resolved.push(host);
      return [
        { address: "10.1.0.7", family: 4 },
        { address: "fd00::7", family: 6 },
      ];
    });
    const deps = {
      zone: "edge.test",
      ttl: 20,
      nsName: "ns.edge.test",
      serial: 1,
      decide: createDecider(view, [], loadConfig({ EDGE_ADMIN_TOKEN: "x" }).routing),
      addresses,
      logger,
    };
    const { decode } = await import("dns-packet");
    const a = decode((await answerDnsMessage(encode(aQuery("x.edge.test")), "127.0.0.1", "udp", deps))!);
    const aaaa = decode(
      (await answerDnsMessage(encode(aQuery("x.edge.test", { type: "AAAA" })), "127.0.0.1", "udp", deps))!,
    );
    expect(answersOf(a)).toEqual([["A", "10.1.0.7", 20]]);
    expect(answersOf(aaaa)).toEqual([["AAAA", "fd00::7", 20]]);
    // Cached for the TTL: one lookup for both queries.
    expect(resolved).toEqual(["edge-fra"]);
  });
});
