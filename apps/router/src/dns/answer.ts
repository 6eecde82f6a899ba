import { type IpAddress, parseIp } from "@edge/routing";
import {
  type Answer,
  AUTHORITATIVE_ANSWER,
  type DecodedPacket,
  decode,
  encode,
  type OptAnswer,
  type PacketOpt,
  type Question,
  RECURSION_DESIRED,
  TRUNCATED_RESPONSE,
} from "dns-packet";
import type { Logger } from "pino";
import type { Decide } from "../route-decider.js";
import { type ClientSubnet, echoClientSubnet, readClientSubnet } from "./client-subnet.js";
import type { NodeAddressBook } from "./node-addresses.js";

export const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;
/** BADVERS is 16: 1 in the OPT record's extended RCODE, 0 in the header. */
const BADVERS_EXTENDED = 1;
/** What we accept and advertise over UDP with EDNS (the DNS flag day 2020 figure). */
const EDNS_UDP_SIZE = 1232;
/** SOA and NS change with the operator's config, not with node health. */
const ZONE_RECORD_TTL = 3600;

export interface DnsAnswerDeps {
  /** Lowercase, no trailing dot. */
  zone: string;
  /** TTL of A/AAAA answers and of negative answers (the SOA MINIMUM). */
  ttl: number;
  nsName: string;
  serial: number;
  decide: Decide;
  addresses: NodeAddressBook;
  logger: Logger;
}

interface Reply {
  rcode: number;
  answers?: Answer[];
  authorities?: Answer[];
  /** The ECS scope to echo; 0 when the answer does not depend on the client's subnet. */
  scope?: number;
  /** Authoritative for the zone (AA): every answer about a name in it. */
  authoritative?: boolean;
}

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

function soaRecord(deps: DnsAnswerDeps, ttl: number): Answer {
  return {
    name: deps.zone,
    type: "SOA",
    ttl,
    data: {
      mname: deps.nsName,
      rname: `hostmaster.${deps.zone}`,
      serial: deps.serial,
      refresh: 3600,
      retry: 600,
      expire: 86_400,
      minimum: deps.ttl,
    },
  };
}

/** Where a name sits relative to the zone. */
function classify(name: string, zone: string): "apex" | "script" | "deeper" | "outside" {
  const lower = name.toLowerCase().replace(/\.$/, "");
  if (lower === zone) return "apex";
  if (!lower.endsWith(`.${zone}`)) return "outside";
  const label = lower.slice(0, -(zone.length + 1));
  return LABEL.test(label) ? "script" : "deeper";
}

function encodeReply(
  query: DecodedPacket,
  questions: Question[],
  reply: Reply,
  opt: OptAnswer | null,
  subnet: ClientSubnet | null,
  extendedRcode = 0,
  truncated = false,
): Buffer {
  const opcodeBits = (query.flags ?? 0) & 0x7800;
  let flags = opcodeBits | ((query.flags ?? 0) & RECURSION_DESIRED) | (reply.rcode & 0xf);
  if (reply.authoritative) flags |= AUTHORITATIVE_ANSWER;
  if (truncated) flags |= TRUNCATED_RESPONSE;
  const additionals: Answer[] = [];
  if (opt !== null) {
    const options: PacketOpt[] = subnet === null ? [] : [echoClientSubnet(subnet, reply.scope ?? 0)];
    additionals.push({
      type: "OPT",
      name: ".",
      udpPayloadSize: EDNS_UDP_SIZE,
      extendedRcode,
      ednsVersion: 0,
      flags: 0,
      flag_do: false,
      options,
    });
  }
  return encode({
    type: "response",
    id: query.id ?? 0,
    flags,
    questions,
    answers: truncated ? [] : (reply.answers ?? []),
    authorities: truncated ? [] : (reply.authorities ?? []),
    additionals,
  });
}

/** A FORMERR for a message we could not decode: the header's id and opcode, nothing else. */
function formErr(raw: Buffer): Buffer {
  const out = Buffer.alloc(12);
  raw.copy(out, 0, 0, 2);
  out.writeUInt16BE(0x8000 | (raw.readUInt16BE(2) & 0x7800) | RCODE.FORMERR, 2);
  return out;
}

/**
 * Answers one DNS message: the authoritative server for `<zone>`. A/AAAA
 * for `<script>.<zone>` give the address of the nearest healthy PoP to the
 * client (the EDNS Client Subnet when present, the resolver otherwise),
 * SOA/NS at the apex, NXDOMAIN for deeper names, REFUSED outside the zone.
 * Returns `null` when nothing should be sent (not a query, too short to
 * answer); never throws on malformed input.
 */
