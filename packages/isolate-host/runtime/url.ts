/**
 * URL and URLSearchParams (runtime/url/): the URL Standard's API, with the
 * parsing done by the host (src/host/url.ts). Small enough for the core.
 * The names below are kept for the modules that used whatwg-url before.
 */
import { URLSearchParams } from "./url/search-params.js";
import { URL } from "./url/url.js";

interface UrlClasses {
  URL: typeof URL;
  URLSearchParams: typeof URLSearchParams;
}

const classes: UrlClasses = { URL, URLSearchParams };

export function loadedWhatwgUrl(): UrlClasses | null {
  return classes;
}

export function whatwgUrl(): UrlClasses {
  return classes;
}

export { URL, URLSearchParams };
