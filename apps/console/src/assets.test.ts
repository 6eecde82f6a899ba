import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { errorLine } from "../web/src/views/editor.js";
import { CONSOLE_SECURITY_HEADERS, loadConsoleAssets } from "./assets.js";

describe("the console's files", () => {
  it("are read once with their content types and content-derived etags; unknown kinds are left out", () => {
    const dir = mkdtempSync(join(tmpdir(), "console-assets-"));
    try {
      writeFileSync(join(dir, "index.html"), "<!doctype html>");
      writeFileSync(join(dir, "app.js"), "export {};");
      writeFileSync(join(dir, "notes.txt"), "not served");
      const assets = loadConsoleAssets(pathToFileURL(`${dir}/`));
      expect([...assets.keys()].sort()).toEqual(["app.js", "index.html"]);
      expect(assets.get("index.html")?.contentType).toBe("text/html; charset=utf-8");
      const etag = assets.get("app.js")?.etag;
      writeFileSync(join(dir, "app.js"), "export const changed = 1;");
      expect(loadConsoleAssets(pathToFileURL(`${dir}/`)).get("app.js")?.etag).not.toBe(etag);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("are none when the console was not built", () => {
    expect(loadConsoleAssets(pathToFileURL("/nonexistent-console-dir/")).size).toBe(0);
  });

  it("go out under a Content-Security-Policy that allows no inline script and no other origin", () => {
    const csp = CONSOLE_SECURITY_HEADERS["content-security-policy"]!;
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).not.toMatch(/unsafe|\*/);
  });
});

describe("the editor's error line", () => {
  it("is read from the API's file:line:column message, and absent when there is none", () => {
    expect(errorLine('from-console.js:3:24: Unexpected ";"')).toBe(3);
    expect(errorLine("app.ts:12:1: Expected identifier")).toBe(12);
    expect(errorLine("The script has no default export")).toBeNull();
  });
});
