/**
 * Process-wide slots for expensive operations (RSA keygen, long PBKDF2):
 * however many requests ask at once, at most EXPENSIVE_SLOTS run in Node's
 * thread pool (4 threads, shared with file and DNS work), the others wait
 * their turn, in order.
 */
const EXPENSIVE_SLOTS = 2;
/** An operation estimated above this is expensive. */
export const EXPENSIVE_MS = 20;

export const expensiveSlots = {
  running: 0,
  waiting: new Set<() => void>(),
  /** Takes a slot, or registers `wake` to be called when one frees. */
  take(wake: () => void): boolean {
    if (this.running < EXPENSIVE_SLOTS) {
      this.waiting.delete(wake);
      this.running++;
      return true;
    }
    this.waiting.add(wake);
    return false;
  },
  release(): void {
    this.running--;
    const [next] = this.waiting;
    if (next !== undefined) {
      this.waiting.delete(next);
      next();
    }
  },
  forget(wake: () => void): void {
    this.waiting.delete(wake);
  },
};

/** Expensive operations in flight in this process (for tests and figures). */
export function expensiveCryptoRunning(): number {
  return expensiveSlots.running;
}
