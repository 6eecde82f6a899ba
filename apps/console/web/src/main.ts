import { signedIn, signOut, whenSignedOut } from "./api.js";
import { h, mount } from "./dom.js";
import { renderMap } from "./views/map.js";
import { renderMetrics } from "./views/metrics.js";
import { renderScript } from "./views/script.js";
import { renderScripts } from "./views/scripts.js";
import { renderSignIn } from "./views/signin.js";
import { renderTail } from "./views/tail.js";

const app = document.getElementById("app") as HTMLElement;
let stopView: () => void = () => {};

/** Hash routes: #/map, #/scripts, #/scripts/:name, #/scripts/:name/metrics, #/scripts/:name/tail. */
function route(): void {
  stopView();
  if (!signedIn()) {
    stopView = () => {};
    renderSignIn(app, route);
    return;
  }
  const main = h("main", { id: "view", tabindex: -1 });
  const nav = h(
    "nav",
    { "aria-label": "Console" },
    h("a", { href: "#/map" }, "Cluster"),
    h("a", { href: "#/scripts" }, "Scripts"),
    h("button", { type: "button", id: "logout", onclick: () => signOut() }, "Sign out"),
  );
  mount(app, h("header", {}, h("strong", {}, "edge console"), nav), main);
  const parts = location.hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);
  const [section, name, sub] = parts;
  for (const link of nav.querySelectorAll("a")) {
    if (link.getAttribute("href") === `#/${section === "scripts" ? "scripts" : "map"}`)
      link.setAttribute("aria-current", "page");
  }
  if (section === "scripts" && name && sub === "metrics") stopView = renderMetrics(main, name);
  else if (section === "scripts" && name && sub === "tail") stopView = renderTail(main, name);
  else if (section === "scripts" && name) stopView = renderScript(main, name);
  else if (section === "scripts") stopView = renderScripts(main);
  else stopView = renderMap(main);
}

whenSignedOut(() => {
  stopView();
  stopView = () => {};
  renderSignIn(app, route, "Signed out.");
});
window.addEventListener("hashchange", route);
route();
