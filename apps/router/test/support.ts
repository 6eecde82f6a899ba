/**
 * Test support: stand-in PoPs (plain HTTP servers that echo what reached
 * them, as an edge node would serve a script) and a small HTTP client that
 * can set any Host header. The router under test is always the real one.
 */
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  request,
  type Server,
} from "node:http";
import { type AddressInfo, createServer as createTcpServer, type Socket } from "node:net";
import type { RoutingNode } from "@edge/routing";

export const CITIES = {
  frankfurt: { lat: 50.1109, lon: 8.6821 },
  virginia: { lat: 38.9445, lon: -77.4558 },
  singapore: { lat: 1.3521, lon: 103.8198 },
} as const;

export const geo = (city: keyof typeof CITIES) => `${CITIES[city].lat},${CITIES[city].lon}`;

export function node(id: string, pop: string, city: keyof typeof CITIES, httpAddress: string): RoutingNode {
  return { id, pop, ...CITIES[city], httpAddress, status: "healthy", inFlight: 0 };
}

export interface SeenRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface FakePop {
  pop: string;
  address: string;
  port: number;
  seen: SeenRequest[];
  /** Lets the `/stream` response finish (it sends its first chunk at once) and `/hold` start. */
  release(): void;
  close(): Promise<void>;
}

function readAll(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

/**
 * A stand-in PoP. `/stream` sends "first\n" and waits for `release()`;
 * `/hold` sends nothing at all until `release()` (a live node whose script is
 * slow); `/echo-stream` streams the request body straight back; anything
 * else answers JSON describing the request.
 */
export async function startFakePop(pop: string, host = "127.0.0.1"): Promise<FakePop> {
  const seen: SeenRequest[] = [];
  let release: () => void = () => {};
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  const server: Server = createServer(async (req, res) => {
    if (req.url === "/stream") {
      seen.push({ method: req.method ?? "", url: req.url, headers: req.headers, body: "" });
      res.writeHead(200, { "content-type": "text/plain", "x-edge-pop": pop });
      res.write("first\n");
      await released;
      res.end("second\n");
      return;
    }
    if (req.url === "/hold") {
      const body = await readAll(req);
      seen.push({ method: req.method ?? "", url: req.url, headers: req.headers, body });
      await released;
      res.writeHead(200, { "content-type": "text/plain", "x-edge-pop": pop });
      res.end("late\n");
      return;
    }
    if (req.url === "/echo-stream") {
      res.writeHead(200, { "content-type": "application/octet-stream", "x-edge-pop": pop });
      req.pipe(res);
      return;
    }
    const body = await readAll(req);
    seen.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, body });
    const text = JSON.stringify({ pop, method: req.method, url: req.url, headers: req.headers, body });
    res.writeHead(201, [
      "content-type",
      "application/json",
      "x-edge-pop",
      pop,
      "set-cookie",
      "a=1",
      "set-cookie",
      "b=2",
      "connection",
      "keep-alive",
    ]);
    res.end(text);
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    pop,
    port,
    address: `${host}:${port}`,
    seen,
    release: () => release(),
    async close() {
      release();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export interface FrozenPop {
  address: string;
  /** Connections accepted so far. */
  connections(): number;
  close(): Promise<void>;
}

/**
 * A frozen PoP: accepts TCP connections (as the kernel does for a SIGSTOPped
 * or wedged process) and never reads past its buffer nor writes a byte.
 */
export async function startFrozenPop(host = "127.0.0.1"): Promise<FrozenPop> {
  const sockets = new Set<Socket>();
  let accepted = 0;
  const server = createTcpServer((socket) => {
    accepted += 1;
    sockets.add(socket);
    socket.on("error", () => {});
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    address: `${host}:${port}`,
    connections: () => accepted,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A port nothing listens on (bound, then closed): connecting to it is refused. */
export async function refusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  rawHeaders: string[];
  body: string;
}

/** One HTTP request with full control over headers (Host included). */
export function send(
  port: number,
  options: { method?: string; path?: string; headers?: Record<string, string | string[]>; body?: string },
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        method: options.method ?? "GET",
        path: options.path ?? "/",
        headers: options.headers,
        agent: false,
      },
      (res) => {
        readAll(res).then(
          (body) =>
            resolve({ status: res.statusCode ?? 0, headers: res.headers, rawHeaders: res.rawHeaders, body }),
          reject,
        );
      },
    );
    req.on("error", reject);
    req.end(options.body);
  });
}
