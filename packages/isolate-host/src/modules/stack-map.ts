import { originalPositionFor, TraceMap } from "@jridgewell/trace-mapping";
import type { ModuleSet } from "./module-set.js";

/** Bounds on what a script's stack may cost the host to map and keep. */
const MAX_STACK_CHARS = 16_384;
const MAX_FRAMES = 50;

/** `    at fn (worker:///s/v1/main.js:3:11)` or `    at worker:///s/v1/main.js:3:11`. */
const FRAME = /^(\s*at (?:.*? \()?)(worker:\/\/\/[^\s()]+):(\d+):(\d+)(\)?)$/;
const ANY_FRAME = /^\s*at /;

/** A script failure as a developer reads it: the stack in the script's own files, and where it was thrown. */
export interface MappedStack {
  /** "Name: message" and the script's frames (runtime frames left out), source maps applied. */
  stack: string;
  /** `file:line:column` (1-based, as V8 prints) of the innermost frame in the script's code, or null. */
  location: string | null;
}

/**
 * Maps stack traces of one version's isolates onto its own files: a module
 * with a source map (`<module>.map`) reports the original file, line and
 * column; one without reports its module name. Each map is parsed once, on
 * the first stack that needs it.
 */
export class StackMapper {
  readonly #set: ModuleSet;
  readonly #maps = new Map<string, TraceMap | null>();

  constructor(set: ModuleSet) {
    this.#set = set;
  }

  map(stack: string): MappedStack {
    const lines = stack.slice(0, MAX_STACK_CHARS).split("\n");
    const out: string[] = [];
    let location: string | null = null;
    let frames = 0;
    for (const line of lines) {
      if (!ANY_FRAME.test(line)) {
        // The message's own lines, before the frames.
        if (frames === 0) out.push(line);
        continue;
      }
      const frame = FRAME.exec(line);
      const module = frame ? this.#set.byFilename.get(frame[2] as string) : undefined;
      if (frame === null || module === undefined) continue; // the runtime's frames, native frames
      if (++frames > MAX_FRAMES) break;
      const at = this.#position(module, Number(frame[3]), Number(frame[4]));
      location ??= at;
      out.push(`${frame[1]}${at}${frame[5]}`);
    }
    return { stack: out.join("\n"), location };
  }

  /** `file:line:column` for a position in a module (1-based line and column, as in V8 stacks). */
  #position(module: string, line: number, column: number): string {
    const map = this.#traceMap(module);
    if (map !== null) {
      const original = originalPositionFor(map, { line, column: Math.max(0, column - 1) });
      if (original.source !== null && original.line !== null && original.column !== null) {
        return `${original.source}:${original.line}:${original.column + 1}`;
      }
    }
    return `${module}:${line}:${column}`;
  }

  #traceMap(module: string): TraceMap | null {
    if (this.#maps.has(module)) return this.#maps.get(module) ?? null;
    let map: TraceMap | null = null;
    const json = this.#set.sourceMaps.get(module);
    if (json !== undefined) {
      try {
        map = new TraceMap(json);
      } catch {
        map = null; // a broken map only costs the mapping
      }
    }
    this.#maps.set(module, map);
    return map;
  }
}
