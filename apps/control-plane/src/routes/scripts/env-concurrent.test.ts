import { randomBytes } from "node:crypto";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createRedisStore } from "../../store/redis.js";
import type { Store } from "../../store/types.js";
import { type Harness, type HarnessOptions, HELLO, startHarness } from "../../test-harness.js";
import { startTestRedis, type TestRedis } from "../../testing/test-redis.js";
import { WRITE_ATTEMPTS } from "./retry-conflict.js";

const SECRETS_KEY = randomBytes(32).toString("hex");
const V2 = 'export default { fetch() { return new Response("v2"); } };\n';

let redis: TestRedis;
beforeAll(async () => {
  redis = await startTestRedis();
});
afterAll(async () => {
  await redis?.stop();
});

let h: Harness | undefined;
const stores: Store[] = [];
afterEach(async () => {
  await h?.close();
  h = undefined;
  for (const store of stores.splice(0)) await store.close();
});

async function harness(options: HarnessOptions = {}): Promise<Harness> {
  h = await startHarness({ env: { EDGE_SECRETS_KEY: SECRETS_KEY }, ...options });
  return h;
}

/**
 * On Redis every store call is a round trip, so concurrent requests really do
 * all read the same active version before any of them writes (SQLite answers
 * within the request's own tick, so in one process it rarely interleaves).
 */
const backends: Array<[string, () => Promise<Store | undefined>]> = [
  ["sqlite", async () => undefined],
  [
    "redis",
    async () => {
      const store = await createRedisStore(redis.url, { keyPrefix: redis.uniquePrefix() });
      stores.push(store);
      return store;
    },
  ],
];

describe.each(backends)("concurrent changes to one script's settings on %s", (_backend, openStore) => {
  const start = async (): Promise<Harness> => {
    const store = await openStore();
    return harness(store === undefined ? {} : { store });
  };

  it("keep every change: interleaved PUTs of vars and secrets all land in the final version", async () => {
    const h = await start();
    await h.putJson("/v1/scripts/app", { source: HELLO, vars: { BASE: "1" }, secrets: { ROOT: "r" } });
    const changes = Array.from({ length: 8 }, (_, i) =>
      i % 2 === 0
        ? h.putJson("/v1/scripts/app/vars", { set: { [`VAR_${i}`]: String(i) } })
        : h.putJson("/v1/scripts/app/secrets", { set: { [`SECRET_${i}`]: `s${i}` } }),
    );
    const responses = await Promise.all(changes);
    expect(responses.map((res) => res.statusCode)).toEqual(Array(8).fill(201));
    // Each change made a version of its own, on top of the one before it.
    expect(responses.map((res) => res.json().version).sort((a, b) => a - b)).toEqual([
      2, 3, 4, 5, 6, 7, 8, 9,
    ]);

    const final = await h.request({ method: "GET", url: "/v1/scripts/app" });
    expect(final.json()).toMatchObject({
      version: 9,
      vars: { BASE: "1", VAR_0: "0", VAR_2: "2", VAR_4: "4", VAR_6: "6" },
      secrets: ["ROOT", "SECRET_1", "SECRET_3", "SECRET_5", "SECRET_7"],
    });
    expect((await h.store.getActive("app"))?.source).toBe(HELLO);
  });

  it("keep a settings change made while a code deploy that names no settings is in flight", async () => {
    const h = await start();
    await h.putJson("/v1/scripts/app", { source: HELLO, vars: { BASE: "1" } });
    const responses = await Promise.all([
      h.putJson("/v1/scripts/app/vars", { set: { A: "a" } }),
      h.deploy("app", V2),
      h.putJson("/v1/scripts/app/secrets", { set: { TOKEN: "t" } }),
      h.putJson("/v1/scripts/app/vars", { set: { B: "b" } }),
    ]);
    expect(responses.map((res) => res.statusCode)).toEqual([201, 201, 201, 201]);
    const active = await h.store.getActive("app");
    expect(active).toMatchObject({ version: 5, source: V2, vars: { BASE: "1", A: "a", B: "b" } });
    expect(Object.keys(active?.secrets ?? {})).toEqual(["TOKEN"]);
  });
});

describe("a settings change that keeps losing the race", () => {
  it(`is answered 409 EDGE_CONFLICT after ${WRITE_ATTEMPTS} attempts, having stored nothing of its own`, async () => {
    // Another writer (a second replica, say) changes the script between every read and write of the request.
    const rival = (store: Store): Store => ({
      ...store,
      getActive: async (name) => {
        const active = await store.getActive(name);
        if (active !== null) {
          const { sha256, source, tsSource, limits, secrets } = active;
          const vars = { ...active.vars, RIVAL: String(active.version) };
          await store.putVersion(name, { sha256, source, tsSource, vars, secrets, limits });
        }
        return active;
      },
    });
    const h = await harness({ wrapStore: rival });
    await h.deploy("app", HELLO);

    const res = await h.putJson("/v1/scripts/app/vars", { set: { MINE: "1" } });
    expect(res.statusCode).toBe(409);
    expect(res.json().error).toMatchObject({
      code: "EDGE_CONFLICT",
      message: expect.stringContaining("app"),
    });
    const versions = await h.store.listVersions("app");
    expect(versions).toHaveLength(1 + WRITE_ATTEMPTS);
    expect(versions.filter((v) => "MINE" in v.vars)).toEqual([]);
  });
});
