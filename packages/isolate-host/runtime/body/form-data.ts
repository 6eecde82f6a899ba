/**
 * FormData (XHR standard, https://xhr.spec.whatwg.org/#interface-formdata):
 * an ordered list of (name, string | File) entries. Iteration is live, as
 * WebIDL's pair iterators are: it walks the list by index, so entries added
 * or removed meanwhile are seen or skipped as in browsers.
 */

import { pairIterator } from "../pair-iterator.js";
import { asInterface } from "../webidl-interface.js";
import { Blob, File } from "./blob.js";
import { toUSVString } from "./webidl.js";

export type FormDataValue = string | File;
export type FormDataEntry = [string, FormDataValue];

let entriesOf: (formData: FormData) => FormDataEntry[];

/** "Create an entry": strings as USVString, a Blob becomes a File named "blob" (or `filename`). */
function createEntry(name: unknown, value: unknown, filename: unknown, hasFilename: boolean): FormDataEntry {
  const entryName = toUSVString(name);
  if (!(value instanceof Blob)) return [entryName, toUSVString(value)];
  if (value instanceof File && !hasFilename) return [entryName, value];
  const options: { type: string; lastModified?: number } = { type: value.type };
  if (value instanceof File) options.lastModified = value.lastModified;
  const fileName = hasFilename ? toUSVString(filename) : "blob";
  return [entryName, new File([value], fileName, options)];
}

function checkArguments(method: string, args: readonly unknown[], required: number): void {
  if (args.length < required)
    throw new TypeError(
      `Failed to execute '${method}' on 'FormData': ${required} arguments required, but only ${args.length} present.`,
    );
}

/** The overloads of append/set: with a filename, the value must be a Blob. */
function entryFromArguments(method: string, args: readonly unknown[]): FormDataEntry {
  checkArguments(method, args, 2);
  const hasFilename = args.length > 2;
  if (hasFilename && !(args[1] instanceof Blob))
    throw new TypeError(`Failed to execute '${method}' on 'FormData': parameter 2 is not of type 'Blob'.`);
  return createEntry(args[0], args[1], args[2], hasFilename);
}

export class FormData {
  #entries: FormDataEntry[] = [];

  static {
    entriesOf = (formData) => formData.#entries;
  }

  constructor(form?: unknown) {
    // There are no HTML forms here: only `new FormData()` (or undefined) is valid.
    if (form !== undefined)
      throw new TypeError("Failed to construct 'FormData': parameter 1 is not of type 'HTMLFormElement'.");
  }

  append(...args: [name: string, value: string | Blob, filename?: string]): void {
    this.#entries.push(entryFromArguments("append", args));
  }

  delete(...args: [name: string]): void {
    checkArguments("delete", args, 1);
    const key = toUSVString(args[0]);
    this.#entries = this.#entries.filter(([entryName]) => entryName !== key);
  }

  get(...args: [name: string]): FormDataValue | null {
    checkArguments("get", args, 1);
    const key = toUSVString(args[0]);
    const entry = this.#entries.find(([entryName]) => entryName === key);
    return entry === undefined ? null : entry[1];
  }

  getAll(...args: [name: string]): FormDataValue[] {
    checkArguments("getAll", args, 1);
    const key = toUSVString(args[0]);
    return this.#entries.filter(([entryName]) => entryName === key).map(([, value]) => value);
  }

  has(...args: [name: string]): boolean {
    checkArguments("has", args, 1);
    const key = toUSVString(args[0]);
    return this.#entries.some(([entryName]) => entryName === key);
  }

  set(...args: [name: string, value: string | Blob, filename?: string]): void {
    const entry = entryFromArguments("set", args);
    const index = this.#entries.findIndex(([entryName]) => entryName === entry[0]);
    if (index === -1) {
      this.#entries.push(entry);
      return;
    }
    this.#entries[index] = entry;
    this.#entries = this.#entries.filter(([entryName], i) => entryName !== entry[0] || i <= index);
  }

  forEach(callback: (value: FormDataValue, name: string, parent: FormData) => void, thisArg?: unknown): void {
    if (typeof callback !== "function")
      throw new TypeError(
        "Failed to execute 'forEach' on 'FormData': parameter 1 is not of type 'Function'.",
      );
    for (let i = 0; i < this.#entries.length; i++) {
      const [name, value] = this.#entries[i]!;
      Reflect.apply(callback, thisArg, [value, name, this]);
    }
  }

  entries(): IterableIterator<FormDataEntry> {
    return formDataIterator(this, "key+value") as IterableIterator<FormDataEntry>;
  }

  keys(): IterableIterator<string> {
    return formDataIterator(this, "key") as IterableIterator<string>;
  }

  values(): IterableIterator<FormDataValue> {
    return formDataIterator(this, "value") as IterableIterator<FormDataValue>;
  }

  declare [Symbol.iterator]: () => IterableIterator<FormDataEntry>;
}

asInterface(FormData, "FormData", 0);
// WebIDL lengths: required arguments only (the methods take rest parameters to count what was passed).
for (const [method, length] of [
  ["append", 2],
  ["set", 2],
  ["delete", 1],
  ["get", 1],
  ["getAll", 1],
  ["has", 1],
] as const) {
  Object.defineProperty(FormData.prototype[method], "length", { value: length, configurable: true });
}

const formDataIterator = pairIterator<FormData>("FormData Iterator", (formData) => entriesOf(formData));
// WebIDL: @@iterator is the same function as entries.
Object.defineProperty(FormData.prototype, Symbol.iterator, {
  value: FormData.prototype.entries,
  writable: true,
  configurable: true,
  enumerable: false,
});

/** The entry list, for serialising a body (read-only use). */
export function formDataEntries(formData: FormData): readonly FormDataEntry[] {
  return entriesOf(formData);
}

/** A FormData holding parsed entries (Body.formData()). */
export function formDataOf(entries: FormDataEntry[]): FormData {
  const formData = new FormData();
  entriesOf(formData).push(...entries);
  return formData;
}
