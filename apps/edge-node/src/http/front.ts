import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import {
  type HostRequest,
  type IsolateRunner,
  isRunError,
  type LogLine,
  type WaitUntilResult,
} from "@edge/isolate-host";
import { scrapeAuthorizer } from "@edge/prometheus";
import type { Logger } from "pino";
import type { EdgeNodeConfig } from "../config.js";
import { describeFailure, errorBody, FRONT_ERRORS, type FrontErrorCode } from "../errors.js";
import type { MetricsCollector } from "../metrics/collector.js";
import type { RequestOutcome } from "../request-outcome.js";
import type { ScriptRegistry } from "../script-registry.js";
import type { EdgeTail } from "../tail/edge-tail.js";
import { clientKey } from "../traffic-split.js";
import { BodyTooLargeError, readBody } from "./body.js";
import {
  applyServerLimits,
  BodyBudget,
  BodyBudgetExceededError,
  headerBytes,
  NODE_HEADERS,
} from "./front-limits.js";
import { scriptNameFromHost } from "./host.js";
import { checkRequestHead, scriptHeaders } from "./request-head.js";

export interface FrontDeps {
  config: EdgeNodeConfig;
  registry: ScriptRegistry;
  runner: IsolateRunner;
  metrics: MetricsCollector;
  tail: EdgeTail;
  /** Prometheus exposition, served at `GET /metrics` on a host outside the zone. */
  prometheus: { readonly contentType: string; metrics(): Promise<string> };
  logger: Logger;
}

export interface Front {
  server: Server;
  /** Requests being served right now. */
  inFlight(): number;
}

const NO_LOGS: readonly LogLine[] = Object.freeze([]);

/** Response headers the node computes itself rather than taking from a script. */
const HOP_BY_HOP = new Set(["content-length", "transfer-encoding", "connection", "keep-alive"]);

/**
 * The node's HTTP entry: `Host: <script>.<zone>` picks the script, and the
 * request runs in a fresh isolate. `GET /healthz` on any other host answers
 * for the node itself.
 */
