/**
 * Maps a Host header to a script name: `<script>.<zone>[:port]` → `<script>`.
 * Only one label in front of the zone counts, so `a.b.<zone>` is not a script.
 */
export function scriptNameFromHost(host: string | undefined, zone: string): string | null {
  if (!host) return null;
  const hostname = stripPort(host).toLowerCase().replace(/\.$/, "");
  const suffix = `.${zone}`;
  if (!hostname.endsWith(suffix)) return null;
  const label = hostname.slice(0, -suffix.length);
  return /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/.test(label) ? label : null;
}

/** The host name without its port; a port that is not a number leaves nothing usable. */
function stripPort(host: string): string {
  if (host.startsWith("[")) return host.slice(0, host.indexOf("]") + 1);
  const colon = host.lastIndexOf(":");
  if (colon === -1) return host;
  return /^\d{1,5}$/.test(host.slice(colon + 1)) ? host.slice(0, colon) : "";
}
