import { signIn } from "../api.js";
import { h, mount } from "../dom.js";

/** The sign-in form: the admin token is checked against the API and then kept in memory only. */
export function renderSignIn(root: Element, done: () => void, notice = ""): void {
  const input = h("input", {
    type: "password",
    id: "token",
    name: "token",
    autocomplete: "off",
    required: true,
    "aria-describedby": "signin-message",
  });
  const message = h("p", { id: "signin-message", class: "message", role: "alert" }, notice);
  const form = h(
    "form",
    { class: "signin", "aria-label": "Sign in" },
    h("h1", {}, "edge console"),
    h("label", { for: "token" }, "Admin token"),
    input,
    h("button", { type: "submit" }, "Sign in"),
    message,
    h("p", { class: "hint" }, "The token stays in this tab's memory: reloading signs you out."),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const value = input.value;
    input.value = "";
    try {
      const status = await signIn(value);
      if (status === 200) return done();
      message.textContent =
        status === 401
          ? "That token was refused: check EDGE_ADMIN_TOKEN."
          : `The control plane answered ${status}.`;
    } catch (err) {
      message.textContent = `Could not reach the control plane: ${err instanceof Error ? err.message : String(err)}`;
    }
    input.focus();
  });
  mount(root, form);
  input.focus();
}
