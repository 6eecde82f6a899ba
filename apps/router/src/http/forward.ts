import type { ClientRequest, IncomingMessage } from "node:http";
import type { Logger } from "pino";
import { authorityOf } from "../node-address.js";
import type { HoldDown } from "./hold-down.js";
import type { LivenessProbe } from "./liveness-probe.js";
import type { Target } from "./targets.js";
import { type Attempt, type ForwardOptions, forwardOnce } from "./upstream.js";

type Failed = Extract<Attempt, { ok: false }>;

/**
 * Methods replayed after the PoP got the request but failed to answer. Only
 * safe methods (RFC 9110 §9.2.1): a frozen PoP may thaw and still run the
 * first copy, so the second must be harmless. PUT and DELETE are idempotent
 * on paper, but a script need not honour that, so they are not replayed.
 */
const REPLAYABLE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/** One request to forward: what forwardOnce() sends (to each target in turn), plus the retry policy's needs. */
export interface ForwardRequest extends Omit<ForwardOptions, "target" | "onRequest"> {
  /** Best first; the first is tried, then the second at most once. Never empty. */
  targets: readonly Target[];
  holdDown: HoldDown;
  probe: LivenessProbe;
  log: Logger;
  /** The client went away: failures after that say nothing about the PoP. */
  clientGone(): boolean;
  /** Each attempt's request, so a client that goes away can cancel it. */
  onAttempt(upstream: ClientRequest): void;
  /** An agent that opens a new connection every time: the retry after a reused socket broke. */
  freshAgent: ForwardOptions["agent"];
}

export type Forwarded =
  | { ok: true; response: IncomingMessage; servedBy: Target; retriedFrom: string | null }
  | { ok: false; code: "EDGE_UPSTREAM_TIMEOUT" | "EDGE_UPSTREAM_UNREACHABLE"; message: string };

/** Why a failed request may not go to another PoP, or `null` when it may. */
function notReplayable(failed: Failed, req: ForwardRequest): string | null {
  // Nothing reached the PoP: the body is untouched and nothing can run twice.
  if (failed.failure === "connect") return null;
  // The body is streamed, not buffered: once started, it is gone.
  if (req.body !== null) return "its body was already sent to that PoP";
  if (!REPLAYABLE_METHODS.has(req.method)) return `a ${req.method} is not safe to send twice`;
  return null;
}

/**
 * Held down at once, so the requests that follow do not wait too; lifted when
 * the node still answers its health check: then only this request was slow
 * (a script waiting on its origin), and the node must keep its traffic.
 */
function checkAlive(to: Target, release: () => void, req: ForwardRequest): void {
  void req.probe.alive(to.target).then((alive) => {
    if (alive) {
      release();
      req.log.info({ node: to.candidate.id }, "PoP was slow to answer but is alive: not held down");
    } else {
      req.log.warn({ node: to.candidate.id }, "PoP does not answer its health check either: held down");
    }
  });
}

function whatHappened(failed: Failed, req: ForwardRequest): string {
  if (failed.failure === "timeout") return `did not answer within ${req.responseTimeoutMs} ms`;
  if (failed.failure === "broken") return "closed the connection before answering";
  return "could not be reached";
}

/**
 * Sends the request to the first target; if that fails before its response
 * starts and the request may be replayed, once more to the second. A target
 * that could not be reached or did not answer in time is held down. Never
 * rejects.
 */
export async function forwardWithRetry(req: ForwardRequest): Promise<Forwarded> {
  const tryTarget = async (to: Target, agent = req.agent): Promise<Attempt> => {
    const { method, path, headers, body, connectTimeoutMs, responseTimeoutMs } = req;
    const result = await forwardOnce({
      target: to.target,
      method,
      path,
      headers,
      body,
      connectTimeoutMs,
      responseTimeoutMs,
      agent,
      onRequest: req.onAttempt,
    });
    // A connection that broke after it was made is not held against the PoP: a kept-alive
    // socket the PoP closed at the same moment looks just like that, and the PoP is fine.
    if (!result.ok && result.failure !== "broken" && !req.clientGone()) {
      const release = req.holdDown.hold(to.key, whatHappened(result, req));
      if (result.failure === "timeout") checkAlive(to, release, req);
    }
    return result;
  };

  const [first, second] = req.targets;
  if (first === undefined) throw new Error("forwardWithRetry needs at least one target");
  let firstAttempt = await tryTarget(first);
  if (staleSocket(firstAttempt) && !req.clientGone()) {
    // A kept-alive socket the PoP had closed (or reset) meanwhile: the PoP never saw this request.
    // Nothing of it was sent, so it goes again to the same PoP on a new connection.
    req.log.debug(
      { node: first.candidate.id },
      "kept-alive connection was closed by the PoP: new connection",
    );
    firstAttempt = await tryTarget(first, req.freshAgent);
  }
  if (firstAttempt.ok) {
    return { ok: true, response: firstAttempt.response, servedBy: first, retriedFrom: null };
  }

  const why = notReplayable(firstAttempt, req);
  if (why === null && second !== undefined && !req.clientGone()) {
    req.log.warn(
      {
        err: firstAttempt.error,
        failure: firstAttempt.failure,
        failed: first.candidate.id,
        next: second.candidate.id,
      },
      "PoP failed before responding: retrying on the next nearest",
    );
    const secondAttempt = await tryTarget(second);
    if (secondAttempt.ok) {
      return {
        ok: true,
        response: secondAttempt.response,
        servedBy: second,
        retriedFrom: first.candidate.pop,
      };
    }
    return failure(second, secondAttempt, req, `, nor ${first.candidate.pop} before it`);
  }
  return failure(
    first,
    firstAttempt,
    req,
    why !== null && second !== undefined ? `; not retried: ${why}` : "",
  );
}

/** A reused socket that broke before anything of the request's body was read. */
function staleSocket(attempt: Attempt): boolean {
  return !attempt.ok && attempt.failure === "broken" && !attempt.bodyStarted && attempt.upstream.reusedSocket;
}

function failure(at: Target, failed: Failed, req: ForwardRequest, tail: string): Forwarded {
  req.log.warn({ err: failed.error, failure: failed.failure, node: at.candidate.id }, "PoP failed");
  return {
    ok: false,
    code: failed.failure === "timeout" ? "EDGE_UPSTREAM_TIMEOUT" : "EDGE_UPSTREAM_UNREACHABLE",
    message: `The PoP ${at.candidate.pop} (${authorityOf(at.target)}) ${whatHappened(failed, req)}${tail}`,
  };
}