export function createFront(deps: FrontDeps): Front {
  const { config, registry, runner, metrics, tail } = deps;
  const log = deps.logger.child({ component: "front" });
  const scrapeAllowed = scrapeAuthorizer(config.metricsToken);
  const bodies = new BodyBudget(config.front.maxBodyBytesInFlight);
  let inFlight = 0;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const head = checkRequestHead(req);
    if ("code" in head) {
      sendError(res, head.code, head.message, config.pop);
      return;
    }
    const name = scriptNameFromHost(req.headers.host, config.zone);
    if (name === null) {
      if (req.url === "/metrics" && req.method === "GET") {
        if (scrapeAllowed(req.headers.authorization)) await sendPrometheus(res, deps.prometheus, config.pop);
        else sendError(res, "EDGE_UNAUTHORIZED", "GET /metrics needs the metrics bearer token", config.pop);
        return;
      }
      if (req.url === "/healthz") {
        sendJson(
          res,
          200,
          { status: "ok", nodeId: config.nodeId, pop: config.pop, configVersion: registry.configVersion },
          config.pop,
        );
        return;
      }
      sendError(
        res,
        "EDGE_UNKNOWN_HOST",
        `host ${JSON.stringify(req.headers.host ?? "")} is not <script>.${config.zone}`,
        config.pop,
      );
      return;
    }
    const script = registry.get(name, clientKey(req));
    if (!script) {
      sendError(
        res,
        "EDGE_SCRIPT_NOT_FOUND",
        `no script named ${JSON.stringify(name)} is deployed`,
        config.pop,
      );
      return;
    }
    const versionHeader = String(script.version);
    const startedAt = Date.now();
    // Origin-form only: an absolute-form target (proxy style) is read as "/".
    const url = `http://${req.headers.host}${req.url?.startsWith("/") ? req.url : "/"}`;
    let status = 500;
    let cpuMs = 0;
    let ranIsolate = false;
    let errorCode: string | null = null;
    let errorMessage: string | null = null;
    let logs = NO_LOGS;
    let isolateStartMs: number | null = null;
    let memoryBytes: number | null = null;
    let background: Promise<WaitUntilResult> | null = null;
    // The client going away before its response ends the run (and its subrequests).
    const gone = new AbortController();
    const onClose = (): void => {
      if (!res.writableFinished) gone.abort();
    };
    res.once("close", onClose);
    const account = bodies.account();
    try {
      const body = await readBody(req, config.maxRequestBytes, account.take);
      const request: HostRequest = {
        method: req.method ?? "GET",
        url,
        headers: scriptHeaders(req.rawHeaders),
        body,
        hops: head.hops,
      };
      ranIsolate = true;
      // A version not prepared yet (restored from the cache, or dropped as idle) is prepared now, once.
      const prepared = await script.prepare();
      const result = await runner.runStreaming(prepared, request, { signal: gone.signal });
      cpuMs = result.cpuMs;
      logs = result.logs;
      isolateStartMs = result.startMs;
      memoryBytes = result.heapBytes;
      status = result.response.status;
      background = result.waitUntil;
      if (headerBytes(result.response.headers) > config.front.maxResponseHeaderBytes) {
        await result.response.body.return?.();
        throw new ScriptResponseError(
          "EDGE_RESPONSE_HEADERS_TOO_LARGE",
          `the script's response headers are larger than ${config.front.maxResponseHeaderBytes} bytes`,
        );
      }
      const headers: string[] = [];
      for (const [k, v] of result.response.headers) {
        const lower = k.toLowerCase();
        if (!HOP_BY_HOP.has(lower) && !NODE_HEADERS.has(lower)) headers.push(k, v);
      }
      // A body known up front gets a content-length; a stream goes out chunked as the script writes it.
      if (result.response.length !== null) headers.push("content-length", String(result.response.length));
      headers.push("x-edge-pop", config.pop, "x-edge-script-version", versionHeader);
      try {
        res.writeHead(result.response.status, headers);
      } catch (err) {
        await result.response.body.return?.();
        throw new ScriptResponseError(
          "EDGE_BAD_RESPONSE",
          `the script's response head cannot be sent: ${(err as Error).message}`,
        );
      }
      if (req.method === "HEAD") {
        await result.response.body.return?.();
        res.end();
      } else {
        const failure = await sendBody(res, result.response.body);
        if (failure) ({ code: errorCode, message: errorMessage } = failure);
      }
    } catch (err) {
      // An upload cut off by its client fails with ECONNRESET ("aborted").
      const clientGone = gone.signal.aborted || (err as NodeJS.ErrnoException | null)?.code === "ECONNRESET";
      if (clientGone || (isRunError(err) && err.code === "EDGE_CLIENT_CLOSED")) {
        // Nobody is left to answer; not the node's failure either.
        status = FRONT_ERRORS.EDGE_CLIENT_CLOSED;
        errorCode = "EDGE_CLIENT_CLOSED";
        errorMessage = "the client closed the connection before the response";
        if (isRunError(err)) ({ cpuMs, logs } = err);
        res.destroy();
      } else if (err instanceof ScriptResponseError) {
        status = FRONT_ERRORS[err.code];
        errorCode = err.code;
        errorMessage = err.message;
        sendError(res, err.code, err.message, config.pop, versionHeader);
      } else if (err instanceof BodyBudgetExceededError) {
        status = FRONT_ERRORS.EDGE_OVERLOADED;
        errorCode = "EDGE_OVERLOADED";
        errorMessage = err.message;
        res.setHeader("retry-after", "1");
        sendError(res, "EDGE_OVERLOADED", err.message, config.pop, versionHeader);
      } else if (isRunError(err)) {
        ({ cpuMs, logs, status, code: errorCode } = err);
        errorMessage = describeFailure(err);
        // Not the script's fault: the client may simply come back.
        if (err.code === "EDGE_OVERLOADED") res.setHeader("retry-after", "1");
        sendJson(res, err.status, errorBody(err.code, err.message, err.location), config.pop, versionHeader);
      } else if (err instanceof BodyTooLargeError) {
        status = FRONT_ERRORS.EDGE_BODY_TOO_LARGE;
        errorCode = "EDGE_BODY_TOO_LARGE";
        errorMessage = err.message;
        sendError(res, "EDGE_BODY_TOO_LARGE", err.message, config.pop, versionHeader);
      } else {
        log.error({ err, script: name }, "request failed in the host");
        status = FRONT_ERRORS.EDGE_INTERNAL;
        errorCode = "EDGE_INTERNAL";
        errorMessage = "internal error";
        sendError(res, "EDGE_INTERNAL", "internal error", config.pop, versionHeader);
      }
    } finally {
      account.release();
      res.off("close", onClose);
      // One object per request feeds both the metrics and the tail.
      const outcome: RequestOutcome = {
        script: name,
        version: script.version,
        method: req.method ?? "GET",
        url,
        status,
        startedAt,
        latencyMs: performance.now() - started,
        cpuMs,
        ranIsolate,
        errorCode,
        errorMessage,
        logs,
        isolateStartMs,
        memoryBytes,
      };
      if (background === null) observe(outcome);
      // ctx.waitUntil() work runs on after the response: its CPU time, console
      // lines and any limit it hit belong to this request, so it is counted
      // (and tailed) once that work is over. The promise never rejects.
      else void background.then((after) => observe(withBackground(outcome, after)));
    }
  }

  function observe(outcome: RequestOutcome): void {
    metrics.record(outcome);
    tail.observe(outcome);
  }

  const server = createServer({ maxHeaderSize: 32 * 1024 }, (req, res) => {
    inFlight += 1;
    res.once("close", () => {
      inFlight -= 1;
    });
    handle(req, res).catch((err: unknown) => {
      log.error({ err }, "unhandled error in the HTTP front");
      if (!res.headersSent) sendError(res, "EDGE_INTERNAL", "internal error", config.pop);
      else res.destroy();
    });
  });
  applyServerLimits(server, config.front);
  return { server, inFlight: () => inFlight };
}

