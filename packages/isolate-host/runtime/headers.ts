/**
 * Fetch-standard Headers: case-insensitive names, values combined with ", "
 * when read, iteration sorted by name, Set-Cookie kept apart. The raw list
 * (lower-case names, insertion order) is what leaves the isolate.
 */

export type HeadersInit = Headers | Iterable<Iterable<string>> | Record<string, string>;

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// Leading/trailing HTTP whitespace: tab, LF, CR, space.
const EDGE_WHITESPACE = /^[\t\n\r ]+|[\t\n\r ]+$/g;
const FORBIDDEN_VALUE = /[\0\r\n]/;

export function normalizeName(name: unknown): string {
  const str = String(name);
  if (!TOKEN.test(str)) throw new TypeError(`Invalid header name: "${str}"`);
  return str.toLowerCase();
}

export function normalizeValue(value: unknown): string {
  const str = String(value).replace(EDGE_WHITESPACE, "");
  if (FORBIDDEN_VALUE.test(str)) throw new TypeError(`Invalid header value: "${str}"`);
  return str;
}

let listOf: (headers: Headers) => Array<[string, string]>;
let makeImmutable: (headers: Headers) => void;

export class Headers {
  #list: Array<[string, string]> = [];
  #immutable = false;

  static {
    listOf = (headers) => headers.#list;
    makeImmutable = (headers) => {
      headers.#immutable = true;
    };
  }

  constructor(init?: HeadersInit) {
    if (init === undefined || init === null) return;
    if (init instanceof Headers) {
      for (const [name, value] of init.#list) this.#list.push([name, value]);
      return;
    }
    if (typeof init !== "object")
      throw new TypeError("Headers init must be an object or an iterable of pairs");
    if (Symbol.iterator in init) {
      for (const pair of init as Iterable<Iterable<string>>) {
        const entry = Array.from(pair);
        if (entry.length !== 2) throw new TypeError("Each header pair must have exactly a name and a value");
        this.append(entry[0], entry[1]);
      }
      return;
    }
    for (const name of Object.keys(init)) this.append(name, (init as Record<string, string>)[name]);
  }

  append(name: unknown, value: unknown): void {
    const n = normalizeName(name);
    const v = normalizeValue(value);
    this.#checkMutable();
    this.#list.push([n, v]);
  }

  delete(name: unknown): void {
    const n = normalizeName(name);
    this.#checkMutable();
    this.#list = this.#list.filter(([key]) => key !== n);
  }

  get(name: unknown): string | null {
    const n = normalizeName(name);
    const values: string[] = [];
    for (const [key, value] of this.#list) if (key === n) values.push(value);
    return values.length === 0 ? null : values.join(", ");
  }

  getSetCookie(): string[] {
    return this.#list.filter(([key]) => key === "set-cookie").map(([, value]) => value);
  }

  has(name: unknown): boolean {
    const n = normalizeName(name);
    return this.#list.some(([key]) => key === n);
  }

  set(name: unknown, value: unknown): void {
    const n = normalizeName(name);
    const v = normalizeValue(value);
    this.#checkMutable();
    const index = this.#list.findIndex(([key]) => key === n);
    if (index === -1) {
      this.#list.push([n, v]);
      return;
    }
    this.#list[index] = [n, v];
    this.#list = this.#list.filter(([key], i) => key !== n || i <= index);
  }

  forEach(callback: (value: string, name: string, headers: Headers) => void, thisArg?: unknown): void {
    for (const [name, value] of this.entries()) callback.call(thisArg, value, name, this);
  }

  *entries(): IterableIterator<[string, string]> {
    // One pass to group values by name, so iterating many headers stays linear (plus the sort).
    const grouped = new Map<string, string[]>();
    for (const [key, value] of this.#list) {
      const values = grouped.get(key);
      if (values === undefined) grouped.set(key, [value]);
      else values.push(value);
    }
    const names = [...grouped.keys()].sort();
    for (const name of names) {
      const values = grouped.get(name)!;
      if (name === "set-cookie") {
        for (const value of values) yield [name, value];
      } else {
        yield [name, values.join(", ")];
      }
    }
  }

  *keys(): IterableIterator<string> {
    for (const [name] of this.entries()) yield name;
  }

  *values(): IterableIterator<string> {
    for (const [, value] of this.entries()) yield value;
  }

  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.entries();
  }

  get [Symbol.toStringTag](): string {
    return "Headers";
  }

  #checkMutable(): void {
    // Matches Workers: the incoming request's headers cannot be changed.
    if (this.#immutable) throw new TypeError("Can't modify immutable headers.");
  }
}

/** Lower-case name/value pairs in insertion order, Set-Cookie lines separate. */
export function headerList(headers: Headers): Array<[string, string]> {
  return listOf(headers);
}

export function freezeHeaders(headers: Headers): Headers {
  makeImmutable(headers);
  return headers;
}

/** Builds Headers from pairs the host already validated, skipping re-validation. */
export function headersFromHost(pairs: Array<[string, string]>): Headers {
  const headers = new Headers();
  const list = listOf(headers);
  for (const [name, value] of pairs) list.push([name.toLowerCase(), value]);
  return headers;
}
