import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { requestWithHost } from "@edge/edge-node/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CliProcess } from "./harness/cli.js";

const v = (text: string) =>
  `export default { fetch(request) { console.log("${text} saw", new URL(request.url).pathname); return new Response("${text}"); } };\n`;

describe("edgectl dev", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "edge-e2e-dev-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("serves a file on one local node, prints its console lines, and reloads it when it changes", async () => {
    const file = join(dir, "worker.js");
    writeFileSync(file, v("first"));
    const dev = new CliProcess(["dev", file, "--name", "app", "--port", "0"], { env: {}, home: dir });
    try {
      await dev.waitFor(() => dev.stdout.some((l) => l.startsWith("ready: v1 on ")), "v1 ready", 30_000);
      const url = new URL(dev.stdout.find((l) => l.startsWith("ready: v1"))?.split(" on ")[1] ?? "");
      expect(url.hostname).toBe("app.localhost");
      const base = `http://127.0.0.1:${url.port}`;
      expect((await requestWithHost(base, "app.localhost", "/x")).text).toBe("first");
      await dev.waitFor(() => dev.stdout.some((l) => l.includes("first saw /x")), "the console line");

      writeFileSync(file, v("second"));
      await dev.waitFor(() => dev.stdout.some((l) => l.startsWith("ready: v2 on ")), "v2 ready", 30_000);
      expect((await requestWithHost(base, "app.localhost", "/y")).text).toBe("second");

      writeFileSync(file, "export default { fetch( {");
      await dev.waitFor(() => dev.stderr.some((l) => l.startsWith("v3 rejected")), "v3 rejected", 30_000);
      expect((await requestWithHost(base, "app.localhost", "/z")).text).toBe("second");
    } finally {
      expect(await dev.stop("SIGINT")).toBe(0);
    }
  });
});
