/** The slice of whatwg-url's API the runtime uses (the package ships no types). */
declare module "whatwg-url" {
  export class URLSearchParams {
    constructor(init?: string | Record<string, string> | Iterable<[string, string]> | URLSearchParams);
    append(name: string, value: string): void;
    get(name: string): string | null;
    toString(): string;
    [Symbol.iterator](): IterableIterator<[string, string]>;
  }
  export class URL {
    constructor(url: string, base?: string | URL);
    static canParse(url: string, base?: string): boolean;
    href: string;
    readonly origin: string;
    protocol: string;
    host: string;
    hostname: string;
    port: string;
    pathname: string;
    search: string;
    readonly searchParams: URLSearchParams;
    hash: string;
    toString(): string;
    toJSON(): string;
  }
}

/** esbuild turns these into lazily evaluated bundled modules. */
declare function require(id: "tr46"): unknown;
