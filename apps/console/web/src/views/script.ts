import { diffLines } from "diff";
import { ApiError, api, apiText } from "../api.js";
import { formatTime, h, mount } from "../dom.js";
import type { NodeView, ScriptView, VersionView } from "../types.js";
import { editor } from "./editor.js";

/**
 * One script: its versions (when, sha), the source of any version and a diff between two,
 * deploy from an editor, rollback, gradual rollout with per-node progress, promote/abort, and
 * its vars and secret names (secret values never reach the console).
 */
export function renderScript(root: Element, name: string): () => void {
  const base = `/v1/scripts/${encodeURIComponent(name)}`;
  const header = h("div", {});
  const rolloutBox = h("section", { "aria-label": "Rollout" });
  const versionsBox = h("section", { "aria-label": "Versions" });
  const sourceBox = h("section", { "aria-label": "Source" });
  const envBox = h("section", { "aria-label": "Vars and secrets" });
  const notice = h("p", { class: "message", role: "status" });
  const code = editor("source", "");
  const deployForm = h(
    "form",
    { class: "deploy", "aria-label": "Deploy a new version" },
    h("h2", {}, "Deploy a new version"),
    code.element,
    h("button", { type: "submit" }, "Deploy"),
  );
  deployForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (await code.deploy(name)) await refresh();
  });
  mount(
    root,
    h(
      "p",
      {},
      h("a", { href: "#/scripts" }, "← Scripts"),
      " · ",
      h("a", { href: `#/scripts/${encodeURIComponent(name)}/metrics` }, "Metrics"),
      " · ",
      h("a", { href: `#/scripts/${encodeURIComponent(name)}/tail` }, "Live tail"),
    ),
    header,
    notice,
    rolloutBox,
    versionsBox,
    sourceBox,
    deployForm,
    envBox,
  );

  const act = async (label: string, run: () => Promise<unknown>): Promise<void> => {
    notice.textContent = `${label}…`;
    try {
      await run();
      notice.textContent = `${label}: done.`;
    } catch (err) {
      notice.textContent = `${label} failed: ${err instanceof ApiError ? `${err.code}: ${err.message}` : String(err)}`;
    }
    await refresh();
  };

  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let sourceLoaded = false;
  // Forms are rebuilt only when what they offer changes, so a refresh never clears what is being typed.
  let rolloutKey = "";
  let versionsKey = "";
  let envKey = "";
  const refresh = async (): Promise<void> => {
    clearTimeout(timer);
    try {
      const [script, { versions }, { nodes }] = await Promise.all([
        api<ScriptView>("GET", base),
        api<{ versions: VersionView[] }>("GET", `${base}/versions`),
        api<{ nodes: NodeView[] }>("GET", "/v1/nodes"),
      ]);
      if (stopped) return;
      mount(
        header,
        h("h1", {}, name),
        h("p", {}, `Active version ${script.version}, sha256 ${script.sha256.slice(0, 12)}…`),
      );
      const nextRolloutKey = JSON.stringify([script.version, script.staged, versions.map((v) => v.version)]);
      if (nextRolloutKey !== rolloutKey) {
        rolloutKey = nextRolloutKey;
        mount(rolloutBox, ...rolloutView(script, versions, act, base), progressTable(script, nodes));
      } else {
        rolloutBox.querySelector(".rollout-progress")?.replaceWith(progressTable(script, nodes));
      }
      const nextVersionsKey = JSON.stringify(versions.map((v) => [v.version, v.active]));
      if (nextVersionsKey !== versionsKey) {
        versionsKey = nextVersionsKey;
        mount(versionsBox, ...versionsView(versions, act, base, sourceBox));
      }
      const nextEnvKey = JSON.stringify([script.vars, script.secrets, script.limits]);
      if (nextEnvKey !== envKey) {
        envKey = nextEnvKey;
        mount(envBox, ...envView(script, act, base));
      }
      if (!sourceLoaded) {
        sourceLoaded = true;
        code.value = await apiText(`${base}/source`);
      }
      root.setAttribute("data-rendered", "true");
    } catch (err) {
      notice.textContent = `Could not load ${name}: ${err instanceof Error ? err.message : String(err)}`;
    }
    if (!stopped) timer = setTimeout(refresh, 3_000);
  };
  void refresh();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}

