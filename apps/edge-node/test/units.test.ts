import { describe, expect, it } from "vitest";
import { Backoff } from "../src/agent/backoff.js";
import { scriptNameFromHost } from "../src/http/host.js";

describe("scriptNameFromHost", () => {
  it("takes the one label in front of the zone, ignoring port and case", () => {
    expect(scriptNameFromHost("hello.localhost:8101", "localhost")).toBe("hello");
    expect(scriptNameFromHost("My-App.edge.test", "edge.test")).toBe("my-app");
    expect(scriptNameFromHost("hello.localhost.", "localhost")).toBe("hello");
  });

  it("rejects hosts outside the zone, nested labels and invalid names", () => {
    expect(scriptNameFromHost(undefined, "localhost")).toBeNull();
    expect(scriptNameFromHost("localhost:8101", "localhost")).toBeNull();
    expect(scriptNameFromHost("a.b.localhost", "localhost")).toBeNull();
    expect(scriptNameFromHost("-bad.localhost", "localhost")).toBeNull();
    expect(scriptNameFromHost("hello.example.com", "localhost")).toBeNull();
    expect(scriptNameFromHost("[::1]:8101", "localhost")).toBeNull();
    expect(scriptNameFromHost("hello.localhost:http", "localhost")).toBeNull();
  });
});

describe("Backoff", () => {
  it("grows by 1.6 per failure within ±20 % jitter, caps, and starts over after reset", () => {
    const noJitter = new Backoff(1000, 5000, () => 0.5);
    expect([noJitter.next(), noJitter.next(), noJitter.next(), noJitter.next(), noJitter.next()]).toEqual([
      1000, 1600, 2560, 4096, 5000,
    ]);
    noJitter.reset();
    expect(noJitter.next()).toBe(1000);
    expect(new Backoff(1000, 5000, () => 0).next()).toBe(800);
    expect(new Backoff(1000, 5000, () => 0.999999).next()).toBe(1200);
  });
});
