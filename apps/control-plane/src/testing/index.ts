export { type RedisServer, type RedisServerOptions, startRedisServer } from "./redis-server.js";
export { createTestCertificates, type TestCertificates } from "./test-certs.js";
export { deleteRedisKeys, startTestRedis, type TestRedis } from "./test-redis.js";
