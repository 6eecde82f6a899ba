import { BinaryWriter } from "@bufbuild/protobuf/wire";
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
 * `ControlMessage.encode`, except for a `preEncodedPush`: its fields are
 * written head first, then the encoded upserts (protobuf readers take the
 * fields of a message in any order, repeated ones appended in order).
 */
export function serializeControlMessage(message: ControlMessage): Buffer {
  const upserts = (message as { [PRE_ENCODED]?: Uint8Array })[PRE_ENCODED];
  if (upserts === undefined || message.msg?.$case !== "push") {
    return Buffer.from(ControlMessage.encode(message).finish());
  }
  const head = ConfigPush.encode({ ...message.msg.value, upserts: [] }).finish();
  const body = new Uint8Array(head.length + upserts.length);
  body.set(head);
  body.set(upserts, head.length);
  return Buffer.from(new BinaryWriter().uint32(PUSH_TAG).bytes(body).finish());
}

/** `ControlPlaneService` as the control plane serves it: pre-encoded pushes go out as they are. */
export const ControlPlaneServiceServing = {
  connect: { ...ControlPlaneServiceService.connect, responseSerialize: serializeControlMessage },
} as const;
