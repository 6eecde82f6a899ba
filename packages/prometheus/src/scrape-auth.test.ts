import { describe, expect, it } from "vitest";
import { scrapeAuthorizer } from "./scrape-auth.js";

describe("scrapeAuthorizer", () => {
  it("lets every scrape in when no token is configured", () => {
    expect(scrapeAuthorizer(null)(undefined)).toBe(true);
  });

  it("accepts only the configured bearer token", () => {
    const allowed = scrapeAuthorizer("s3cret-token");
    expect(allowed("Bearer s3cret-token")).toBe(true);
    expect(allowed("bearer   s3cret-token ")).toBe(true);
    expect(allowed(undefined)).toBe(false);
    expect(allowed("Bearer s3cret-token2")).toBe(false);
    expect(allowed("Basic s3cret-token")).toBe(false);
    expect(allowed("s3cret-token")).toBe(false);
  });
});
