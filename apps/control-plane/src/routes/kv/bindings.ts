import { z } from "zod";
import { EdgeError } from "../../errors.js";
import type { ScriptBindings, Store } from "../../store/types.js";

/**
 * A deploy's `bindings`: `{ MY_KV: { type: "kv", namespace: "<name>" } }`.
 * Names are resolved to namespace ids when the version is stored, so the
 * version keeps pointing at the same namespace through a rename, and a
 * rollback brings back exactly the bindings it had.
 */

const BINDING_NAME = /^[A-Za-z_$][A-Za-z0-9_$]{0,63}$/;

export const bindingRequests = z.record(
  z.string().regex(BINDING_NAME, "binding names are JavaScript identifiers of at most 64 characters"),
  z.strictObject({ type: z.literal("kv"), namespace: z.string().min(1) }),
);

export type BindingRequests = z.infer<typeof bindingRequests>;

/** Each named namespace must exist: 400 `EDGE_KV_INVALID_BINDING` otherwise. */
export async function resolveBindings(store: Store, requests: BindingRequests): Promise<ScriptBindings> {
  const bindings: ScriptBindings = {};
  for (const [name, request] of Object.entries(requests)) {
    const namespace = await store.getKvNamespace(request.namespace);
    if (namespace === null) {
      throw new EdgeError(
        "EDGE_KV_INVALID_BINDING",
        `Binding ${name}: no KV namespace named '${request.namespace}'`,
      );
    }
    bindings[name] = { type: "kv", namespaceId: namespace.id, namespace: namespace.name };
  }
  return bindings;
}

/** A binding shares `env` with vars and secrets: one name, one meaning. */
export function checkBindingNames(
  bindings: ScriptBindings,
  vars: Record<string, string>,
  secrets: Record<string, unknown>,
): void {
  for (const name of Object.keys(bindings)) {
    if (name in vars || name in secrets) {
      throw new EdgeError("EDGE_KV_INVALID_BINDING", `${name} is both a binding and a var or secret`);
    }
  }
}
