import { afterEach, describe, expect, it } from "vitest";
import { type Harness, HELLO, startHarness } from "../../test-harness.js";

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function harness(env: Record<string, string> = {}): Promise<Harness> {
  h = await startHarness({ env });
  return h;
}

describe("Cron Triggers in the deploy envelope", () => {
  it("stores the crons with the version and shows them in GET /v1/scripts/:name", async () => {
    const h = await harness();
    const res = await h.putJson("/v1/scripts/job", {
      source: HELLO,
      triggers: { crons: ["*/5 * * * *", "0  0 * * MON"] },
    });
    expect(res.statusCode).toBe(201);
    const view = await h.request({ method: "GET", url: "/v1/scripts/job" });
    expect(view.json()).toMatchObject({ triggers: { crons: ["*/5 * * * *", "0 0 * * MON"] } });
  });

  it("refuses a bad expression with 400 EDGE_INVALID_CRON naming it, storing nothing", async () => {
    const h = await harness();
    const res = await h.putJson("/v1/scripts/job", {
      source: HELLO,
      triggers: { crons: ["*/5 * * * *", "61 * * * *"] },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe("EDGE_INVALID_CRON");
    expect(res.json().error.message).toContain('"61 * * * *"');
    expect(await h.store.getActive("job")).toBeNull();
  });

  it("refuses more than five crons, and a seconds field unless EDGE_CRON_SECONDS=1", async () => {
    const h = await harness();
    const six = Array.from({ length: 6 }, (_, i) => `${i} * * * *`);
    const many = await h.putJson("/v1/scripts/job", { source: HELLO, triggers: { crons: six } });
    expect(many.statusCode).toBe(400);
    expect(many.json().error.code).toBe("EDGE_INVALID_CRON");
    const seconds = await h.putJson("/v1/scripts/job", {
      source: HELLO,
      triggers: { crons: ["* * * * * *"] },
    });
    expect(seconds.statusCode).toBe(400);
    expect(seconds.json().error.code).toBe("EDGE_INVALID_CRON");
    await h.close();
    const h2 = await harness({ EDGE_CRON_SECONDS: "1" });
    const ok = await h2.putJson("/v1/scripts/job", { source: HELLO, triggers: { crons: ["* * * * * *"] } });
    expect(ok.statusCode).toBe(201);
  });

  it("keeps the crons across a deploy without triggers, a vars change and a rollback", async () => {
    const h = await harness();
    await h.putJson("/v1/scripts/job", { source: HELLO, triggers: { crons: ["0 * * * *"] } });
    await h.putJson("/v1/scripts/job", { source: `${HELLO}// v2\n` });
    expect((await h.store.getActive("job"))?.crons).toEqual(["0 * * * *"]);
    await h.putJson("/v1/scripts/job/vars", { vars: { A: "1" } });
    expect((await h.store.getActive("job"))?.crons).toEqual(["0 * * * *"]);
    await h.putJson("/v1/scripts/job", { source: HELLO, triggers: { crons: [] } });
    expect((await h.store.getActive("job"))?.crons).toEqual([]);
    const back = await h.request({
      method: "POST",
      url: "/v1/scripts/job/rollback",
      payload: { version: 1 },
    });
    expect(back.statusCode).toBeLessThan(300);
    expect((await h.store.getActive("job"))?.crons).toEqual(["0 * * * *"]);
  });
});

describe("POST /v1/scripts/:name/scheduled", () => {
  it("refuses a bad cron (400), an unknown script (404), and answers 503 EDGE_NO_NODE without nodes", async () => {
    const h = await harness();
    await h.putJson("/v1/scripts/job", { source: HELLO });
    const post = (url: string, payload: unknown) =>
      h.request({
        method: "POST",
        url,
        headers: { "content-type": "application/json" },
        payload: JSON.stringify(payload),
      });
    const bad = await post("/v1/scripts/job/scheduled", { cron: "nope" });
    expect([bad.statusCode, bad.json().error.code]).toEqual([400, "EDGE_INVALID_CRON"]);
    const missing = await post("/v1/scripts/other/scheduled", {});
    expect([missing.statusCode, missing.json().error.code]).toEqual([404, "EDGE_SCRIPT_NOT_FOUND"]);
    const none = await post("/v1/scripts/job/scheduled", {});
    expect([none.statusCode, none.json().error.code]).toEqual([503, "EDGE_NO_NODE"]);
  });
});
