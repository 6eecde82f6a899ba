import { api } from "../api.js";
import { formatTime, h, mount } from "../dom.js";
import type { ScriptSummary } from "../types.js";
import { editor } from "./editor.js";

/** Every script, following the API's pages (1000 a page, by name). */
async function listAll(): Promise<ScriptSummary[]> {
  const scripts: ScriptSummary[] = [];
  let cursor: string | null = null;
  do {
    const path: string = cursor === null ? "/v1/scripts" : `/v1/scripts?cursor=${encodeURIComponent(cursor)}`;
    const page: { scripts: ScriptSummary[]; cursor: string | null } = await api("GET", path);
    scripts.push(...page.scripts);
    cursor = page.cursor;
  } while (cursor !== null);
  return scripts;
}

/** Every script with its active and latest versions, and a form to deploy a new one. */
export function renderScripts(root: Element): () => void {
  const list = h("div", {}, "Loading…");
  const name = h("input", {
    id: "new-name",
    pattern: "[a-z0-9-]{1,63}",
    required: true,
    placeholder: "my-script",
  });
  const code = editor(
    "new-source",
    'export default {\n  async fetch(request, env) {\n    return new Response("Hello from the edge");\n  },\n};\n',
  );
  const form = h(
    "form",
    { class: "deploy", "aria-label": "Deploy a new script" },
    h("h2", {}, "Deploy a new script"),
    h("label", { for: "new-name" }, "Name"),
    name,
    code.element,
    h("button", { type: "submit" }, "Deploy"),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (await code.deploy(name.value)) location.hash = `#/scripts/${encodeURIComponent(name.value)}`;
  });
  mount(root, h("h1", {}, "Scripts"), list, form);
  void listAll().then(
    (scripts) =>
      mount(
        list,
        scripts.length === 0
          ? h("p", {}, "No scripts yet.")
          : h(
              "table",
              {},
              h(
                "thead",
                {},
                h(
                  "tr",
                  {},
                  ...["Script", "Active", "Latest", "Updated"].map((t) => h("th", { scope: "col" }, t)),
                ),
              ),
              h(
                "tbody",
                {},
                ...scripts.map((s) =>
                  h(
                    "tr",
                    {},
                    h("td", {}, h("a", { href: `#/scripts/${encodeURIComponent(s.name)}` }, s.name)),
                    h("td", {}, `v${s.activeVersion}`),
                    h("td", {}, `v${s.latestVersion}`),
                    h("td", {}, formatTime(s.updatedAt)),
                  ),
                ),
              ),
            ),
      ),
    (err: unknown) => mount(list, h("p", { class: "message" }, String(err))),
  );
  return () => {};
}
