/**
 * WebIDL pair iterators ("Headers Iterator", "FormData Iterator"): objects
 * whose prototype has an own, enumerable `next` and inherits from
 * %IteratorPrototype% (not a generator's), walking the target's current pairs
 * by index, so changes made while iterating are seen as the standard says.
 */

export type IterationKind = "key" | "value" | "key+value";

interface IteratorState<T> {
  target: T;
  kind: IterationKind;
  index: number;
}

const iteratorPrototype = Object.getPrototypeOf(Object.getPrototypeOf([][Symbol.iterator]())) as object;

/** Makes the iterator factory of one interface; `pairsOf` gives the pairs to iterate right now. */
export function pairIterator<T>(
  tag: string,
  pairsOf: (target: T) => ReadonlyArray<readonly [unknown, unknown]>,
): (target: T, kind: IterationKind) => IterableIterator<unknown> {
  const states = new WeakMap<object, IteratorState<T>>();
  const prototype = Object.create(iteratorPrototype, {
    next: {
      value: function next(this: object) {
        const state = states.get(this);
        if (state === undefined) throw new TypeError(`'next' called on an object that is not a ${tag}`);
        const pairs = pairsOf(state.target);
        if (state.index >= pairs.length) return { value: undefined, done: true };
        const [key, value] = pairs[state.index++]!;
        const result = state.kind === "key" ? key : state.kind === "value" ? value : [key, value];
        return { value: result, done: false };
      },
      writable: true,
      enumerable: true,
      configurable: true,
    },
    [Symbol.toStringTag]: { value: tag, configurable: true },
  }) as object;
  return (target, kind) => {
    const iterator = Object.create(prototype) as IterableIterator<unknown>;
    states.set(iterator, { target, kind, index: 0 });
    return iterator;
  };
}
