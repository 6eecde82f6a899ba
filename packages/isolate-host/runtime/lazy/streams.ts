/**
 * Entry of the lazily loaded streams bundle (runtime-dist/lazy-streams.js):
 * web-streams-polyfill. The bundle's completion value is this module's
 * namespace, handed to runtime/lazy.ts.
 */
export * from "web-streams-polyfill";
