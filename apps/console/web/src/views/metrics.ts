import uPlot from "uplot";
import { api } from "../api.js";
import { h, mount } from "../dom.js";
import type { MetricsView, ScriptMetrics } from "../types.js";

function chart(
  title: string,
  labels: string[],
  data: uPlot.AlignedData,
  width: number,
  range: [number, number],
): HTMLElement {
  const box = h("figure", { class: "chart", "aria-label": title }, h("figcaption", {}, title));
  const colours = ["#2563eb", "#dc2626", "#16a34a", "#9333ea"];
  new uPlot(
    {
      width,
      height: 200,
      series: [
        {},
        ...labels.map((label, i) => ({
          label,
          stroke: colours[i % colours.length],
          width: 2,
          points: { show: true, size: 5 },
        })),
      ],
      axes: [{}, { size: 60 }],
      scales: { x: { time: true, range: () => range } },
    },
    data,
    box,
  );
  return box;
}

function table(caption: string, head: string[], rows: Array<Array<string | number>>): HTMLElement {
  return h(
    "table",
    {},
    h("caption", {}, caption),
    h("thead", {}, h("tr", {}, ...head.map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", {}, ...rows.map((row) => h("tr", {}, ...row.map((cell) => h("td", {}, cell))))),
  );
}

/** Per-script charts (requests, errors, p50/p99 latency per minute) and its split per version and PoP, refreshed live. */
export function renderMetrics(root: Element, name: string): () => void {
  const body = h("div", {}, "Loading…");
  // The charts for every PoP together, or for one (GET /v1/metrics?pop=).
  const pop = h(
    "select",
    { id: "metrics-pop", "aria-label": "PoP" },
    h("option", { value: "" }, "every PoP"),
  );
  pop.addEventListener("change", () => void refresh());
  mount(
    root,
    h("p", {}, h("a", { href: `#/scripts/${encodeURIComponent(name)}` }, `← ${name}`)),
    h("h1", {}, `Metrics: ${name}`),
    h("label", { for: "metrics-pop" }, "Show "),
    pop,
    body,
  );
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const refresh = async (): Promise<void> => {
    try {
      const metrics = await api<MetricsView>(
        "GET",
        `/v1/metrics?script=${encodeURIComponent(name)}&since=1h`,
      );
      if (stopped) return;
      const script = metrics.scripts.find((s) => s.script === name);
      mount(
        body,
        ...(script
          ? scriptCharts(script, metrics, Math.min(900, root.clientWidth || 900))
          : [h("p", {}, "No requests in the last hour.")]),
      );
      root.setAttribute("data-rendered", "true");
    } catch (err) {
      mount(body, h("p", { class: "message" }, String(err)));
    }
    if (!stopped) timer = setTimeout(refresh, 5_000);
  };
  void refresh();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}

/** One point per minute of the window: zero requests where a minute had none, no latency there. */
function perMinute(script: ScriptMetrics, metrics: MetricsView) {
  const byMinute = new Map(script.series.map((p) => [Math.floor(Date.parse(p.time) / 60_000), p]));
  const first = Math.floor(Date.parse(metrics.since) / 60_000);
  const last = Math.floor(Date.parse(metrics.until) / 60_000);
  const times: number[] = [];
  const requests: number[] = [];
  const errors: number[] = [];
  const p50: Array<number | null> = [];
  const p99: Array<number | null> = [];
  for (let minute = first; minute <= last; minute++) {
    const point = byMinute.get(minute);
    times.push(minute * 60);
    requests.push(point?.requests ?? 0);
    errors.push(point?.errors ?? 0);
    p50.push(point ? point.latencyMs.p50 : null);
    p99.push(point ? point.latencyMs.p99 : null);
  }
  return { times, requests, errors, p50, p99, range: [first * 60, last * 60] as [number, number] };
}

function scriptCharts(script: ScriptMetrics, metrics: MetricsView, width: number): Node[] {
  const m = perMinute(script, metrics);
  const ms = (v: number) => v.toFixed(1);
  return [
    h(
      "p",
      { class: "totals" },
      `${script.requests} requests, ${script.errors} errors, latency p50 ${ms(script.latencyMs.p50)} ms / p99 ${ms(script.latencyMs.p99)} ms (last hour)`,
    ),
    chart(
      "Requests and errors per minute",
      ["requests", "errors"],
      [m.times, m.requests, m.errors],
      width,
      m.range,
    ),
    chart("Latency (ms)", ["p50", "p99"], [m.times, m.p50, m.p99], width, m.range),
    table(
      "Per version",
      ["Version", "Requests", "Errors", "p50 ms", "p99 ms"],
      script.versions.map((v) => [
        `v${v.version}`,
        v.requests,
        v.errors,
        ms(v.latencyMs.p50),
        ms(v.latencyMs.p99),
      ]),
    ),
    table(
      "Per PoP",
      ["Node", "PoP", "Requests", "Errors", "p50 ms", "p99 ms"],
      script.nodes.map((n) => [
        n.nodeId,
        n.pop,
        n.requests,
        n.errors,
        ms(n.latencyMs.p50),
        ms(n.latencyMs.p99),
      ]),
    ),
  ];
}
