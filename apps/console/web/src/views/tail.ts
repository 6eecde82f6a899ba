import { apiStream } from "../api.js";
import { h, mount } from "../dom.js";
import type { TraceView } from "../types.js";

const MAX_ROWS = 200;

/** Reads a Server-Sent Events body; calls `onEvent` for each event with its parsed data. */
async function readEvents(
  body: ReadableStream<Uint8Array>,
  onEvent: (type: string, data: unknown) => void,
): Promise<void> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    let end = buffer.indexOf("\n\n");
    while (end !== -1) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let type = "message";
      const data: string[] = [];
      for (const line of block.split("\n")) {
        if (line.startsWith("event:")) type = line.slice(6).trim();
        else if (line.startsWith("data:")) data.push(line.slice(5).trimStart());
      }
      if (data.length > 0) {
        try {
          onEvent(type, JSON.parse(data.join("\n")));
        } catch {
          // a malformed event is skipped
        }
      }
      end = buffer.indexOf("\n\n");
    }
  }
}

/**
 * The live tail (`GET /v1/scripts/:name/tail`, read with fetch so the token goes in a header,
 * never in the URL) with its filters, pausing, and each request's console lines and exception.
 */
export function renderTail(root: Element, name: string): () => void {
  const pop = h("input", { id: "tail-pop", placeholder: "fra", "aria-label": "PoP" });
  const status = h(
    "select",
    { id: "tail-status", "aria-label": "Status" },
    ...["", "ok", "error", "5xx", "404"].map((s) => h("option", { value: s }, s || "any status")),
  );
  const method = h("input", { id: "tail-method", placeholder: "GET", "aria-label": "Method" });
  const search = h("input", { id: "tail-search", placeholder: "search", "aria-label": "Search" });
  const pause = h("button", { type: "button", "aria-pressed": "false" }, "Pause");
  const state = h("p", { class: "message", role: "status" }, "Connecting…");
  const rows = h("ol", { class: "tail", "aria-live": "polite" });
  const filters = h(
    "form",
    { class: "filters", "aria-label": "Tail filters" },
    pop,
    status,
    method,
    search,
    h("button", { type: "submit" }, "Apply"),
    pause,
  );
  mount(
    root,
    h("p", {}, h("a", { href: `#/scripts/${encodeURIComponent(name)}` }, `← ${name}`)),
    h("h1", {}, `Live tail: ${name}`),
    filters,
    state,
    rows,
  );

  let paused = false;
  let held: TraceView[] = [];
  let controller = new AbortController();
  pause.addEventListener("click", () => {
    paused = !paused;
    pause.textContent = paused ? "Resume" : "Pause";
    pause.setAttribute("aria-pressed", String(paused));
    if (!paused) {
      for (const trace of held) show(trace);
      held = [];
    }
  });
  const show = (trace: TraceView): void => {
    rows.prepend(traceRow(trace));
    while (rows.childElementCount > MAX_ROWS) rows.lastElementChild?.remove();
  };
  const connect = async (): Promise<void> => {
    controller.abort();
    controller = new AbortController();
    const query = new URLSearchParams();
    for (const [key, input] of [
      ["pop", pop],
      ["status", status],
      ["method", method],
      ["search", search],
    ] as const) {
      if (input.value.trim() !== "") query.set(key, input.value.trim());
    }
    try {
      const response = await apiStream(
        `/v1/scripts/${encodeURIComponent(name)}/tail?${query}`,
        controller.signal,
      );
      if (response.body === null) throw new Error("no stream");
      await readEvents(response.body, (type, data) => {
        if (type === "open") {
          state.textContent = "Connected: new requests appear here.";
          root.setAttribute("data-tail-open", "true");
        } else if (type === "request") {
          if (paused) held.push(data as TraceView);
          else show(data as TraceView);
        } else if (type === "dropped") {
          state.textContent = `${(data as { dropped: number }).dropped} request(s) dropped (too many at once).`;
        }
      });
      state.textContent = "The tail ended.";
    } catch (err) {
      if (!controller.signal.aborted)
        state.textContent = `Tail failed: ${err instanceof Error ? err.message : String(err)}`;
    }
  };
  filters.addEventListener("submit", (event) => {
    event.preventDefault();
    void connect();
  });
  void connect();
  return () => controller.abort();
}

function traceRow(trace: TraceView): HTMLElement {
  return h(
    "li",
    { class: trace.error ? "trace error" : "trace" },
    h(
      "div",
      { class: "line" },
      `${new Date(trace.time).toLocaleTimeString()} ${trace.pop} ${trace.method} ${trace.url} → ${trace.status} (v${trace.version}, ${trace.cpuMs.toFixed(1)} ms CPU)`,
    ),
    ...trace.logs.map((log) => h("div", { class: `log log-${log.level}` }, `[${log.level}] ${log.message}`)),
    trace.error
      ? h(
          "pre",
          { class: "exception" },
          `${trace.error.code}: ${trace.error.message}${trace.error.stack ? `\n${trace.error.stack}` : ""}`,
        )
      : null,
  );
}
