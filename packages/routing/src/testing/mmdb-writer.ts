/**
 * A small MaxMind DB (MMDB v2) writer for tests, written from the spec
 * (https://maxmind.github.io/MaxMind-DB/): no writer package exists on npm.
 * It builds an IPv6 tree (IPv4 networks live at `::a.b.c.d`, where readers
 * look for them), 24-bit records, no data deduplication: enough for a few
 * hundred networks, which is what tests need.
 */
import { parseCidr } from "../ip.js";

/** A number with an explicit MMDB type; plain numbers become uint32 or double. */
export interface TypedNumber {
  mmdbType: "uint16" | "uint32" | "uint64" | "double";
  value: number;
}

export type MmdbValue = string | number | boolean | TypedNumber | MmdbValue[] | { [key: string]: MmdbValue };

export interface MmdbNetwork {
  /** `203.0.113.0/24` or `2001:db8::/32`. */
  cidr: string;
  record: { [key: string]: MmdbValue };
}

const METADATA_MARKER = Buffer.from("abcdef4d61784d696e642e636f6d", "hex");
const RECORD_BITS = 24;

// Data types from the spec; 8 and up are "extended" and take a second type byte.
const T = { string: 2, double: 3, uint16: 5, uint32: 6, map: 7, uint64: 9, array: 11, boolean: 14 } as const;

function control(type: number, size: number): Buffer {
  const typeBits = type <= 7 ? type << 5 : 0;
  const extended = type > 7 ? [type - 7] : [];
  let head: number[];
  if (size < 29) head = [typeBits | size];
  else if (size < 285) head = [typeBits | 29, size - 29];
  else if (size < 65_821) head = [typeBits | 30, (size - 285) >> 8, (size - 285) & 0xff];
  else {
    const rest = size - 65_821;
    head = [typeBits | 31, (rest >> 16) & 0xff, (rest >> 8) & 0xff, rest & 0xff];
  }
  const [first, ...sizeBytes] = head;
  return Buffer.from([first as number, ...extended, ...sizeBytes]);
}

function unsigned(type: number, value: number): Buffer {
  const bytes: number[] = [];
  for (let v = BigInt(value); v > 0n; v >>= 8n) bytes.unshift(Number(v & 0xffn));
  return Buffer.concat([control(type, bytes.length), Buffer.from(bytes)]);
}

function double(value: number): Buffer {
  const body = Buffer.alloc(8);
  body.writeDoubleBE(value);
  return Buffer.concat([control(T.double, 8), body]);
}

function isTyped(value: object): value is TypedNumber {
  return "mmdbType" in value && "value" in value;
}

export function encodeValue(value: MmdbValue): Buffer {
  if (typeof value === "string") {
    const body = Buffer.from(value, "utf8");
    return Buffer.concat([control(T.string, body.length), body]);
  }
  if (typeof value === "boolean") return control(T.boolean, value ? 1 : 0);
  if (typeof value === "number") {
    return Number.isInteger(value) && value >= 0 && value < 2 ** 32
      ? unsigned(T.uint32, value)
      : double(value);
  }
  if (Array.isArray(value)) return Buffer.concat([control(T.array, value.length), ...value.map(encodeValue)]);
  if (isTyped(value))
    return value.mmdbType === "double" ? double(value.value) : unsigned(T[value.mmdbType], value.value);
  const entries = Object.entries(value);
  return Buffer.concat([
    control(T.map, entries.length),
    ...entries.flatMap(([k, v]) => [encodeValue(k), encodeValue(v)]),
  ]);
}

type Child = TrieNode | { data: number } | null;
interface TrieNode {
  children: [Child, Child];
}

function isNode(child: Child): child is TrieNode {
  return child !== null && "children" in child;
}

/** Builds the bytes of an `.mmdb` file holding `networks`; a longer prefix wins over a shorter one. */
export function writeMmdb(networks: readonly MmdbNetwork[], databaseType = "Edge-Test-City"): Buffer {
  const parsed = networks.map((n) => {
    const result = parseCidr(n.cidr);
    if (!result.ok) throw new Error(result.reason);
    const { network } = result;
    // IPv4 networks sit under ::/96 in an IPv6 tree.
    const prefix = network.family === 4 ? network.prefixLength + 96 : network.prefixLength;
    if (prefix === 0) throw new Error("a /0 network cannot be written");
    return { value: network.base, prefix, record: n.record };
  });
  // Shorter first, so a longer network inserted later splits the shorter one's leaf.
  parsed.sort((a, b) => a.prefix - b.prefix);

  const chunks: Buffer[] = [];
  let dataLength = 0;
  const root: TrieNode = { children: [null, null] };
  for (const { value, prefix, record } of parsed) {
    const encoded = encodeValue(record);
    const leaf = { data: dataLength };
    chunks.push(encoded);
    dataLength += encoded.length;
    let node = root;
    for (let depth = 0; depth < prefix - 1; depth += 1) {
      const bit = Number((value >> BigInt(127 - depth)) & 1n);
      const child = node.children[bit] ?? null;
      if (isNode(child)) {
        node = child;
        continue;
      }
      // Empty, or a shorter network's leaf: a new node whose both halves keep what was there.
      const next: TrieNode = { children: [child, child] };
      node.children[bit] = next;
      node = next;
    }
    node.children[Number((value >> BigInt(128 - prefix)) & 1n)] = leaf;
  }

  // Number the nodes breadth first; the root is node 0.
  const order: TrieNode[] = [root];
  const index = new Map<TrieNode, number>([[root, 0]]);
  for (let i = 0; i < order.length; i += 1) {
    for (const child of (order[i] as TrieNode).children) {
      if (isNode(child) && !index.has(child)) {
        index.set(child, order.length);
        order.push(child);
      }
    }
  }
  const nodeCount = order.length;
  if (nodeCount + 16 + dataLength >= 2 ** RECORD_BITS) throw new Error("too large for 24-bit records");

  const recordValue = (child: Child): number => {
    if (child === null) return nodeCount;
    if (isNode(child)) return index.get(child) as number;
    return nodeCount + 16 + child.data;
  };
  const tree = Buffer.alloc(nodeCount * 6);
  order.forEach((node, i) => {
    tree.writeUIntBE(recordValue(node.children[0]), i * 6, 3);
    tree.writeUIntBE(recordValue(node.children[1]), i * 6 + 3, 3);
  });

  const metadata = encodeValue({
    binary_format_major_version: { mmdbType: "uint16", value: 2 },
    binary_format_minor_version: { mmdbType: "uint16", value: 0 },
    build_epoch: { mmdbType: "uint64", value: Math.floor(Date.now() / 1000) },
    database_type: databaseType,
    description: { en: "written by @edge/routing/testing" },
    ip_version: { mmdbType: "uint16", value: 6 },
    languages: ["en"],
    node_count: { mmdbType: "uint32", value: nodeCount },
    record_size: { mmdbType: "uint16", value: RECORD_BITS },
  });
  return Buffer.concat([tree, Buffer.alloc(16), ...chunks, METADATA_MARKER, metadata]);
}

/** A GeoLite2-City-shaped record, what `openMmdbSource` reads. */
export function cityRecord(
  lat: number,
  lon: number,
  city: string,
  isoCode: string,
): { [key: string]: MmdbValue } {
  return {
    city: { names: { en: city } },
    country: { iso_code: isoCode },
    location: {
      latitude: { mmdbType: "double", value: lat },
      longitude: { mmdbType: "double", value: lon },
      accuracy_radius: { mmdbType: "uint16", value: 20 },
    },
  };
}
