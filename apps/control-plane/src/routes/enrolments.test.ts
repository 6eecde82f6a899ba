import { createHash } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type Harness, startHarness } from "../test-harness.js";

let h: Harness;

beforeEach(async () => {
  h = await startHarness({ env: { EDGE_NODE_ENROLMENT: "1" } });
});
afterEach(async () => {
  await h.close();
});

const post = (payload: unknown) =>
  h.request({ method: "POST", url: "/v1/nodes/enrolments", payload: payload as Record<string, unknown> });

describe("node enrolments API", () => {
  it("issues a token once, stores only its sha256 and never shows it again", async () => {
    const res = await post({ nodeId: "fra-1", pop: "fra" });
    expect(res.statusCode).toBe(201);
    const body = res.json() as {
      nodeId: string;
      pop: string;
      token: string;
      createdAt: string;
      enforced: boolean;
    };
    expect(body).toMatchObject({ nodeId: "fra-1", pop: "fra", enforced: true });
    expect(body.token).toMatch(/^edge_node_[A-Za-z0-9_-]{43}$/);

    const stored = await h.store.getEnrolment("fra-1");
    expect(stored?.tokenSha256).toBe(createHash("sha256").update(body.token).digest("hex"));

    const list = await h.request({ method: "GET", url: "/v1/nodes/enrolments" });
    expect(list.json()).toEqual({
      enforced: true,
      enrolments: [{ nodeId: "fra-1", pop: "fra", createdAt: body.createdAt }],
    });
    const one = await h.request({ method: "GET", url: "/v1/nodes/enrolments/fra-1" });
    expect(one.json()).toEqual({ nodeId: "fra-1", pop: "fra", createdAt: body.createdAt });
    expect(list.body + one.body).not.toContain(body.token);
    expect(list.body + one.body).not.toContain(stored?.tokenSha256);
  });

  it("answers 409 EDGE_ENROLMENT_EXISTS for a node id enrolled already, keeping the first token", async () => {
    await post({ nodeId: "fra-1", pop: "fra" });
    const before = await h.store.getEnrolment("fra-1");
    const res = await post({ nodeId: "fra-1", pop: "iad" });
    expect(res.statusCode).toBe(409);
    expect(res.json().error.code).toBe("EDGE_ENROLMENT_EXISTS");
    expect(await h.store.getEnrolment("fra-1")).toEqual(before);
  });

  it.each([
    [{}],
    [{ nodeId: "fra-1" }],
    [{ nodeId: "FRA-1", pop: "fra" }],
    [{ nodeId: "fra\r\n1", pop: "fra" }],
    [{ nodeId: "fra-1", pop: "f".repeat(64) }],
    [{ nodeId: "fra-1", pop: "fra", extra: 1 }],
  ])("answers 400 EDGE_INVALID_BODY for %o", async (payload) => {
    const res = await post(payload);
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe("EDGE_INVALID_BODY");
    expect(await h.store.listEnrolments()).toEqual([]);
  });

  it("revokes an enrolment (204), ends the node's streams through the hub, then answers 404", async () => {
    await post({ nodeId: "sin-1", pop: "sin" });
    const res = await h.request({ method: "DELETE", url: "/v1/nodes/enrolments/sin-1" });
    expect(res.statusCode).toBe(204);
    expect(h.hub.revoked).toEqual(["sin-1"]);
    expect(await h.store.getEnrolment("sin-1")).toBeNull();
    const again = await h.request({ method: "DELETE", url: "/v1/nodes/enrolments/sin-1" });
    expect(again.statusCode).toBe(404);
    expect(again.json().error.code).toBe("EDGE_ENROLMENT_NOT_FOUND");
    const get = await h.request({ method: "GET", url: "/v1/nodes/enrolments/sin-1" });
    expect(get.statusCode).toBe(404);
  });

  it("answers 400 EDGE_INVALID_NAME for a malformed node id in the path", async () => {
    const res = await h.request({ method: "DELETE", url: "/v1/nodes/enrolments/Bad_Id" });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe("EDGE_INVALID_NAME");
  });

  it("needs the admin token", async () => {
    const res = await h.request({
      method: "POST",
      url: "/v1/nodes/enrolments",
      headers: { authorization: "Bearer nope" },
      payload: { nodeId: "fra-1", pop: "fra" },
    });
    expect(res.statusCode).toBe(401);
    expect(await h.store.listEnrolments()).toEqual([]);
  });
});
