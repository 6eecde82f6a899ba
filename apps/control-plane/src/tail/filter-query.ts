import type { TailFilter } from "@edge/protocol";
import { z } from "zod";

/** `?pop=fra,iad` and `?pop=fra&pop=iad` both mean two values. */
const list = (item: z.ZodString) =>
  z
    .union([z.string(), z.array(z.string())])
    .optional()
    .transform((v) =>
      (v === undefined ? [] : Array.isArray(v) ? v : [v])
        .flatMap((s) => s.split(","))
        .map((s) => s.trim())
        .filter((s) => s !== ""),
    )
    .pipe(z.array(item).max(32));

export const STATUS_TOKEN = /^(?:[1-5](?:\d\d|xx)|ok|error)$/i;

/**
 * The filter part of `GET /v1/scripts/:name/tail` and `/logs`, checked here
 * and applied at the edge: `pop`, `status` (`404`, `5xx`, `ok`, `error`),
 * `method`, `search` (case-insensitive text in the URL, console lines or
 * error) and `sample` (0 < rate <= 1, after the other filters).
 */
export const tailFilterQuery = z.object({
  pop: list(z.string().regex(/^[a-z0-9-]{1,32}$/, "not a PoP code")),
  status: list(z.string().regex(STATUS_TOKEN, "expected e.g. 404, 5xx, ok or error")),
  method: list(z.string().regex(/^[A-Za-z]{1,16}$/, "not an HTTP method")),
  search: z.string().max(256).optional(),
  sample: z
    .string()
    .regex(/^(?:0?\.\d+|1(?:\.0*)?)$/, "expected a rate between 0 and 1, such as 0.1")
    .transform(Number)
    .pipe(z.number().gt(0).max(1))
    .optional(),
});

export type TailFilterQuery = z.infer<typeof tailFilterQuery>;

export function toTailFilter(q: TailFilterQuery): TailFilter {
  return {
    pops: q.pop,
    methods: q.method.map((m) => m.toUpperCase()),
    statuses: q.status.map((s) => s.toLowerCase()),
    search: q.search ?? "",
    sampleRate: q.sample ?? 0,
  };
}