/** A response head the node cannot send as the script made it. */
class ScriptResponseError extends Error {
  constructor(
    readonly code: "EDGE_RESPONSE_HEADERS_TOO_LARGE" | "EDGE_BAD_RESPONSE",
    message: string,
  ) {
    super(message);
  }
}

/**
 * Writes a streamed body, waiting for the socket to drain when it is full.
 * A client that goes away cancels the script's stream; a script whose stream
 * fails after the head went out can only be answered by cutting the response.
 */
async function sendBody(
  res: ServerResponse,
  body: AsyncIterableIterator<Uint8Array>,
): Promise<{ code: string; message: string } | null> {
  try {
    for await (const chunk of body) {
      if (res.destroyed) break;
      if (!res.write(chunk)) await drainOrClose(res);
    }
  } catch (err) {
    res.destroy();
    if (isRunError(err)) return { code: err.code, message: describeFailure(err) };
    throw err;
  }
  res.end();
  return null;
}

function drainOrClose(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off("drain", done);
      res.off("close", done);
      resolve();
    };
    res.once("drain", done);
    res.once("close", done);
  });
}

function withBackground(outcome: RequestOutcome, after: WaitUntilResult): RequestOutcome {
  const failed = after.error !== null && outcome.errorCode === null;
  return {
    ...outcome,
    cpuMs: after.cpuMs,
    logs: after.logs.length > 0 ? [...outcome.logs, ...after.logs] : outcome.logs,
    errorCode: failed ? (after.error?.code ?? null) : outcome.errorCode,
    errorMessage: failed && after.error ? describeFailure(after.error) : outcome.errorMessage,
  };
}

async function sendPrometheus(
  res: ServerResponse,
  prometheus: FrontDeps["prometheus"],
  pop: string,
): Promise<void> {
  const body = await prometheus.metrics();
  res.writeHead(200, {
    "content-type": prometheus.contentType,
    "content-length": String(Buffer.byteLength(body)),
    "x-edge-pop": pop,
  });
  res.end(body);
}

function sendError(
  res: ServerResponse,
  code: FrontErrorCode,
  message: string,
  pop: string,
  version?: string,
): void {
  sendJson(res, FRONT_ERRORS[code], errorBody(code, message), pop, version);
}

function sendJson(res: ServerResponse, status: number, body: unknown, pop: string, version?: string): void {
  const payload = JSON.stringify(body);
  const headers: Record<string, string> = {
    "content-type": "application/json; charset=utf-8",
    "content-length": String(Buffer.byteLength(payload)),
    "x-edge-pop": pop,
  };
  if (version) headers["x-edge-script-version"] = version;
  res.writeHead(status, headers);
  res.end(payload);
}
