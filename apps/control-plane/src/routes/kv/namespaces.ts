import type { FastifyPluginAsync } from "fastify";
import { z } from "zod";
import { EdgeError } from "../../errors.js";
import type { KvNamespace } from "../../store/kv-types.js";
import { iso } from "../scripts/present.js";
import type { RouteDeps } from "../types.js";
import { parseBody } from "../validation.js";
import { checkNamespaceName } from "./validate.js";

export interface NamespaceView {
  name: string;
  id: string;
  createdAt: string;
  /** The version of the namespace's last write. */
  version: number;
}

export function presentNamespace(ns: KvNamespace): NamespaceView {
  return { name: ns.name, id: ns.id, createdAt: iso(ns.createdAt), version: ns.version };
}

export interface NsParams {
  ns: string;
}

const nameBody = z.strictObject({ name: z.string() });

/**
 * `/kv/namespaces`: create (`POST { name }` → 201), list, read, rename
 * (`PATCH /kv/namespaces/:ns { name }`) and delete (with its values). A
 * rename keeps the id, so scripts bound to the namespace keep using it.
 */
export const namespaceRoutes: FastifyPluginAsync<RouteDeps> = async (app, { store, kv }) => {
  app.post("/kv/namespaces", async (request, reply): Promise<NamespaceView> => {
    const name = checkNamespaceName(parseBody(nameBody, request.body).name);
    const ns = await store.createKvNamespace(name);
    request.log.info({ namespace: name, id: ns.id }, "KV namespace created");
    kv.changed();
    reply.status(201).header("location", `/v1/kv/namespaces/${name}`);
    return presentNamespace(ns);
  });

  app.get("/kv/namespaces", async () => ({
    namespaces: (await store.listKvNamespaces()).map(presentNamespace),
  }));

  app.get<{ Params: NsParams }>("/kv/namespaces/:ns", async (request) =>
    presentNamespace(await namespaceOf(store, request.params.ns)),
  );

  app.patch<{ Params: NsParams }>("/kv/namespaces/:ns", async (request) => {
    const newName = checkNamespaceName(parseBody(nameBody, request.body).name);
    const renamed = await store.renameKvNamespace(request.params.ns, newName);
    if (renamed === null) throw notFound(request.params.ns);
    request.log.info({ namespace: request.params.ns, newName }, "KV namespace renamed");
    return presentNamespace(renamed);
  });

  app.delete<{ Params: NsParams }>("/kv/namespaces/:ns", async (request, reply) => {
    if (!(await store.deleteKvNamespace(request.params.ns))) throw notFound(request.params.ns);
    request.log.info({ namespace: request.params.ns }, "KV namespace deleted");
    kv.changed();
    reply.status(204);
  });
};

export function notFound(name: string): EdgeError {
  return new EdgeError("EDGE_KV_NAMESPACE_NOT_FOUND", `No KV namespace named '${name}'`);
}

export async function namespaceOf(store: RouteDeps["store"], name: string): Promise<KvNamespace> {
  const ns = await store.getKvNamespace(name);
  if (ns === null) throw notFound(name);
  return ns;
}
