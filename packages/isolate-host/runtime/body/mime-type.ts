/**
 * MIME types as the WHATWG MIME Sniffing standard parses and serialises them
 * (https://mimesniff.spec.whatwg.org/#parsing-a-mime-type), and Fetch's
 * "extract a MIME type" from a header list.
 */

export interface MimeType {
  type: string;
  subtype: string;
  /** Lower-case names, first occurrence wins. */
  parameters: Map<string, string>;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const QUOTED_STRING_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
const HTTP_WHITESPACE = /^[\t\n\r ]+|[\t\n\r ]+$/g;

export function parseMimeType(input: string): MimeType | null {
  const text = input.replace(HTTP_WHITESPACE, "");
  const slash = text.indexOf("/");
  if (slash <= 0) return null;
  const type = text.slice(0, slash);
  if (!TOKEN.test(type)) return null;
  let position = slash + 1;
  const semicolon = text.indexOf(";", position);
  const subtypeEnd = semicolon === -1 ? text.length : semicolon;
  const subtype = text.slice(position, subtypeEnd).replace(/[\t\n\r ]+$/, "");
  if (subtype === "" || !TOKEN.test(subtype)) return null;
  const mime: MimeType = { type: type.toLowerCase(), subtype: subtype.toLowerCase(), parameters: new Map() };
  position = subtypeEnd;
  while (position < text.length) {
    position++; // the ";"
    while (position < text.length && /[\t\n\r ]/.test(text[position]!)) position++;
    let nameEnd = position;
    while (nameEnd < text.length && text[nameEnd] !== ";" && text[nameEnd] !== "=") nameEnd++;
    const name = text.slice(position, nameEnd).toLowerCase();
    position = nameEnd;
    if (position < text.length) {
      if (text[position] === ";") continue;
      position++; // the "="
    }
    if (position >= text.length) break;
    let value: string;
    if (text[position] === '"') {
      const quoted = collectQuoted(text, position);
      value = quoted.value;
      position = quoted.end;
      while (position < text.length && text[position] !== ";") position++;
    } else {
      let valueEnd = text.indexOf(";", position);
      if (valueEnd === -1) valueEnd = text.length;
      value = text.slice(position, valueEnd).replace(/[\t\n\r ]+$/, "");
      position = valueEnd;
      if (value === "") continue;
    }
    if (name !== "" && TOKEN.test(name) && QUOTED_STRING_VALUE.test(value) && !mime.parameters.has(name)) {
      mime.parameters.set(name, value);
    }
  }
  return mime;
}

/** An HTTP quoted-string starting at `start` (a '"'), with backslash escapes, up to its closing quote. */
function collectQuoted(text: string, start: number): { value: string; end: number } {
  let value = "";
  let position = start + 1;
  while (position < text.length) {
    const char = text[position]!;
    if (char === "\\") {
      position++;
      if (position >= text.length) {
        value += "\\";
        break;
      }
      value += text[position];
      position++;
    } else if (char === '"') {
      position++;
      break;
    } else {
      value += char;
      position++;
    }
  }
  return { value, end: position };
}

export function serializeMimeType(mime: MimeType): string {
  let out = `${mime.type}/${mime.subtype}`;
  for (const [name, value] of mime.parameters) {
    out += `;${name}=`;
    out += value !== "" && TOKEN.test(value) ? value : `"${value.replace(/(["\\])/g, "\\$1")}"`;
  }
  return out;
}

/** Fetch's "extract a MIME type" over the values of Content-Type headers (in list order). */
export function extractMimeType(values: readonly string[]): MimeType | null {
  let mimeType: MimeType | null = null;
  let essence: string | null = null;
  let charset: string | null = null;
  for (const headerValue of values) {
    for (const value of splitHeaderValue(headerValue)) {
      const parsed = parseMimeType(value);
      if (parsed === null || `${parsed.type}/${parsed.subtype}` === "*/*") continue;
      const parsedEssence = `${parsed.type}/${parsed.subtype}`;
      mimeType = parsed;
      if (parsedEssence !== essence) {
        charset = parsed.parameters.get("charset") ?? null;
        essence = parsedEssence;
      } else if (!parsed.parameters.has("charset") && charset !== null) {
        parsed.parameters.set("charset", charset);
      }
    }
  }
  return mimeType;
}

/** Fetch's "get, decode, and split": commas outside quoted strings separate values. */
function splitHeaderValue(input: string): string[] {
  const values: string[] = [];
  let current = "";
  let position = 0;
  while (position < input.length) {
    const char = input[position]!;
    if (char === '"') {
      const quoted = collectQuotedRaw(input, position);
      current += quoted.text;
      position = quoted.end;
    } else if (char === ",") {
      values.push(current.replace(/^[\t ]+|[\t ]+$/g, ""));
      current = "";
      position++;
    } else {
      current += char;
      position++;
    }
  }
  values.push(current.replace(/^[\t ]+|[\t ]+$/g, ""));
  return values;
}

function collectQuotedRaw(text: string, start: number): { text: string; end: number } {
  let position = start + 1;
  while (position < text.length) {
    if (text[position] === "\\") position += 2;
    else if (text[position] === '"') {
      position++;
      break;
    } else position++;
  }
  return { text: text.slice(start, Math.min(position, text.length)), end: position };
}
