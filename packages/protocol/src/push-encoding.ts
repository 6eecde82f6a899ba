import {
  ConfigPush,
  ControlMessage,
  ControlPlaneServiceService,
  type Script,
} from "./generated/edge/v1/control.js";

/** Where a push message carries its upserts already encoded (not enumerable: invisible to the rest). */
const PRE_ENCODED = Symbol("edge.v1.preEncodedUpserts");

/** `ControlMessage.push` is field 1, length-delimited. */
const PUSH_TAG = (1 << 3) | 2;

/**
 * The upserts of a push, encoded once: a thousand streams sending the same
 * resources share these bytes instead of each encoding the same scripts.
 */
export function encodeUpserts(upserts: readonly Script[]): Uint8Array {
  return ConfigPush.encode({
    nonce: "",
    configVersion: 0,
    full: false,
    upserts: [...upserts],
    removals: [],
  }).finish();
}

/**
 * A push whose upserts were encoded by `encodeUpserts(push.upserts)`:
 * `serializeControlMessage` writes those bytes as they are, and encodes only
 * the rest (nonce, config version, removals). The message stays a plain
 * `ControlMessage` for everything else.
 */
export function preEncodedPush(push: ConfigPush, upserts: Uint8Array): ControlMessage {
  const message: ControlMessage = { msg: { $case: "push", value: push } };
  Object.defineProperty(message, PRE_ENCODED, { value: upserts });
  return message;
}

/**
 * `ControlMessage.encode`, except for a `preEncodedPush`: its own fields
 * (nonce, config version, full, removals: `ConfigPush` fields 1, 2, 3 and 5)
 * are written by hand into one buffer of the exact size, then the encoded
 * upserts (field 4) — protobuf readers take a message's fields in any order,
 * repeated ones appended in order. A thousand streams then cost a thousand
 * small copies rather than a thousand encodings. `push-encoding.test.ts`
 * checks the bytes decode exactly as the generated encoder's.
 */
export function serializeControlMessage(message: ControlMessage): Buffer {
  const upserts = (message as { [PRE_ENCODED]?: Uint8Array })[PRE_ENCODED];
  if (upserts === undefined || message.msg?.$case !== "push") {
    return Buffer.from(ControlMessage.encode(message).finish());
  }
  const { nonce, configVersion, full, removals } = message.msg.value;
  const strings = [nonce, ...removals].map((text) => Buffer.from(text, "utf8"));
  let body = upserts.length;
  if (nonce !== "") body += 1 + varintSize(strings[0]!.length) + strings[0]!.length;
  if (configVersion !== 0) body += 1 + varintSize(configVersion);
  if (full) body += 2;
  for (const removal of strings.slice(1)) body += 1 + varintSize(removal.length) + removal.length;
  const out = Buffer.allocUnsafe(1 + varintSize(body) + body);
  let at = writeVarint(out, 0, PUSH_TAG);
  at = writeVarint(out, at, body);
  const field = (tag: number, bytes: Buffer): void => {
    at = writeVarint(out, at, tag);
    at = writeVarint(out, at, bytes.length);
    at += bytes.copy(out, at);
  };
  if (nonce !== "") field((1 << 3) | 2, strings[0]!);
  if (configVersion !== 0) at = writeVarint(out, writeVarint(out, at, 2 << 3), configVersion);
  if (full) at = writeVarint(out, writeVarint(out, at, 3 << 3), 1);
  for (const removal of strings.slice(1)) field((5 << 3) | 2, removal);
  out.set(upserts, at);
  return out;
}

/** Bytes a non-negative integer (below 2^53) takes as a varint. */
function varintSize(n: number): number {
  let size = 1;
  for (let rest = Math.floor(n / 128); rest > 0; rest = Math.floor(rest / 128)) size++;
  return size;
}

function writeVarint(out: Buffer, at: number, n: number): number {
  let rest = n;
  while (rest >= 128) {
    out[at++] = (rest % 128) | 128;
    rest = Math.floor(rest / 128);
  }
  out[at++] = rest;
  return at;
}

/** `ControlPlaneService` as the control plane serves it: pre-encoded pushes go out as they are. */
export const ControlPlaneServiceServing = {
  connect: { ...ControlPlaneServiceService.connect, responseSerialize: serializeControlMessage },
} as const;
