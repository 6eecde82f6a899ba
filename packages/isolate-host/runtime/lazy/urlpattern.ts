/**
 * Entry of the lazily loaded URLPattern bundle (runtime-dist/lazy-urlpattern.js):
 * urlpattern-polyfill (the URL Pattern Standard), which parses URLs with the
 * runtime's URL. The bundle's completion value is this module's namespace.
 */
export { URLPattern } from "urlpattern-polyfill/urlpattern";