type Act = (label: string, run: () => Promise<unknown>) => Promise<void>;

/** Which version each node runs, and its canary where a rollout splits its traffic. */
function progressTable(script: ScriptView, nodes: NodeView[]): HTMLElement {
  return h(
    "table",
    { class: "rollout-progress" },
    h(
      "thead",
      {},
      h("tr", {}, ...["Node", "PoP", "Runs", "Canary"].map((t) => h("th", { scope: "col" }, t))),
    ),
    h(
      "tbody",
      {},
      ...nodes.map((node) => {
        const entry = script.rollout.find((r) => r.nodeId === node.id);
        return h(
          "tr",
          { "data-node": node.id },
          h("td", {}, node.id),
          h("td", {}, node.pop),
          h("td", { class: "runs" }, entry ? `v${entry.version}` : "—"),
          h("td", {}, entry?.canary ? `v${entry.canary.version} on ${entry.canary.percent} %` : ""),
        );
      }),
    ),
  );
}

function rolloutView(script: ScriptView, versions: VersionView[], act: Act, base: string): Node[] {
  if (script.staged !== null) {
    const staged = script.staged;
    return [
      h("h2", {}, "Rollout in progress"),
      h(
        "p",
        { class: "staged" },
        `Version ${staged.version} on ${staged.percent !== null ? `${staged.percent} % of clients` : `PoPs ${staged.pops?.join(", ")}`} since ${formatTime(staged.startedAt)}`,
      ),
      h(
        "div",
        { class: "actions" },
        h(
          "button",
          { type: "button", onclick: () => act("Promote", () => api("POST", `${base}/promote`, {})) },
          "Promote",
        ),
        h(
          "button",
          { type: "button", onclick: () => act("Abort rollout", () => api("POST", `${base}/rollback`, {})) },
          "Abort (roll back)",
        ),
      ),
      h("h2", {}, "Where each node is"),
    ];
  }
  const others = versions.filter((v) => v.version !== script.version);
  const version = h(
    "select",
    { id: "rollout-version", "aria-label": "Version to roll out" },
    ...others.map((v) => h("option", { value: v.version }, `v${v.version}`)),
  );
  const percent = h("input", {
    id: "rollout-percent",
    type: "number",
    min: 1,
    max: 100,
    value: 10,
    "aria-label": "Percent of clients",
  });
  const pops = h("input", { id: "rollout-pops", placeholder: "or PoPs: fra,sin", "aria-label": "PoPs" });
  const form = h(
    "form",
    { class: "rollout", "aria-label": "Start a gradual rollout" },
    h("h2", {}, "Gradual rollout"),
    version,
    percent,
    pops,
    h("button", { type: "submit", disabled: others.length === 0 }, "Start rollout"),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const list = pops.value
      .split(",")
      .map((p) => p.trim())
      .filter(Boolean);
    const body =
      list.length > 0
        ? { version: Number(version.value), pops: list }
        : { version: Number(version.value), percent: Number(percent.value) };
    void act("Rollout", () => api("POST", `${base}/deploy`, body));
  });
  return [form, h("h2", {}, "Where each node is")];
}

