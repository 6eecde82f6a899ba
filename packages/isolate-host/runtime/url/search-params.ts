/**
 * URLSearchParams (URL Standard §6.2): a list of name-value pairs, kept in
 * step with its URL's query when it belongs to one.
 */
import { parseFormUrlencoded, serializeFormUrlencoded, toUSVString } from "./form-urlencoded.js";

type Pair = [string, string];

function requireArgs(count: number, needed: number, method: string): void {
  if (count < needed) {
    throw new TypeError(
      `Failed to execute '${method}' on 'URLSearchParams': ${needed} argument${needed > 1 ? "s" : ""} required, but only ${count} present.`,
    );
  }
}

function pairsFromInit(init: unknown): Pair[] {
  if (init === undefined || init === null) return init === null ? parseFormUrlencoded("null") : [];
  if (typeof init === "object" || typeof init === "function") {
    const iterator = (init as { [Symbol.iterator]?: unknown })[Symbol.iterator];
    // Another URLSearchParams iterates as a sequence of pairs; unless its iterator was replaced, copy its list.
    if (init instanceof URLSearchParams && iterator === URLSearchParams.prototype.entries)
      return copyList(init);
    if (iterator !== undefined && iterator !== null) {
      if (typeof iterator !== "function") throw new TypeError("URLSearchParams init is not iterable");
      const pairs: Pair[] = [];
      for (const pair of init as Iterable<unknown>) {
        if ((typeof pair !== "object" && typeof pair !== "function") || pair === null)
          throw new TypeError("Each URLSearchParams init pair must be a sequence");
        const items = Array.from(pair as Iterable<unknown>);
        if (items.length !== 2)
          throw new TypeError("Each URLSearchParams init pair must have exactly two items");
        pairs.push([toUSVString(items[0]), toUSVString(items[1])]);
      }
      return pairs;
    }
    // WebIDL record<USVString, USVString>: a key repeated after conversion keeps its first place, last value.
    const record = init as Record<string | symbol, unknown>;
    const pairs: Pair[] = [];
    const at = new Map<string, number>();
    for (const key of Reflect.ownKeys(record)) {
      const descriptor = Reflect.getOwnPropertyDescriptor(record, key);
      if (descriptor === undefined || !descriptor.enumerable) continue;
      if (typeof key === "symbol") throw new TypeError("URLSearchParams record keys must be strings");
      const name = toUSVString(key);
      const value = toUSVString(record[key]);
      const index = at.get(name);
      if (index === undefined) {
        at.set(name, pairs.length);
        pairs.push([name, value]);
      } else pairs[index] = [name, value];
    }
    return pairs;
  }
  const text = toUSVString(init);
  return parseFormUrlencoded(text.startsWith("?") ? text.slice(1) : text);
}

/** Runs when a URLSearchParams belonging to a URL changes: hands the URL its new query. */
type UpdateUrl = (serialized: string) => void;

let copyList: (params: URLSearchParams) => Pair[];
let attach: (params: URLSearchParams, update: UpdateUrl) => void;
let replaceList: (params: URLSearchParams, query: string) => void;

/** A URLSearchParams for a URL whose query is `query` (no "?"), calling `update` when it changes. */
export function searchParamsForUrl(query: string, update: UpdateUrl): URLSearchParams {
  const params = new URLSearchParams(query);
  attach(params, update);
  return params;
}

/** The URL's query changed (href or search set): the list follows it. */
export function resetSearchParams(params: URLSearchParams, query: string): void {
  replaceList(params, query);
}

export class URLSearchParams {
  #list: Pair[];
  #update: UpdateUrl | null = null;

  static {
    copyList = (params) => params.#list.map(([name, value]) => [name, value]);
    attach = (params, update) => {
      params.#update = update;
    };
    replaceList = (params, query) => {
      params.#list = parseFormUrlencoded(query);
    };
  }

  constructor(init: unknown = undefined) {
    this.#list = pairsFromInit(init);
  }

  get size(): number {
    return this.#list.length;
  }

  append(...args: unknown[]): void {
    requireArgs(args.length, 2, "append");
    this.#list.push([toUSVString(args[0]), toUSVString(args[1])]);
    this.#changed();
  }

  delete(...args: unknown[]): void {
    requireArgs(args.length, 1, "delete");
    const name = toUSVString(args[0]);
    const value = args[1] === undefined ? undefined : toUSVString(args[1]);
    this.#list = this.#list.filter(([n, v]) => n !== name || (value !== undefined && v !== value));
    this.#changed();
  }

  get(...args: unknown[]): string | null {
    requireArgs(args.length, 1, "get");
    const name = toUSVString(args[0]);
    return this.#list.find(([n]) => n === name)?.[1] ?? null;
  }

  getAll(...args: unknown[]): string[] {
    requireArgs(args.length, 1, "getAll");
    const name = toUSVString(args[0]);
    return this.#list.filter(([n]) => n === name).map(([, v]) => v);
  }

  has(...args: unknown[]): boolean {
    requireArgs(args.length, 1, "has");
    const name = toUSVString(args[0]);
    const value = args[1] === undefined ? undefined : toUSVString(args[1]);
    return this.#list.some(([n, v]) => n === name && (value === undefined || v === value));
  }

  set(...args: unknown[]): void {
    requireArgs(args.length, 2, "set");
    const name = toUSVString(args[0]);
    const value = toUSVString(args[1]);
    const at = this.#list.findIndex(([n]) => n === name);
    if (at < 0) this.#list.push([name, value]);
    else {
      this.#list[at] = [name, value];
      this.#list = this.#list.filter(([n], i) => i <= at || n !== name);
    }
    this.#changed();
  }

  sort(): void {
    // Stable, by UTF-16 code units (JS string comparison).
    this.#list.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    this.#changed();
  }

  forEach(callback: unknown, thisArg: unknown = undefined): void {
    if (typeof callback !== "function")
      throw new TypeError("Failed to execute 'forEach' on 'URLSearchParams': parameter 1 is not a function.");
    for (let i = 0; i < this.#list.length; i++) {
      const [name, value] = this.#list[i]!;
      Reflect.apply(callback, thisArg, [value, name, this]);
    }
  }

  keys(): IterableIterator<string> {
    return this.#iterate((pair) => pair[0]);
  }

  values(): IterableIterator<string> {
    return this.#iterate((pair) => pair[1]);
  }

  entries(): IterableIterator<[string, string]> {
    return this.#iterate((pair) => [pair[0], pair[1]]);
  }

  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.entries();
  }

  toString(): string {
    return serializeFormUrlencoded(this.#list);
  }

  get [Symbol.toStringTag](): string {
    return "URLSearchParams";
  }

  /** WebIDL iterators see the list as it is at each step, changes included. */
  *#iterate<T>(select: (pair: Pair) => T): IterableIterator<T> {
    for (let i = 0; i < this.#list.length; i++) yield select(this.#list[i]!);
  }

  #changed(): void {
    this.#update?.(serializeFormUrlencoded(this.#list));
  }
}

// The WebIDL iterable's methods are enumerable on the prototype, like the others; entries is @@iterator.
Object.defineProperty(URLSearchParams.prototype, Symbol.iterator, {
  value: URLSearchParams.prototype.entries,
  writable: true,
  configurable: true,
  enumerable: false,
});
