// Latency as one user sees it: a single keep-alive connection, requests either paced (`gapMs`
// apart, so the node is idle between them) or back to back (the next sent as soon as the
// previous answer is read). The same generator runs against every target.
import { Agent, request } from "node:http";

export async function latency({ port, host, method, path, headers, body, count, gapMs }) {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const samples = [];
  let failed = 0;
  try {
    for (let i = 0; i < count; i++) {
      const started = performance.now();
      const status = await new Promise((resolve) => {
        const req = request(
          { host: "127.0.0.1", port, method, path, agent, headers: { ...Object.fromEntries(headers), host } },
          (res) => {
            res.on("data", () => {});
            res.on("end", () => resolve(res.statusCode));
          },
        );
        req.on("error", () => resolve(0));
        req.end(body ?? undefined);
      });
      if (status === 200) samples.push(performance.now() - started);
      else failed++;
      if (gapMs > 0) await new Promise((resolve) => setTimeout(resolve, gapMs));
    }
  } finally {
    agent.destroy();
  }
  samples.sort((a, b) => a - b);
  const at = (p) => samples[Math.min(samples.length - 1, Math.ceil(p * samples.length) - 1)] ?? 0;
  return { p50: at(0.5), p99: at(0.99), count: samples.length, failed };
}
