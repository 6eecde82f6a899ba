import { z } from "zod";
import type { Config } from "../../config.js";
import { EdgeError } from "../../errors.js";
import { createSecretBox, type SecretBox } from "../../secrets/secret-box.js";
import type { SealedSecrets } from "../../store/types.js";
import { parseBody } from "../validation.js";
import { envMap, envName } from "./deploy-body.js";

/**
 * A version's env is its vars (plain text, shown by GETs) and its secrets
 * (sealed at rest, shown by name only). Both belong to the immutable version:
 * changing either makes a new one.
 */

const changeFields = { set: envMap.optional(), unset: z.array(envName).optional() };
const changeBodies = {
  vars: z.strictObject({ vars: envMap.optional(), ...changeFields }),
  secrets: z.strictObject({ secrets: envMap.optional(), ...changeFields }),
};

export type EnvChange =
  | { replace: Record<string, string> }
  | { set: Record<string, string>; unset: string[] };

/**
 * `PUT …/vars` and `PUT …/secrets` bodies: `{ "<key>": { K: V } }` replaces
 * the whole map, `{ "set": { K: V }, "unset": ["K"] }` changes only those
 * names (unsetting a name that is not there is not an error).
 */
export function parseEnvChange(key: "vars" | "secrets", body: unknown): EnvChange {
  const parsed: { vars?: Record<string, string>; secrets?: Record<string, string> } & {
    set?: Record<string, string>;
    unset?: string[];
  } = parseBody(changeBodies[key], body);
  const replace = parsed[key];
  const patching = parsed.set !== undefined || parsed.unset !== undefined;
  if ((replace === undefined) === !patching) {
    throw new EdgeError(
      "EDGE_INVALID_BODY",
      `Expected either { "${key}": { NAME: value } } or { "set": { NAME: value }, "unset": [NAME] }`,
    );
  }
  return replace !== undefined ? { replace } : { set: parsed.set ?? {}, unset: parsed.unset ?? [] };
}

/** The new plain map after a change: what `set` names, then without what `unset` names. */
export function applyVarsChange(current: Record<string, string>, change: EnvChange): Record<string, string> {
  if ("replace" in change) return { ...change.replace };
  const next = { ...current, ...change.set };
  for (const name of change.unset) delete next[name];
  return next;
}

/** The same for secrets: new values are sealed, untouched ones keep their sealed form. */
export function applySecretsChange(
  current: SealedSecrets,
  change: EnvChange,
  seal: (plain: Record<string, string>) => SealedSecrets,
): SealedSecrets {
  if ("replace" in change) return seal(change.replace);
  const next = { ...current, ...seal(change.set) };
  for (const name of change.unset) delete next[name];
  return next;
}

/**
 * Seals secrets for one script. Only built when there is something to seal,
 * so a control plane without `EDGE_SECRETS_KEY` still serves everything else
 * (and can still remove secrets).
 */
export function secretSealer(
  config: Config,
  script: string,
): (plain: Record<string, string>) => SealedSecrets {
  let box: SecretBox | null = null;
  return (plain) => {
    const names = Object.keys(plain);
    if (names.length === 0) return {};
    if (config.secretsKey === null) {
      throw new EdgeError(
        "EDGE_SECRETS_DISABLED",
        "Setting secrets needs EDGE_SECRETS_KEY (32 bytes, hex or base64) on the control plane; it is not set",
      );
    }
    box ??= createSecretBox(config.secretsKey);
    const sealer = box;
    return Object.fromEntries(names.map((name) => [name, sealer.seal(script, name, plain[name]!)]));
  };
}

/** Nodes see vars and secrets in one env: a name may be only one of them. */
export function checkEnvNames(vars: Record<string, string>, secrets: SealedSecrets): void {
  const both = Object.keys(vars).filter((name) => Object.hasOwn(secrets, name));
  if (both.length > 0) {
    throw new EdgeError(
      "EDGE_ENV_CONFLICT",
      `${both.sort().join(", ")}: both a var and a secret; unset one of them first`,
    );
  }
}
