import { describe, expect, it } from "vitest";
import { clientIpOf, TrustedProxies } from "./client-ip.js";
import { networkContains, networkOf, parseCidr, parseIp } from "./ip.js";

describe("parseIp", () => {
  it("reads IPv4 and IPv6 into canonical text", () => {
    expect(parseIp("192.0.2.1")).toMatchObject({ family: 4, text: "192.0.2.1", value: 0xc0000201n });
    expect(parseIp("2001:DB8:0:0:0:0:0:1")).toMatchObject({ family: 6, text: "2001:db8::1" });
    expect(parseIp("2001:db8:0:0:1:0:0:1")?.text).toBe("2001:db8::1:0:0:1");
    expect(parseIp("::")?.text).toBe("::");
    expect(parseIp("[::1]")?.text).toBe("::1");
    expect(parseIp("fe80::1%eth0")?.text).toBe("fe80::1");
    expect(parseIp("64:ff9b::192.0.2.33")?.text).toBe("64:ff9b::c000:221");
  });

  it("turns IPv4-mapped IPv6, as dual-stack sockets report peers, into IPv4", () => {
    expect(parseIp("::ffff:203.0.113.9")).toMatchObject({ family: 4, text: "203.0.113.9" });
    expect(parseIp("::ffff:cb00:7109")).toMatchObject({ family: 4, text: "203.0.113.9" });
  });

  it("answers null for anything that is not an address", () => {
    for (const bad of ["", "localhost", "256.0.0.1", "1.2.3", "1:2:3:4:5:6:7:8:9", "::g"]) {
      expect(parseIp(bad)).toBeNull();
    }
  });
});

describe("parseCidr", () => {
  it("reads networks of both families and bare addresses as single hosts", () => {
    expect(parseCidr("10.0.0.0/8")).toMatchObject({
      ok: true,
      network: { family: 4, prefixLength: 8, text: "10.0.0.0/8" },
    });
    expect(parseCidr("2001:db8::/32")).toMatchObject({
      ok: true,
      network: { family: 6, text: "2001:db8::/32" },
    });
    expect(parseCidr("127.0.0.1")).toMatchObject({ ok: true, network: { prefixLength: 32 } });
    expect(parseCidr("::1")).toMatchObject({ ok: true, network: { prefixLength: 128 } });
  });

  it("refuses host bits, long prefixes and garbage with the reason", () => {
    expect(parseCidr("10.1.2.3/8")).toEqual({
      ok: false,
      reason: expect.stringContaining("the network is 10.0.0.0/8"),
    });
    expect(parseCidr("10.0.0.0/33")).toEqual({ ok: false, reason: expect.stringContaining("0..32") });
    expect(parseCidr("10.0.0.0/")).toMatchObject({ ok: false });
    expect(parseCidr("10.0.0.0/-1")).toMatchObject({ ok: false });
    expect(parseCidr("nope/8")).toMatchObject({ ok: false });
  });

  it("matches addresses of the same family inside the network only", () => {
    const net = parseCidr("2001:db8:abcd::/48");
    if (!net.ok) throw new Error(net.reason);
    expect(networkContains(net.network, parseIp("2001:db8:abcd:12::7")!)).toBe(true);
    expect(networkContains(net.network, parseIp("2001:db8:abce::1")!)).toBe(false);
    // 0.0.0.0/0 holds every IPv4 address and no IPv6 one.
    expect(networkContains(networkOf(parseIp("1.2.3.4")!, 0), parseIp("::1")!)).toBe(false);
    expect(networkContains(networkOf(parseIp("1.2.3.4")!, 0), parseIp("9.9.9.9")!)).toBe(true);
    expect(networkOf(parseIp("198.51.100.77")!, 24).text).toBe("198.51.100.0/24");
  });
});

describe("the client address behind trusted proxies", () => {
  const trusted = TrustedProxies.parse("127.0.0.1, 10.0.0.0/8, ::1");

  it("uses the socket peer when it is not a trusted proxy, whatever X-Forwarded-For says", () => {
    expect(clientIpOf("198.51.100.7", "203.0.113.1", trusted)).toMatchObject({
      ip: { text: "198.51.100.7" },
      via: "socket",
    });
  });

  it("takes the first untrusted hop from the right when the peer is trusted", () => {
    const got = clientIpOf("::ffff:127.0.0.1", "6.6.6.6, 203.0.113.1, 10.1.2.3", trusted);
    expect(got).toMatchObject({ ip: { text: "203.0.113.1" }, via: "x-forwarded-for", note: null });
  });

  it("reads several X-Forwarded-For headers as one list", () => {
    expect(clientIpOf("10.0.0.1", ["203.0.113.1", "10.0.0.2"], trusted).ip?.text).toBe("203.0.113.1");
  });

  it("stops at a malformed hop and says so, keeping the last address it could trust", () => {
    const got = clientIpOf("127.0.0.1", "203.0.113.1, not-an-ip", trusted);
    expect(got.ip?.text).toBe("127.0.0.1");
    expect(got.note).toContain("not-an-ip");
  });

  it("refuses a bad trusted-proxy list entry by name", () => {
    expect(() => TrustedProxies.parse("127.0.0.1, 10.0.0.1/8")).toThrow(/host bits/);
  });
});
