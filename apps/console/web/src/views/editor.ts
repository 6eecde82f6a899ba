import { ApiError, api } from "../api.js";
import { h } from "../dom.js";

/** `name.js:3:14: Unexpected ";"` (the API's EDGE_INVALID_SCRIPT message): the line it points at. */
export function errorLine(message: string): number | null {
  const match = /\.[jt]s:(\d+):(\d+):/.exec(message);
  return match?.[1] === undefined ? null : Number(match[1]);
}

/**
 * A source editor (a textarea with a line gutter) that deploys through `PUT /v1/scripts/:name`
 * and shows a deploy error at its line.
 */
export function editor(id: string, initial: string) {
  const area = h("textarea", { id, spellcheck: "false", rows: 14, "aria-label": "Script source" });
  area.value = initial;
  const gutter = h("pre", { class: "gutter", "aria-hidden": "true" });
  const message = h("p", { class: "message", role: "alert" });
  const renderGutter = (bad: number | null): void => {
    gutter.replaceChildren();
    const lines = area.value.split("\n").length;
    for (let i = 1; i <= lines; i++)
      gutter.append(h("span", i === bad ? { class: "bad-line" } : {}, `${i}\n`));
  };
  area.addEventListener("input", () => renderGutter(null));
  area.addEventListener("scroll", () => {
    gutter.scrollTop = area.scrollTop;
  });
  renderGutter(null);
  const element = h("div", { class: "editor" }, h("div", { class: "editor-body" }, gutter, area), message);
  return {
    element,
    get value(): string {
      return area.value;
    },
    set value(text: string) {
      area.value = text;
      renderGutter(null);
    },
    /** Deploys the source as a new version of `name`; shows the outcome; true when it was stored. */
    async deploy(name: string): Promise<boolean> {
      message.textContent = "Deploying…";
      message.className = "message";
      try {
        const result = await api<{ version: number }>(
          "PUT",
          `/v1/scripts/${encodeURIComponent(name)}`,
          area.value,
          "application/javascript",
        );
        message.textContent = `Deployed version ${result.version}.`;
        message.className = "message ok";
        return true;
      } catch (err) {
        const text = err instanceof ApiError ? `${err.code}: ${err.message}` : String(err);
        const line = err instanceof ApiError ? errorLine(err.message) : null;
        message.textContent = line === null ? text : `Line ${line}: ${text}`;
        message.className = "message error";
        renderGutter(line);
        return false;
      }
    },
  };
}
