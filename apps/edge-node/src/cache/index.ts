export { writeFileAtomic } from "./atomic-file.js";
export { type CachedConfig, ConfigCache } from "./config-cache.js";
