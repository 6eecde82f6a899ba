/** `performance.now()` (milliseconds since the isolate started) and `navigator`. */

const timeOrigin = Date.now();
const dateNow = Date.now;

export const performance = Object.freeze({
  timeOrigin,
  now(): number {
    return dateNow() - timeOrigin;
  },
  toJSON(): { timeOrigin: number } {
    return { timeOrigin };
  },
});

/** The user agent Workers reports, so libraries that detect the platform by it behave as there. */
export const navigator = Object.freeze({ userAgent: "Cloudflare-Workers" });
