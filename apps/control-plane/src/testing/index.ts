export { type RedisSentinel, type SentinelOptions, startRedisSentinel } from "./redis-sentinel.js";
export { type RedisServer, type RedisServerOptions, startRedisServer } from "./redis-server.js";
export { createTestCertificates, type TestCertificates } from "./test-certs.js";
export { deleteRedisKeys, startTestRedis, type TestRedis } from "./test-redis.js";
