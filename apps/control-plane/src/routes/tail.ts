import type { ServerResponse } from "node:http";
import type { FastifyPluginAsync } from "fastify";
import { EdgeError } from "../errors.js";
import { tailFilterQuery, toTailFilter } from "../tail/filter-query.js";
import type { TailSession } from "../tail/session.js";
import { traceView } from "../tail/trace-view.js";
import { checkNameParam, type NameParams } from "./scripts/params.js";
import type { RouteDeps } from "./types.js";
import { parseQuery } from "./validation.js";

/** Traces written per turn of the event loop, so one busy tail does not starve the rest. */
const BATCH = 100;
/** A comment line this often keeps proxies and idle-timeouts from closing a quiet stream. */
const KEEP_ALIVE_MS = 15_000;

/**
 * `GET /v1/scripts/:name/tail`: Server-Sent Events, one `request` event per
 * request the nodes ship (summary, console lines, exception), filtered and
 * sampled at the edge. A reader that falls behind gets `dropped` events with
 * the number of lines it lost. Closing the connection ends the session.
 *
 *   event: open      data: {"session","script","filter"}
 *   event: request   data: {"time","pop","method","url","status","cpuMs","error","logs",...}
 *   event: dropped   data: {"dropped": 12}
 */
export const tailRoutes: FastifyPluginAsync<RouteDeps> = async (app, { store, tail }) => {
  app.addHook("onRequest", checkNameParam);
  const streams = new Set<() => void>();
  // Hijacked responses are not fastify's to end: close them so app.close() does not wait on them.
  app.addHook("onClose", async () => {
    for (const end of [...streams]) end();
  });

  app.get<{ Params: NameParams }>("/scripts/:name/tail", async (request, reply) => {
    const { name } = request.params;
    const filter = toTailFilter(parseQuery(tailFilterQuery, request.query));
    if ((await store.getSummary(name)) === null) {
      throw new EdgeError("EDGE_SCRIPT_NOT_FOUND", `No script named ${name}`);
    }
    const session = tail.open(name, filter);
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache, no-transform",
      // The connection ends with the stream rather than idling in a client's pool after it.
      connection: "close",
      "x-accel-buffering": "no",
    });
    const stream = new EventStream(res, session);
    const end = () => {
      streams.delete(end);
      stream.stop();
      tail.close(session);
      if (!res.writableEnded) res.end();
    };
    streams.add(end);
    res.on("close", end);
    // The hub closes every session when the control plane stops: the stream ends with it.
    session.onClose(end);
    stream.send("open", { session: session.id, script: name, filter });
    session.onReadable(() => stream.schedule());
    request.log.info({ session: session.id, script: name }, "tail stream open");
  });
};

/** Writes a session's traces to one SSE response, pausing while the socket is full. */
class EventStream {
  #blocked = false;
  #scheduled = false;
  #stopped = false;
  readonly #keepAlive: NodeJS.Timeout;

  constructor(
    private readonly res: ServerResponse,
    private readonly session: TailSession,
  ) {
    this.#keepAlive = setInterval(() => {
      if (!this.#blocked) this.#write(": keep-alive\n\n");
    }, KEEP_ALIVE_MS);
    this.#keepAlive.unref();
  }

  send(event: string, data: unknown): void {
    this.#write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  schedule(): void {
    if (this.#scheduled || this.#blocked || this.#stopped) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      this.#pump();
    });
  }

  stop(): void {
    this.#stopped = true;
    clearInterval(this.#keepAlive);
  }

  #pump(): void {
    if (this.#blocked || this.#stopped) return;
    const { traces, dropped } = this.session.take(BATCH);
    // The count comes before the lines that follow the gap.
    if (dropped > 0) this.send("dropped", { dropped });
    for (const trace of traces) this.send("request", traceView(trace));
    if (this.session.queued > 0) this.schedule();
  }

  #write(chunk: string): void {
    if (this.#stopped || this.res.writableEnded) return;
    if (!this.res.write(chunk) && !this.#blocked) {
      // The reader is slow: stop taking from the session (its bounded queue fills and drops) until drained.
      this.#blocked = true;
      this.res.once("drain", () => {
        this.#blocked = false;
        this.schedule();
      });
    }
  }
}
