const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** The Host header's name, lowercase, without port or trailing dot. */
export function hostnameOf(host: string | undefined): string {
  if (!host) return "";
  let name = host.trim().toLowerCase();
  if (name.startsWith("[")) name = name.slice(0, name.indexOf("]") + 1);
  else if (name.includes(":")) name = name.slice(0, name.lastIndexOf(":"));
  return name.replace(/\.$/, "");
}

/**
 * The script label of `<script>.<zone>`, or `null`. The same rule as the edge
 * node's: exactly one DNS label in front of the zone, so the router never
 * routes a request the node would refuse.
 */
export function scriptLabelOf(hostname: string, zone: string): string | null {
  const suffix = `.${zone}`;
  if (!hostname.endsWith(suffix)) return null;
  const label = hostname.slice(0, -suffix.length);
  return LABEL.test(label) ? label : null;
}
