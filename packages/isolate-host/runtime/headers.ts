/**
 * Fetch-standard Headers: case-insensitive names, values combined with ", "
 * when read, iteration sorted by name, Set-Cookie kept apart. The raw list
 * (lower-case names, insertion order) is what leaves the isolate.
 */

import { pairIterator } from "./pair-iterator.js";
import { asInterface } from "./webidl-interface.js";

export type HeadersInit = Headers | Iterable<Iterable<string>> | Record<string, string>;

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// Leading/trailing HTTP whitespace: tab, LF, CR, space.
const EDGE_WHITESPACE = /^[\t\n\r ]+|[\t\n\r ]+$/g;
const FORBIDDEN_VALUE = /[\0\r\n]/;

export function normalizeName(name: unknown): string {
  const str = toByteString(name);
  if (!TOKEN.test(str)) throw new TypeError(`Invalid header name: "${str}"`);
  return str.toLowerCase();
}

export function normalizeValue(value: unknown): string {
  const str = toByteString(value).replace(EDGE_WHITESPACE, "");
  if (FORBIDDEN_VALUE.test(str)) throw new TypeError(`Invalid header value: "${str}"`);
  return str;
}

/**
 * HeadersInit, converted as WebIDL's union (sequence<sequence<ByteString>> or
 * record<ByteString, ByteString>) does: an object with @@iterator is a
 * sequence of pairs, any other object a record of its own enumerable keys.
 */
function convertInit(init: unknown): Array<[string, string]> {
  if ((typeof init !== "object" && typeof init !== "function") || init === null)
    throw new TypeError(
      "Failed to construct 'Headers': The provided value is not of type '(record<ByteString, ByteString> or sequence<sequence<ByteString>>)'.",
    );
  const object = init as Record<PropertyKey, unknown>;
  const iteratorMethod = object[Symbol.iterator];
  const pairs: Array<[string, string]> = [];
  if (iteratorMethod !== undefined && iteratorMethod !== null) {
    if (typeof iteratorMethod !== "function")
      throw new TypeError("Headers init's @@iterator is not a function");
    const converted: string[][] = [];
    for (const pair of {
      [Symbol.iterator]: () => Reflect.apply(iteratorMethod, object, []),
    } as Iterable<unknown>) {
      if ((typeof pair !== "object" && typeof pair !== "function") || pair === null)
        throw new TypeError(
          "Failed to construct 'Headers': each header pair must be an iterable [name, value]",
        );
      const inner = (pair as Record<PropertyKey, unknown>)[Symbol.iterator];
      if (typeof inner !== "function")
        throw new TypeError(
          "Failed to construct 'Headers': each header pair must be an iterable [name, value]",
        );
      const items: string[] = [];
      for (const item of { [Symbol.iterator]: () => Reflect.apply(inner, pair, []) } as Iterable<unknown>)
        items.push(toByteString(item));
      converted.push(items);
    }
    for (const items of converted) {
      if (items.length !== 2)
        throw new TypeError(
          `Failed to construct 'Headers': a header pair must have exactly two items (name and value), not ${items.length}`,
        );
      pairs.push([items[0]!, items[1]!]);
    }
    return pairs;
  }
  for (const key of Reflect.ownKeys(object)) {
    const descriptor = Reflect.getOwnPropertyDescriptor(object, key);
    if (descriptor === undefined || !descriptor.enumerable) continue;
    const name = toByteString(key);
    pairs.push([name, toByteString(object[key])]);
  }
  return pairs;
}

/** WebIDL ByteString: ToString (symbols are a TypeError), then no code unit above 0xFF. */
function toByteString(value: unknown): string {
  if (typeof value === "symbol") throw new TypeError("Cannot convert a Symbol value to a string");
  const str = `${value as string}`;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the range is the point
  if (/[^\x00-\xff]/.test(str))
    throw new TypeError(`Cannot convert '${str}' to a ByteString: it has characters above U+00FF`);
  return str;
}