function versionsView(versions: VersionView[], act: Act, base: string, sourceBox: Element): Node[] {
  const show = async (version: number): Promise<void> => {
    const text = await apiText(`${base}/source?version=${version}`);
    mount(sourceBox, h("h2", {}, `Source of v${version}`), h("pre", { class: "source" }, text));
  };
  const diff = async (from: number, to: number): Promise<void> => {
    const [a, b] = await Promise.all([
      apiText(`${base}/source?version=${from}`),
      apiText(`${base}/source?version=${to}`),
    ]);
    const parts = diffLines(a, b).map((part) =>
      h("span", { class: part.added ? "added" : part.removed ? "removed" : "same" }, part.value),
    );
    mount(sourceBox, h("h2", {}, `Diff v${from} → v${to}`), h("pre", { class: "diff" }, ...parts));
  };
  return [
    h("h2", {}, "Versions"),
    h(
      "table",
      {},
      h(
        "thead",
        {},
        h("tr", {}, ...["Version", "Created", "sha256", ""].map((t) => h("th", { scope: "col" }, t))),
      ),
      h(
        "tbody",
        {},
        ...versions.map((v, i) => {
          const previous = versions[i + 1];
          return h(
            "tr",
            { "data-version": v.version },
            h("td", {}, `v${v.version}${v.active ? " (active)" : ""}`),
            h("td", {}, formatTime(v.createdAt)),
            h("td", { class: "sha" }, v.sha256.slice(0, 12)),
            h(
              "td",
              { class: "actions" },
              h("button", { type: "button", onclick: () => void show(v.version) }, "Source"),
              previous
                ? h(
                    "button",
                    { type: "button", onclick: () => void diff(previous.version, v.version) },
                    `Diff v${previous.version}`,
                  )
                : null,
              v.active
                ? null
                : h(
                    "button",
                    {
                      type: "button",
                      onclick: () =>
                        act(`Rollback to v${v.version}`, () =>
                          api("POST", `${base}/rollback`, { version: v.version }),
                        ),
                    },
                    "Roll back to this",
                  ),
            ),
          );
        }),
      ),
    ),
  ];
}

/** A form that sets one name to a value (PUT …/vars or …/secrets with `set`); secret values are write-only. */
function setForm(kind: "vars" | "secrets", act: Act, base: string): HTMLElement {
  const key = h("input", {
    id: `${kind}-name`,
    placeholder: "NAME",
    required: true,
    "aria-label": `${kind} name`,
  });
  const value = h("input", {
    id: `${kind}-value`,
    type: kind === "secrets" ? "password" : "text",
    autocomplete: "off",
    "aria-label": `${kind} value`,
  });
  const form = h(
    "form",
    { class: "inline-form", "aria-label": `Set a ${kind === "vars" ? "var" : "secret"}` },
    key,
    value,
    h("button", { type: "submit" }, kind === "vars" ? "Set var" : "Set secret"),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const body = { set: { [key.value]: value.value } };
    value.value = "";
    void act(`Set ${key.value}`, () => api("PUT", `${base}/${kind}`, body));
  });
  return form;
}

function unsetButton(kind: "vars" | "secrets", name: string, act: Act, base: string): HTMLElement {
  return h(
    "button",
    {
      type: "button",
      onclick: () => act(`Remove ${name}`, () => api("PUT", `${base}/${kind}`, { unset: [name] })),
    },
    "Remove",
  );
}

function envView(script: ScriptView, act: Act, base: string): Node[] {
  const vars = Object.entries(script.vars);
  return [
    h("h2", {}, "Vars"),
    vars.length === 0
      ? h("p", {}, "none")
      : h(
          "dl",
          { class: "vars" },
          ...vars.flatMap(([k, v]) => [
            h("dt", {}, k),
            h("dd", {}, v, " ", unsetButton("vars", k, act, base)),
          ]),
        ),
    setForm("vars", act, base),
    h("h2", {}, "Secrets (names only)"),
    script.secrets.length === 0
      ? h("p", {}, "none")
      : h(
          "ul",
          { class: "secrets" },
          ...script.secrets.map((s) => h("li", {}, s, " ", unsetButton("secrets", s, act, base))),
        ),
    setForm("secrets", act, base),
    h(
      "p",
      { class: "hint" },
      `Limits: ${script.limits.cpuMs} ms CPU, ${script.limits.memoryMb} MB, ${script.limits.wallMs} ms wall.`,
    ),
  ];
}
