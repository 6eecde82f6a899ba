/**
 * WebIDL QuotaExceededError: a DOMException of its own class (name
 * "QuotaExceededError", legacy code 22) carrying the `quota` and `requested`
 * figures when the thrower knows them, null otherwise.
 */
import { DOMException } from "./dom-exception.js";

export interface QuotaExceededErrorOptions {
  quota?: number;
  requested?: number;
}

function optionalFigure(value: unknown, member: string): number | null {
  if (value === undefined) return null;
  const number = Number(value);
  if (!Number.isFinite(number)) throw new TypeError(`${member} must be a finite number`);
  if (number < 0) throw new RangeError(`${member} cannot be negative`);
  return number;
}

export class QuotaExceededError extends DOMException {
  readonly #quota: number | null;
  readonly #requested: number | null;

  constructor(message: unknown = "", options: QuotaExceededErrorOptions | null = null) {
    super(message, "QuotaExceededError");
    const quota = optionalFigure(options?.quota, "quota");
    const requested = optionalFigure(options?.requested, "requested");
    if (quota !== null && requested !== null && requested < quota)
      throw new RangeError("requested cannot be smaller than quota");
    this.#quota = quota;
    this.#requested = requested;
  }

  get quota(): number | null {
    return this.#quota;
  }
  get requested(): number | null {
    return this.#requested;
  }
}