let listOf: (headers: Headers) => Array<[string, string]>;
let sortedOf: (headers: Headers) => Array<[string, string]>;
let isImmutable: (headers: Headers) => boolean;
let makeImmutable: (headers: Headers) => void;

export class Headers {
  #list: Array<[string, string]> = [];
  #immutable = false;
  /** Installed on the prototype below (one function, so the copy constructor can recognise it). */
  declare [Symbol.iterator]: () => IterableIterator<[string, string]>;
  #sorted: Array<[string, string]> | null = null;
  #sortedFor: Array<[string, string]> | null = null;
  #sortedLength = 0;

  static {
    listOf = (headers) => headers.#list;
    sortedOf = (headers) => headers.#sortedAndCombined();
    makeImmutable = (headers) => {
      headers.#immutable = true;
    };
    isImmutable = (headers) => headers.#immutable;
  }

  constructor(init?: HeadersInit) {
    if (init === undefined) return;
    if (init instanceof Headers && init[Symbol.iterator] === iterate) {
      for (const [name, value] of init.#list) this.#list.push([name, value]);
      return;
    }
    // WebIDL converts the whole (sequence or record) argument first; Fetch then appends each pair.
    for (const [name, value] of convertInit(init)) this.append(name, value);
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
    if (typeof callback !== "function")
      throw new TypeError("Failed to execute 'forEach' on 'Headers': parameter 1 is not of type 'Function'.");
    // Live, as WebIDL's forEach: the sorted list is looked at again for each index.
    for (let index = 0; ; index++) {
      const pairs = this.#sortedAndCombined();
      if (index >= pairs.length) return;
      const [name, value] = pairs[index]!;
      Reflect.apply(callback, thisArg, [value, name, this]);
    }
  }

  entries(): IterableIterator<[string, string]> {
    return headersIterator(this, "key+value") as IterableIterator<[string, string]>;
  }

  keys(): IterableIterator<string> {
    return headersIterator(this, "key") as IterableIterator<string>;
  }

  values(): IterableIterator<string> {
    return headersIterator(this, "value") as IterableIterator<string>;
  }

  /** Fetch's "sort and combine", cached until the list changes. */
  #sortedAndCombined(): Array<[string, string]> {
    if (this.#sorted !== null && this.#sortedFor === this.#list && this.#sortedLength === this.#list.length)
      return this.#sorted;
    // One pass to group values by name, so iterating many headers stays linear (plus the sort).
    const grouped = new Map<string, string[]>();
    for (const [key, value] of this.#list) {
      const values = grouped.get(key);
      if (values === undefined) grouped.set(key, [value]);
      else values.push(value);
    }
    const sorted: Array<[string, string]> = [];
    for (const name of [...grouped.keys()].sort()) {
      const values = grouped.get(name)!;
      if (name === "set-cookie") for (const value of values) sorted.push([name, value]);
      else sorted.push([name, values.join(", ")]);
    }
    this.#sorted = sorted;
    this.#sortedFor = this.#list;
    this.#sortedLength = this.#list.length;
    return sorted;
  }

  #checkMutable(): void {
    // Matches Workers: the incoming request's headers cannot be changed.
    if (this.#immutable) throw new TypeError("Can't modify immutable headers.");
  }
}

const headersIterator = pairIterator<Headers>("Headers Iterator", (headers) => sortedOf(headers));

/** The Headers iterator (WebIDL: @@iterator is `entries`), which `new Headers(headers)` recognises. */
const iterate = Headers.prototype.entries;
asInterface(Headers, "Headers", 0);
Object.defineProperty(Headers.prototype, Symbol.iterator, {
  value: iterate,
  writable: true,
  configurable: true,
  enumerable: false,
});

/** Lower-case name/value pairs in insertion order, Set-Cookie lines separate. */
export function headerList(headers: Headers): Array<[string, string]> {
  return listOf(headers);
}

/** A copy with the same guard, as Request/Response clone() make. */
export function cloneHeaders(headers: Headers): Headers {
  const copy = new Headers(headers);
  return isImmutable(headers) ? freezeHeaders(copy) : copy;
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