export async function answerDnsMessage(
  raw: Buffer,
  remoteAddress: string,
  transport: "udp" | "tcp",
  deps: DnsAnswerDeps,
): Promise<Buffer | null> {
  // Shorter than a header, or a response (QR set): answering could start a loop between servers.
  if (raw.length < 12 || (raw.readUInt8(2) & 0x80) !== 0) return null;
  let query: DecodedPacket;
  try {
    query = decode(raw);
  } catch {
    return formErr(raw);
  }
  const questions = query.questions ?? [];
  const opts = (query.additionals ?? []).filter((a): a is OptAnswer => a.type === "OPT");
  const opt = opts[0] ?? null;
  const opcode = ((query.flags ?? 0) >> 11) & 0xf;
  if (opcode !== 0) return encodeReply(query, questions, { rcode: RCODE.NOTIMP }, opt, null);
  if (opts.length > 1 || questions.length !== 1)
    return encodeReply(query, questions, { rcode: RCODE.FORMERR }, null, null);
  if (opt !== null && opt.ednsVersion > 0) {
    return encodeReply(query, questions, { rcode: 0 }, opt, null, BADVERS_EXTENDED);
  }
  const ecs = readClientSubnet(opt?.options ?? []);
  if (ecs.kind === "invalid") return encodeReply(query, questions, { rcode: RCODE.FORMERR }, opt, null);
  const subnet = ecs.kind === "present" ? ecs.subnet : null;

  const question = questions[0] as Question;
  const reply = await replyTo(question, subnet, remoteAddress, deps);

  let out = encodeReply(query, questions, reply, opt, subnet);
  const limit = opt === null ? 512 : Math.max(512, Math.min(opt.udpPayloadSize, EDNS_UDP_SIZE));
  if (transport === "udp" && out.length > limit)
    out = encodeReply(query, questions, reply, opt, subnet, 0, true);
  return out;
}

async function replyTo(
  question: Question,
  subnet: ClientSubnet | null,
  remoteAddress: string,
  deps: DnsAnswerDeps,
): Promise<Reply> {
  const where = classify(question.name, deps.zone);
  // dns-packet names QTYPE 255 "ANY", which its types leave out of RecordType.
  const type: string = question.type;
  if (where === "outside") return { rcode: RCODE.REFUSED };
  if (question.class !== "IN" && question.class !== "ANY") return { rcode: RCODE.REFUSED };
  const negative = { authorities: [soaRecord(deps, deps.ttl)], authoritative: true };
  if (where === "deeper") return { rcode: RCODE.NXDOMAIN, ...negative };

  if (where === "apex") {
    const soa = { ...soaRecord(deps, ZONE_RECORD_TTL), name: question.name };
    const ns: Answer = { name: question.name, type: "NS", ttl: ZONE_RECORD_TTL, data: deps.nsName };
    if (type === "SOA") return { rcode: RCODE.NOERROR, answers: [soa], authoritative: true };
    if (type === "NS") return { rcode: RCODE.NOERROR, answers: [ns], authoritative: true };
    if (type === "ANY") return { rcode: RCODE.NOERROR, answers: [soa, ns], authoritative: true };
    return { rcode: RCODE.NOERROR, ...negative };
  }

  const wants = type === "A" ? ["v4"] : type === "AAAA" ? ["v6"] : type === "ANY" ? ["v4", "v6"] : [];
  if (wants.length === 0) return { rcode: RCODE.NOERROR, ...negative };

  // The client is the ECS subnet when one is given (a /0 source asks us not to use it), else the resolver.
  const useSubnet = subnet !== null && subnet.sourcePrefixLength > 0;
  const client: IpAddress | null = useSubnet ? subnet.ip : parseIp(remoteAddress);
  const { location, choice } = deps.decide({ ip: client });
  // The answer holds for the network the location came from; an unlocated subnet only for itself.
  const scope = useSubnet ? (location.prefixLength ?? subnet.sourcePrefixLength) : 0;
  const log = deps.logger.child({ name: question.name, type: question.type, client: client?.text ?? null });

  for (const candidate of choice.candidates) {
    if (candidate.rank === null) break;
    const addresses = await deps.addresses.addressesOf(candidate.httpAddress);
    if (addresses.v4.length === 0 && addresses.v6.length === 0) continue;
    const answers: Answer[] = [
      ...(wants.includes("v4")
        ? addresses.v4.map((data): Answer => ({ name: question.name, type: "A", ttl: deps.ttl, data }))
        : []),
      ...(wants.includes("v6")
        ? addresses.v6.map((data): Answer => ({ name: question.name, type: "AAAA", ttl: deps.ttl, data }))
        : []),
    ];
    log.debug({ node: candidate.id, pop: candidate.pop, located: location.source, scope }, "dns answer");
    // No address of the asked family: NODATA, so the client asks for the other one.
    return answers.length > 0
      ? { rcode: RCODE.NOERROR, answers, scope, authoritative: true }
      : { rcode: RCODE.NOERROR, ...negative, scope };
  }
  log.warn({ summary: choice.summary }, "dns: no healthy node with an address");
  return { rcode: RCODE.SERVFAIL, scope };
}
