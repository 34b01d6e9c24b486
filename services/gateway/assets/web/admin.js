// The back office at /admin: login, the top bar and the hash router. Each view lives in its
// own module and gets a fresh container and an AbortSignal that fires when the manager
// leaves it, so polling and timers stop with the view.

import { auth, el, logIn, logOut } from "/app/api.js";
import { alertLine, describe, field } from "/app/admin-ui.js";
import { dashboard } from "/app/admin-dashboard.js";
import { productsView } from "/app/admin-catalog.js";
import { stockView } from "/app/admin-stock.js";
import { salesView, sessionsView, customersView } from "/app/admin-sales.js";
import { purchaseOrdersView, repairsView } from "/app/admin-orders.js";

const VIEWS = [
  ["dashboard", "Dashboard", dashboard],
  ["products", "Products", productsView],
  ["stock", "Stock", stockView],
  ["sales", "Sales", salesView],
  ["sessions", "Sessions", sessionsView],
  ["customers", "Customers", customersView],
  ["purchase-orders", "Purchase orders", purchaseOrdersView],
  ["repairs", "Repairs", repairsView],
];

const MANAGERS = new Set(["manager", "admin"]);
const app = document.getElementById("app");
let leaving = null;

function signedIn() {
  const session = auth.get();
  return session && session.user ? session.user : null;
}

function stopView() {
  if (leaving) leaving.abort();
  leaving = null;
}

function start(notice = "") {
  stopView();
  const user = signedIn();
  if (!user) return showLogin(notice);
  if (!MANAGERS.has(user.role)) return showNeedsManager(user);
  showShell(user);
}

function showLogin(notice) {
  document.title = "Log in · Tillstream back office";
  const [userField, username] = field("Username", {
    id: "login-username",
    name: "username",
    autocomplete: "username",
    required: true,
  });
  const [passwordField, password] = field("Password", {
    id: "login-password",
    name: "password",
    type: "password",
    autocomplete: "current-password",
    required: true,
  });
  const error = alertLine();
  error.id = "login-error";
  error.textContent = notice;
  const submit = el("button", { type: "submit", class: "primary" }, "Log in");
  const form = el(
    "form",
    { class: "card stack narrow", "aria-labelledby": "login-title" },
    el("h1", { id: "login-title" }, "Tillstream back office"),
    userField,
    passwordField,
    submit,
    error,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    submit.disabled = true;
    try {
      await logIn(username.value.trim(), password.value, false);
      start();
    } catch (e) {
      error.textContent = describe(e);
      password.select();
    } finally {
      submit.disabled = false;
    }
  });
  app.replaceChildren(form);
  username.focus();
}

async function signOut() {
  stopView();
  await logOut();
  start();
}

function showNeedsManager(user) {
  document.title = "Needs a manager · Tillstream back office";
  app.replaceChildren(
    el(
      "section",
      { class: "card stack narrow", "aria-labelledby": "needs-title" },
      el("h1", { id: "needs-title" }, "Needs a manager"),
      el(
        "p",
        { role: "alert", id: "needs-manager" },
        `The back office needs a manager: ${user.username} is a ${user.role}. Log in as a manager or an admin.`,
      ),
      el(
        "div",
        { class: "row" },
        el("button", { type: "button", class: "primary", onclick: signOut }, "Log out"),
        el("a", { href: "/" }, "Register"),
      ),
    ),
  );
}

function showShell(user) {
  const links = VIEWS.map(([id, name]) => el("a", { href: `#${id}`, "data-view": id }, name));
  const view = el("section", { id: "view", class: "view stack", tabindex: "-1" });
  app.replaceChildren(
    el(
      "header",
      { class: "bar" },
      el("strong", {}, "Tillstream back office"),
      el("span", { class: "spacer" }),
      el("span", { id: "user-name", class: "status" }, `${user.username} (${user.role})`),
      el("a", { href: "/" }, "Register"),
      el("button", { type: "button", onclick: signOut }, "Log out"),
    ),
    el(
      "div",
      { class: "admin" },
      el("nav", { "aria-label": "Back office", class: "side" }, el("ul", {}, links.map((a) => el("li", {}, a)))),
      view,
    ),
  );
  route();
}

function route() {
  const view = document.getElementById("view");
  if (!view) return;
  stopView();
  const wanted = location.hash.replace(/^#/, "");
  const entry = VIEWS.find(([id]) => id === wanted) || VIEWS[0];
  const [id, name, render] = entry;
  for (const link of document.querySelectorAll("nav a[data-view]")) {
    if (link.dataset.view === id) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  document.title = `${name} · Tillstream back office`;
  leaving = new AbortController();
  view.replaceChildren();
  try {
    render(view, leaving.signal);
  } catch (e) {
    view.replaceChildren(el("p", { class: "error", role: "alert" }, describe(e)));
  }
}

window.addEventListener("hashchange", () => {
  if (signedIn()) route();
});

// A refresh token that no longer works ends the session in the middle of a view.
window.addEventListener("admin:signed-out", () => {
  if (!auth.get()) start("Your session has ended: log in again.");
});

start();
