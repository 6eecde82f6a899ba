import { expect, it } from "vitest";
import type { ContractContext } from "./contract.js";
import type { NodeEnrolment } from "./types.js";

const enrolment = (nodeId: string, pop = "fra"): NodeEnrolment => ({
  nodeId,
  pop,
  tokenSha256: "ab".repeat(32),
  createdAt: 1_000,
});

/** The contract of node enrolments (per-node credentials). Registered inside `storeContract`. */
export function enrolmentContract(c: ContractContext): void {
  it("stores an enrolment once per node id, lists them by id and revokes them", async (ctx) => {
    const store = c.store();
    expect(await store.createEnrolment(enrolment("fra-2"))).toBe(true);
    expect(await store.createEnrolment(enrolment("fra-1"))).toBe(true);
    // A second enrolment of the same id is refused and leaves the first one as it was.
    expect(await store.createEnrolment({ ...enrolment("fra-1", "iad"), tokenSha256: "cd".repeat(32) })).toBe(
      false,
    );
    expect(await store.getEnrolment("fra-1")).toEqual(enrolment("fra-1"));
    expect(await store.getEnrolment("nope")).toBeNull();
    expect((await store.listEnrolments()).map((e) => e.nodeId)).toEqual(["fra-1", "fra-2"]);
    if (c.canReopen()) expect(await (await c.reopen(ctx)).getEnrolment("fra-2")).toEqual(enrolment("fra-2"));
    expect(await store.deleteEnrolment("fra-1")).toBe(true);
    expect(await store.deleteEnrolment("fra-1")).toBe(false);
    expect(await store.getEnrolment("fra-1")).toBeNull();
    expect(await store.createEnrolment(enrolment("fra-1", "iad"))).toBe(true);
    expect((await store.getEnrolment("fra-1"))?.pop).toBe("iad");
  });
}
