/**
 * Stands in for tr46 inside whatwg-url. UTS #46 processing of an ordinary
 * host name (ASCII letters, digits, "-" and ".", no "xn--" label) with the
 * URL standard's options is exactly lower-casing: nothing to map but A-Z, no
 * Bidi or joiner rules apply, no Punycode. That covers nearly every request,
 * and it skips tr46's Unicode tables and regular expressions, which cost
 * milliseconds to build in each fresh isolate. Anything else goes to tr46.
 */

interface Tr46Options {
  checkHyphens?: boolean;
  useSTD3ASCIIRules?: boolean;
  verifyDNSLength?: boolean;
  transitionalProcessing?: boolean;
}

interface Tr46 {
  toASCII(domain: string, options?: Tr46Options): string | null;
  toUnicode(domain: string, options?: Tr46Options): { domain: string; error: boolean };
}

const SIMPLE_HOST = /^[A-Za-z0-9.-]*$/;
const ACE_LABEL = /(?:^|\.)xn--/;

let full: Tr46 | null = null;

function tr46(): Tr46 {
  full ??= require("tr46") as Tr46;
  return full;
}

/** The URL standard's (non-strict) options; only those are known to reduce to lower-casing. */
function urlStandardOptions(options: Tr46Options | undefined): boolean {
  return (
    options?.checkHyphens !== true &&
    options?.useSTD3ASCIIRules !== true &&
    options?.verifyDNSLength !== true &&
    options?.transitionalProcessing !== true
  );
}

export function toASCII(domain: string, options?: Tr46Options): string | null {
  if (urlStandardOptions(options) && SIMPLE_HOST.test(domain)) {
    const lower = domain.toLowerCase();
    if (!ACE_LABEL.test(lower)) return lower;
  }
  return tr46().toASCII(domain, options);
}

export function toUnicode(domain: string, options?: Tr46Options): { domain: string; error: boolean } {
  return tr46().toUnicode(domain, options);
}
