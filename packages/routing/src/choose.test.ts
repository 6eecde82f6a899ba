import { describe, expect, it } from "vitest";
import { chooseNode, type RoutingNode } from "./choose.js";

const node = (
  id: string,
  pop: string,
  lat: number,
  lon: number,
  extra: Partial<RoutingNode> = {},
): RoutingNode => ({
  id,
  pop,
  lat,
  lon,
  httpAddress: `${pop}.example:80`,
  status: "healthy",
  inFlight: 0,
  ...extra,
});

const fra = node("fra-1", "fra", 50.1109, 8.6821);
const iad = node("iad-1", "iad", 38.9445, -77.4558);
const sin = node("sin-1", "sin", 1.3521, 103.8198);
const cluster = [iad, sin, fra];

const frankfurt = { lat: 50.11, lon: 8.68 };
const virginia = { lat: 38.9, lon: -77.4 };
const singapore = { lat: 1.35, lon: 103.8 };
const sydney = { lat: -33.87, lon: 151.21 };

describe("chooseNode", () => {
  it("sends each client to the PoP in its city", () => {
    expect(chooseNode(cluster, frankfurt).winner?.pop).toBe("fra");
    expect(chooseNode(cluster, virginia).winner?.pop).toBe("iad");
    expect(chooseNode(cluster, singapore).winner?.pop).toBe("sin");
    expect(chooseNode(cluster, sydney).winner?.pop).toBe("sin");
  });

  it("explains every candidate with distance, status, load and rank, nearest first", () => {
    const choice = chooseNode(cluster, singapore);
    expect(choice.basis).toBe("client-location");
    expect(choice.origin).toEqual(singapore);
    expect(choice.candidates.map((c) => [c.id, c.rank])).toEqual([
      ["sin-1", 1],
      ["fra-1", 2],
      ["iad-1", 3],
    ]);
    const [first, second] = choice.candidates;
    expect(first).toMatchObject({
      status: "healthy",
      inFlight: 0,
      skipped: null,
      httpAddress: "sin.example:80",
    });
    expect(first?.distanceKm).toBeLessThan(5);
    expect(second?.distanceKm).toBeGreaterThan(10_000);
    expect(choice.summary).toContain("sin-1 (sin) is the nearest healthy node");
  });

  it("skips unhealthy and disconnected nodes and says why, falling to the next nearest", () => {
    const choice = chooseNode(
      [
        fra,
        iad,
        { ...sin, status: "disconnected" },
        node("sin-2", "sin", 1.35, 103.8, { status: "unhealthy" }),
      ],
      singapore,
    );
    expect(choice.winner?.id).toBe("fra-1");
    expect(
      choice.candidates.filter((c) => c.skipped !== null).map((c) => [c.id, c.skipped, c.rank, c.score]),
    ).toEqual([
      ["sin-1", "disconnected", null, null],
      ["sin-2", "unhealthy", null, null],
    ]);
  });

  it("answers no winner, with a reason, for an empty cluster or one with nothing healthy", () => {
    const empty = chooseNode([], frankfurt);
    expect(empty.winner).toBeNull();
    expect(empty.summary).toBe("no healthy node: no node is known");
    const down = chooseNode([{ ...fra, status: "disconnected" }], frankfurt);
    expect(down.winner).toBeNull();
    expect(down.candidates).toHaveLength(1);
    expect(down.summary).toBe("no healthy node among 1 known");
  });

  it("breaks exact ties by node id, whatever the input order", () => {
    const a = node("b-node", "fra", 50, 8);
    const b = node("a-node", "fra", 50, 8);
    expect(chooseNode([a, b], frankfurt).winner?.id).toBe("a-node");
    expect(chooseNode([b, a], frankfurt).winner?.id).toBe("a-node");
  });

  it("weights distance by load when asked, so a busy near node can lose to an idle farther one", () => {
    const busyFra = { ...fra, inFlight: 100 };
    const london = node("lhr-1", "lhr", 51.47, -0.45);
    expect(chooseNode([busyFra, london], frankfurt).winner?.id).toBe("fra-1");
    const weighted = chooseNode([busyFra, london], frankfurt, { loadPenaltyKm: 10 });
    expect(weighted.winner?.id).toBe("lhr-1");
    expect(weighted.candidates[1]).toMatchObject({ id: "fra-1", distanceKm: 0.2, score: 1000.2 });
  });

  it("skips a node at the in-flight cap as overloaded", () => {
    const choice = chooseNode([{ ...fra, inFlight: 8 }, iad], frankfurt, { maxInFlight: 8 });
    expect(choice.winner?.id).toBe("iad-1");
    expect(choice.candidates.find((c) => c.id === "fra-1")?.skipped).toBe("overloaded");
  });

  it("serves an unlocated client from the default PoP, or from the node nearest to it when it is down", () => {
    const home = chooseNode(cluster, null, { defaultPop: "iad" });
    expect(home).toMatchObject({ basis: "default-pop", winner: { id: "iad-1", distanceKm: 0 } });
    expect(home.summary).toContain("default PoP iad serves it");
    const fallback = chooseNode([fra, { ...iad, status: "disconnected" }, sin], null, { defaultPop: "iad" });
    expect(fallback.winner?.id).toBe("fra-1");
    expect(fallback.summary).toContain("not available");
  });

  it("ranks by load then id when the client cannot be located and no default PoP is known", () => {
    const choice = chooseNode([{ ...fra, inFlight: 2 }, sin, iad], null, {
      defaultPop: "nowhere",
      loadPenaltyKm: 1,
    });
    expect(choice.basis).toBe("none");
    expect(choice.origin).toBeNull();
    expect(choice.candidates.map((c) => c.id)).toEqual(["iad-1", "sin-1", "fra-1"]);
    expect(choice.candidates[0]?.distanceKm).toBeNull();
  });
});
