/**
 * The WebIDL conversions the body family needs (https://webidl.spec.whatwg.org/#es-type-mapping),
 * with the spec's order of property reads and its TypeErrors.
 */

/** DOMString: ToString, which throws a TypeError for symbols (unlike String()). */
export function toDOMString(value: unknown): string {
  return `${value as string}`;
}

/** USVString: DOMString with lone surrogates replaced by U+FFFD. */
export function toUSVString(value: unknown): string {
  return (toDOMString(value) as unknown as { toWellFormed(): string }).toWellFormed();
}

/** A dictionary argument: undefined and null mean "all defaults"; other non-objects are a TypeError. */
export function dictionaryOf(value: unknown, what: string): Record<string, unknown> | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== "object" && typeof value !== "function")
    throw new TypeError(`${what} must be an object`);
  return value as Record<string, unknown>;
}

/** A sequence<T> argument: an object with a callable @@iterator, read once. */
export function iterableOf(value: unknown, what: string): Iterable<unknown> {
  if ((typeof value !== "object" && typeof value !== "function") || value === null)
    throw new TypeError(`${what} is not iterable`);
  const method = (value as { [Symbol.iterator]?: unknown })[Symbol.iterator];
  if (typeof method !== "function") throw new TypeError(`${what} is not iterable`);
  return { [Symbol.iterator]: () => Reflect.apply(method, value, []) as Iterator<unknown> };
}

/** [Clamp] long long. */
export function toClampedInteger(value: unknown): number {
  const number = Number(value);
  if (Number.isNaN(number)) return 0;
  const clamped = Math.min(Math.max(number, Number.MIN_SAFE_INTEGER), Number.MAX_SAFE_INTEGER);
  // Round half to even, as [Clamp] does.
  const floor = Math.floor(clamped);
  const diff = clamped - floor;
  if (diff > 0.5) return floor + 1;
  if (diff < 0.5) return floor === 0 ? 0 : floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

/** long long (no [Clamp]): ToNumber, truncate, modulo 2^64 (here: anything non-finite is 0). */
export function toLongLong(value: unknown): number {
  const number = Number(value);
  if (!Number.isFinite(number)) return 0;
  return Math.trunc(number) || 0;
}
