import type { ParseArgsConfig } from "node:util";

/** The tail's and the log history's filter flags, passed to the API as they are. */
export const FILTER_OPTIONS = {
  pop: { type: "string", multiple: true },
  status: { type: "string", multiple: true },
  method: { type: "string", multiple: true },
  search: { type: "string" },
} as const satisfies NonNullable<ParseArgsConfig["options"]>;

export const FILTER_HELP = [
  "--pop fra        only this PoP (repeatable)",
  "--status 5xx     404, 5xx, ok or error (repeatable)",
  "--method POST    only this method (repeatable)",
  "--search text    text in the URL, a console line or the error",
];

export function filterQuery(values: Record<string, unknown>): Record<string, string | string[] | undefined> {
  return {
    pop: values.pop as string[] | undefined,
    status: values.status as string[] | undefined,
    method: values.method as string[] | undefined,
    search: values.search as string | undefined,
  };
}
