// A small closed-loop HTTP load generator: `connections` keep-alive connections, each sending the
// next request as soon as the previous answer is read, for `durationMs`. Used for every target
// so the figures compare like with like.
import { Agent, request } from "node:http";

export async function load({ port, host, method, path, headers, body, connections, durationMs }) {
  const agent = new Agent({ keepAlive: true, maxSockets: connections });
  const latencies = [];
  let ok = 0;
  let failed = 0;
  const deadline = performance.now() + durationMs;
  const once = () =>
    new Promise((resolve) => {
      const started = performance.now();
      const req = request(
        { host: "127.0.0.1", port, method, path, agent, headers: { ...Object.fromEntries(headers), host } },
        (res) => {
          res.on("data", () => {});
          res.on("end", () => {
            if (res.statusCode === 200) ok++;
            else failed++;
            latencies.push(performance.now() - started);
            resolve();
          });
        },
      );
      req.on("error", () => {
        failed++;
        resolve();
      });
      req.end(body ?? undefined);
    });
  const started = performance.now();
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (performance.now() < deadline) await once();
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const at = (p) => latencies[Math.min(latencies.length - 1, Math.ceil(p * latencies.length) - 1)] ?? 0;
  return { rps: ok / seconds, ok, failed, p50: at(0.5), p99: at(0.99) };
}
