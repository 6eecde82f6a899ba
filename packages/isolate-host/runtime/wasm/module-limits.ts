/**
 * Rewrites the memory section of a WebAssembly module so that each memory it
 * defines has a maximum no larger than `capPages` (adding one where none is
 * declared). Memories a module imports come from JavaScript and are capped
 * where they are made (./memory-cap.ts). Returns the new bytes and the pages
 * the module's own memories may reach together; anything that does not parse
 * is returned as is for V8 to reject.
 */

const MEMORY_SECTION = 5;
const HEADER = 8;

interface Reader {
  bytes: Uint8Array;
  at: number;
}

function readUleb(reader: Reader): number {
  let result = 0;
  let scale = 1;
  for (let i = 0; i < 10; i++) {
    const byte = reader.bytes[reader.at++];
    if (byte === undefined) throw new RangeError("truncated");
    result += (byte & 0x7f) * scale;
    if ((byte & 0x80) === 0) return result;
    scale *= 128;
  }
  throw new RangeError("LEB128 too long");
}

function writeUleb(value: number, out: number[]): void {
  let rest = value;
  do {
    let byte = rest % 128;
    rest = Math.floor(rest / 128);
    if (rest > 0) byte |= 0x80;
    out.push(byte);
  } while (rest > 0);
}

export function capModuleMemories(bytes: Uint8Array, capPages: number): { bytes: Uint8Array; pages: number } {
  try {
    return rewrite(bytes, capPages);
  } catch {
    return { bytes, pages: 0 };
  }
}

function rewrite(bytes: Uint8Array, capPages: number): { bytes: Uint8Array; pages: number } {
  if (bytes.length < HEADER) return { bytes, pages: 0 };
  const reader: Reader = { bytes, at: HEADER };
  while (reader.at < bytes.length) {
    const start = reader.at;
    const id = bytes[reader.at++];
    const size = readUleb(reader);
    const payloadStart = reader.at;
    const end = payloadStart + size;
    if (end > bytes.length) return { bytes, pages: 0 };
    if (id !== MEMORY_SECTION) {
      reader.at = end;
      continue;
    }
    const payload: number[] = [];
    const count = readUleb(reader);
    writeUleb(count, payload);
    let pages = 0;
    for (let i = 0; i < count; i++) {
      const flags = bytes[reader.at++];
      if (flags === undefined) throw new RangeError("truncated");
      const min = readUleb(reader);
      const declared = (flags & 0x01) !== 0 ? readUleb(reader) : Number.POSITIVE_INFINITY;
      const max = Math.max(min, Math.min(declared, capPages));
      payload.push(flags | 0x01);
      writeUleb(min, payload);
      writeUleb(max, payload);
      pages += max;
    }
    if (reader.at !== end) return { bytes, pages: 0 };
    const sizeBytes: number[] = [];
    writeUleb(payload.length, sizeBytes);
    const out = new Uint8Array(start + 1 + sizeBytes.length + payload.length + (bytes.length - end));
    out.set(bytes.subarray(0, start), 0);
    out[start] = MEMORY_SECTION;
    out.set(sizeBytes, start + 1);
    out.set(payload, start + 1 + sizeBytes.length);
    out.set(bytes.subarray(end), start + 1 + sizeBytes.length + payload.length);
    return { bytes: out, pages };
  }
  return { bytes, pages: 0 };
}
