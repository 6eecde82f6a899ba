/**
 * Gives a class the shape WebIDL gives an interface: its operations and
 * attributes enumerable on the prototype, `Symbol.toStringTag` a
 * non-writable data property, `length` as the number of required arguments.
 */
export function asInterface(
  ctor: abstract new (...args: never[]) => unknown,
  name: string,
  length: number,
): void {
  const prototype = ctor.prototype as object;
  for (const key of Reflect.ownKeys(prototype)) {
    if (key === "constructor" || key === Symbol.toStringTag || key === Symbol.iterator) continue;
    const descriptor = Reflect.getOwnPropertyDescriptor(prototype, key)!;
    Reflect.defineProperty(prototype, key, { ...descriptor, enumerable: true });
  }
  Reflect.defineProperty(prototype, Symbol.toStringTag, {
    value: name,
    writable: false,
    enumerable: false,
    configurable: true,
  });
  Reflect.defineProperty(ctor, "length", { value: length, configurable: true });
  // esbuild names classes with static blocks `_Name` inside the bundle.
  if (ctor.name !== name) Reflect.defineProperty(ctor, "name", { value: name, configurable: true });
}
