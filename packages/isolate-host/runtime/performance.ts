/**
 * `performance.now()`/`timeOrigin` and `navigator`, as Workers have them.
 *
 * As in Workers (a Spectre mitigation), the clock behind `performance.now()`
 * does not move while script code runs: it reads the time of the last I/O
 * event the isolate saw (the request arriving, a timer firing, a host
 * operation completing), so timing a loop measures nothing. `Date` is left as is.
 */

const dateNow = Date.now;
const timeOrigin = dateNow();
let lastIo = 0;

/** Called when control comes back from I/O: `performance.now()` moves to the present. */
export function markIo(): void {
  lastIo = dateNow() - timeOrigin;
}

class Performance {
  get timeOrigin(): number {
    return timeOrigin;
  }
  now(): number {
    return lastIo;
  }
  toJSON(): { timeOrigin: number } {
    return { timeOrigin };
  }
  get [Symbol.toStringTag](): string {
    return "Performance";
  }
}

/** The user agent Workers report, so libraries that detect the platform by it behave as there. */
class Navigator {
  get userAgent(): string {
    return "Cloudflare-Workers";
  }
  /** Workers report 1: a request has one thread. */
  get hardwareConcurrency(): number {
    return 1;
  }
  get [Symbol.toStringTag](): string {
    return "Navigator";
  }
}

export const performance = Object.freeze(new Performance());
export const navigator = Object.freeze(new Navigator());
