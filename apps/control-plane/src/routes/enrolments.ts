import { randomBytes } from "node:crypto";
import type { FastifyPluginAsync } from "fastify";
import { z } from "zod";
import { EdgeError } from "../errors.js";
import { tokenSha256 } from "../grpc/node-auth.js";
import { NODE_ID_PATTERN } from "../push/hello-check.js";
import type { NodeEnrolment } from "../store/types.js";
import type { RouteDeps } from "./types.js";
import { parseBody } from "./validation.js";

const nodeLabel = z.string().regex(NODE_ID_PATTERN, "1-63 characters of a-z, 0-9 and '-'");
const enrolBody = z.object({ nodeId: nodeLabel, pop: nodeLabel }).strict();

interface NodeIdParams {
  nodeId: string;
}

/** What the API shows of an enrolment: never the token (nor its hash). */
function present(enrolment: NodeEnrolment) {
  return {
    nodeId: enrolment.nodeId,
    pop: enrolment.pop,
    createdAt: new Date(enrolment.createdAt).toISOString(),
  };
}

function checkNodeId(nodeId: string): void {
  if (!NODE_ID_PATTERN.test(nodeId)) {
    throw new EdgeError("EDGE_INVALID_NAME", "Node ids are 1-63 characters of a-z, 0-9 and '-'");
  }
}

/**
 * Per-node credentials (`EDGE_NODE_ENROLMENT=1`):
 * - `POST /nodes/enrolments` `{ nodeId, pop }` → 201 with the node's token, shown once (stored as its sha256);
 * - `GET /nodes/enrolments`, `GET /nodes/enrolments/:nodeId` → what is enrolled (no tokens);
 * - `DELETE /nodes/enrolments/:nodeId` → 204: revoked, and the node's live stream is ended (on
 *   this replica at once, on the others within seconds).
 */
export const enrolmentRoutes: FastifyPluginAsync<RouteDeps> = async (app, { store, hub, config }) => {
  app.post("/nodes/enrolments", async (request, reply) => {
    const { nodeId, pop } = parseBody(enrolBody, request.body);
    // 32 random bytes; the prefix tells operators (and secret scanners) what it is.
    const token = `edge_node_${randomBytes(32).toString("base64url")}`;
    const enrolment: NodeEnrolment = { nodeId, pop, tokenSha256: tokenSha256(token), createdAt: Date.now() };
    if (!(await store.createEnrolment(enrolment))) {
      throw new EdgeError("EDGE_ENROLMENT_EXISTS", `Node ${nodeId} is enrolled already: revoke it first`);
    }
    request.log.info({ nodeId, pop }, "node enrolled");
    return reply.status(201).send({ ...present(enrolment), token, enforced: config.nodeEnrolment });
  });

  app.get("/nodes/enrolments", async () => ({
    enforced: config.nodeEnrolment,
    enrolments: (await store.listEnrolments()).map(present),
  }));

  app.get<{ Params: NodeIdParams }>("/nodes/enrolments/:nodeId", async (request) => {
    checkNodeId(request.params.nodeId);
    const enrolment = await store.getEnrolment(request.params.nodeId);
    if (enrolment === null) throw new EdgeError("EDGE_ENROLMENT_NOT_FOUND");
    return present(enrolment);
  });

  app.delete<{ Params: NodeIdParams }>("/nodes/enrolments/:nodeId", async (request, reply) => {
    const { nodeId } = request.params;
    checkNodeId(nodeId);
    if (!(await store.deleteEnrolment(nodeId))) throw new EdgeError("EDGE_ENROLMENT_NOT_FOUND");
    const ended = hub.revoke(nodeId);
    request.log.info({ nodeId, streamsEnded: ended }, "node enrolment revoked");
    return reply.status(204).send();
  });
};
