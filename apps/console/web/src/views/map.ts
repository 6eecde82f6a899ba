import { geoEquirectangular, geoPath } from "d3-geo";
import type { FeatureCollection } from "geojson";
import { feature } from "topojson-client";
import type { GeometryCollection, Topology } from "topojson-specification";
import { api } from "../api.js";
import { formatTime, h, mount, svg } from "../dom.js";
import type { MetricsView, NodeView } from "../types.js";

const WIDTH = 960;
const HEIGHT = 480;
let world: Promise<FeatureCollection> | null = null;

/** The world's countries, shipped with the console (world-atlas, 1:110m): no tile server, no CDN. */
function loadWorld(): Promise<FeatureCollection> {
  world ??= fetch("world-110m.json")
    .then((r) => r.json() as Promise<Topology<{ countries: GeometryCollection }>>)
    .then((topology) => feature(topology, topology.objects.countries) as FeatureCollection);
  return world;
}

/** Requests per second per node over the last minute, from GET /v1/metrics. */
function ratesByNode(metrics: MetricsView): Map<string, number> {
  const rates = new Map<string, number>();
  const seconds = Math.max(1, (Date.parse(metrics.until) - Date.parse(metrics.since)) / 1000);
  for (const script of metrics.scripts) {
    for (const node of script.nodes)
      rates.set(node.nodeId, (rates.get(node.nodeId) ?? 0) + node.requests / seconds);
  }
  return rates;
}

/**
 * Every node at its lat/lon on an equirectangular world map, coloured by status and sized by
 * live requests/s; focusing or hovering a node shows its details. Returns a stop function.
 */
export function renderMap(root: Element): () => void {
  const projection = geoEquirectangular()
    .scale(WIDTH / (2 * Math.PI))
    .translate([WIDTH / 2, HEIGHT / 2]);
  const path = geoPath(projection);
  const land = svg("g", { class: "land" });
  const markers = svg("g", { class: "markers" });
  const map = svg(
    "svg",
    {
      viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
      role: "img",
      "aria-label": "Edge nodes on a world map",
      class: "world",
    },
    land,
    markers,
  );
  const details = h(
    "aside",
    { class: "node-details", "aria-live": "polite" },
    "Hover or focus a node for details.",
  );
  const table = h("div", { class: "node-table" });
  const status = h("p", { class: "message", role: "status" });
  mount(root, h("h1", {}, "Cluster"), h("div", { class: "map-wrap" }, map, details), status, table);
  void loadWorld().then((countries) => {
    for (const country of countries.features) land.append(svg("path", { d: path(country) ?? "" }));
  });

  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const refresh = async (): Promise<void> => {
    try {
      const [{ nodes }, metrics] = await Promise.all([
        api<{ nodes: NodeView[] }>("GET", "/v1/nodes"),
        api<MetricsView>("GET", "/v1/metrics?since=1m"),
      ]);
      if (stopped) return;
      const rates = ratesByNode(metrics);
      drawMarkers(markers, nodes, rates, projection, details);
      mount(table, nodeTable(nodes, rates, metrics));
      status.textContent = `${nodes.length} node(s), updated ${new Date().toLocaleTimeString()}`;
      root.setAttribute("data-rendered", "true");
    } catch (err) {
      status.textContent = `Could not load the cluster: ${err instanceof Error ? err.message : String(err)}`;
    }
    if (!stopped) timer = setTimeout(refresh, 2_000);
  };
  void refresh();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}

function drawMarkers(
  layer: SVGElement,
  nodes: NodeView[],
  rates: Map<string, number>,
  projection: (point: [number, number]) => [number, number] | null,
  details: HTMLElement,
): void {
  layer.replaceChildren();
  for (const node of nodes) {
    const point = projection([node.lon, node.lat]);
    if (point === null) continue;
    const rate = rates.get(node.id) ?? 0;
    const radius = 6 + Math.min(14, Math.sqrt(rate) * 2);
    const label = `${node.id} (${node.pop}), ${node.status}, ${rate.toFixed(1)} req/s`;
    const marker = svg(
      "g",
      {
        class: `node node-${node.status}`,
        tabindex: 0,
        role: "button",
        "aria-label": label,
        "data-node": node.id,
        "data-pop": node.pop,
        "data-x": point[0].toFixed(1),
        "data-y": point[1].toFixed(1),
        transform: `translate(${point[0].toFixed(1)} ${point[1].toFixed(1)})`,
      },
      svg("circle", { r: radius.toFixed(1) }),
      svg("text", { y: -radius - 4, "text-anchor": "middle" }, `${node.pop} · ${rate.toFixed(1)}/s`),
    );
    const show = (): void => mount(details, nodeDetails(node, rate));
    marker.addEventListener("mouseenter", show);
    marker.addEventListener("focus", show);
    marker.addEventListener("click", show);
    layer.append(marker);
  }
}

function nodeDetails(node: NodeView, rate: number): HTMLElement {
  const scripts = Object.entries(node.scripts);
  return h(
    "div",
    {},
    h("h2", {}, `${node.id} · ${node.pop}`),
    h(
      "dl",
      {},
      h("dt", {}, "Status"),
      h("dd", {}, node.status),
      h("dt", {}, "Config version"),
      h("dd", {}, node.configVersion),
      h("dt", {}, "In flight"),
      h("dd", {}, node.inFlight),
      h("dt", {}, "Requests/s"),
      h("dd", {}, rate.toFixed(2)),
      h("dt", {}, "Last seen"),
      h("dd", {}, formatTime(node.lastSeen)),
      h("dt", {}, "Last NACK"),
      h(
        "dd",
        {},
        node.lastNack ? `${node.lastNack.script} v${node.lastNack.version}: ${node.lastNack.error}` : "none",
      ),
    ),
    h("h3", {}, `Scripts (${scripts.length})`),
    h("ul", {}, ...scripts.map(([name, version]) => h("li", {}, `${name} v${version}`))),
  );
}

function nodeTable(nodes: NodeView[], rates: Map<string, number>, metrics: MetricsView): HTMLElement {
  const stats = new Map(metrics.edgeNodes.map((s) => [s.nodeId, s]));
  return h(
    "table",
    {},
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        ...["Node", "PoP", "Status", "Req/s", "In flight", "Event-loop lag p99", "CPU", "RSS", "Config"].map(
          (t) => h("th", { scope: "col" }, t),
        ),
      ),
    ),
    h(
      "tbody",
      {},
      ...nodes.map((node) => {
        const s = stats.get(node.id);
        return h(
          "tr",
          { "data-node": node.id },
          h("td", {}, node.id),
          h("td", {}, node.pop),
          h("td", { class: `status-${node.status}` }, node.status),
          h("td", {}, (rates.get(node.id) ?? 0).toFixed(2)),
          h("td", {}, node.inFlight),
          h("td", {}, s ? `${s.eventLoopLagP99Ms.toFixed(1)} ms` : "–"),
          h("td", {}, s ? `${Math.round(s.cpuLoad * 100)} %` : "–"),
          h("td", {}, s ? `${(s.rssBytes / 1048576).toFixed(0)} MB` : "–"),
          h("td", {}, node.configVersion),
        );
      }),
    ),
  );
}
