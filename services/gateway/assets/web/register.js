// The web register: log in, open a session on a register, scan or search, a cart, tenders,
// the receipt; sales that cannot be sent are kept in the browser and sent when the
// connection returns (offline.js). Every call is the public REST API with the cashier's
// token. `window.tillstreamMetrics` keeps what a browser test measures.

import { Offline, all, auth, cents, el, get, logIn, logOut, money, post, ulid } from "/app/api.js";
import * as offline from "/app/offline.js";
import { Cart, cartTable, priceLine } from "/app/cart.js";
import * as tools from "/app/till-tools.js";

const TILL = "tillstream.till";
const metrics = (window.tillstreamMetrics = { scanToLine: [], saleRoundTrip: [] });
const app = () => document.getElementById("app");
const state = { till: null, cart: new Cart(), payments: [], online: true, error: "" };

function setOnline(online) {
  state.online = online;
  const badge = document.getElementById("connection");
  badge.textContent = online ? "Online" : "Offline";
  badge.classList.toggle("offline", !online);
}

async function showQueued() {
  const waiting = await offline.queued();
  const badge = document.getElementById("queued");
  badge.textContent = `Queued sales: ${waiting.length}`;
  badge.classList.toggle("queued", waiting.length > 0);
}

/** Sends what is queued (or, with nothing queued while offline, asks whether we are back). */
async function sync() {
  try {
    const waiting = await offline.queued();
    if (waiting.some((entry) => !entry.error)) await offline.sendQueued();
    else if (!state.online) await get("auth/me");
    setOnline(true);
  } catch (error) {
    if (error instanceof Offline) setOnline(false);
  }
  await showQueued();
}

function bar() {
  const session = auth.get();
  document.getElementById("who").textContent = session && session.user ? session.user.username : "";
  document.getElementById("where").textContent = state.till ? `${state.till.location_name} · ${state.till.register_name}` : "";
  document.getElementById("logout").classList.toggle("hidden", !(session && session.user));
}

// ---- log in ----

function loginView(message = "") {
  bar();
  const error = el("p", { class: "error", role: "alert" }, message);
  const form = el("form", { class: "card stack narrow", "aria-label": "Log in" },
    el("h1", {}, "Log in to the register"),
    el("label", {}, "Username", el("input", { name: "username", autocomplete: "username", required: true, autofocus: true })),
    el("label", {}, "Password", el("input", { name: "password", type: "password", autocomplete: "current-password" })),
    el("label", {}, "PIN", el("input", { name: "pin", type: "password", inputmode: "numeric", autocomplete: "off" })),
    el("p", { class: "note" }, "Enter your password, or your PIN if you have one."),
    error,
    el("button", { type: "submit", class: "primary" }, "Log in"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const { username, password, pin } = Object.fromEntries(new FormData(form));
    try {
      await logIn(username.trim(), pin ? pin : password, Boolean(pin));
      await setupView();
    } catch (failure) {
      error.textContent = tools.describe(failure);
    }
  });
  app().replaceChildren(form);
  form.elements.username.focus();
}

// ---- choose a register and open a session ----

async function setupView() {
  bar();
  let locations;
  let registers;
  try {
    [locations, registers] = await Promise.all([all("locations", 500), all("registers", 1000)]);
  } catch (failure) {
    app().replaceChildren(el("p", { class: "error", role: "alert" }, tools.describe(failure)));
    return;
  }
  const error = el("p", { class: "error", role: "alert" });
  const location = el("select", { name: "location" }, locations.map((l) => el("option", { value: l.id }, `${l.code} · ${l.name}`)));
  const register = el("select", { name: "register" });
  const float = el("input", { name: "float", inputmode: "decimal", value: "100.00" });
  const open = el("button", { type: "submit", class: "primary" }, "Open session");
  const resume = el("button", { type: "button" }, "Continue session");
  const fill = () => {
    const here = registers.filter((r) => r.location_id === location.value);
    register.replaceChildren(...here.map((r) => el("option", { value: r.id }, `${r.code} · ${r.name}`)));
    if (!here.length) register.append(el("option", { value: "" }, "No register here: a manager adds one"));
    pick();
  };
  const pick = () => {
    const chosen = registers.find((r) => r.id === register.value);
    resume.classList.toggle("hidden", !(chosen && chosen.open_session_id));
  };
  location.addEventListener("change", fill);
  register.addEventListener("change", pick);
  const begin = async (sessionId) => {
    const l = locations.find((x) => x.id === location.value);
    const r = registers.find((x) => x.id === register.value);
    state.till = { location_id: l.id, location_name: l.name, register_id: r.id, register_name: r.name, session_id: sessionId };
    localStorage.setItem(TILL, JSON.stringify(state.till));
    await saleView();
    refreshCatalog();
  };
  resume.addEventListener("click", () => {
    const r = registers.find((x) => x.id === register.value);
    begin(r.open_session_id);
  });
  const form = el("form", { class: "card stack narrow", "aria-label": "Open session" },
    el("h1", {}, "Open a session"),
    el("label", {}, "Location", location),
    el("label", {}, "Register", register),
    el("label", {}, "Opening float", float),
    error,
    el("div", { class: "row" }, open, resume));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!register.value) {
      error.textContent = "Choose a register";
      return;
    }
    try {
      const session = await post(`registers/${register.value}/sessions`, { opening_float: float.value.trim() });
      await begin(session.id);
    } catch (failure) {
      error.textContent = tools.describe(failure);
    }
  });
  app().replaceChildren(form);
  fill();
  float.focus();
}

/** Keeps a copy of the active catalog for scanning and pricing without the gateway. */
async function refreshCatalog() {
  try {
    await offline.keepCatalog(await all("products?status=active", 20000));
  } catch (failure) {
    if (failure instanceof Offline) setOnline(false);
  }
}

// ---- ring up a sale ----

function paidSoFar() {
  return state.payments.reduce((sum, p) => sum + cents(p.amount), 0);
}

async function saleView(notice = "") {
  bar();
  const totals = state.cart.totals();
  const paid = paidSoFar();
  const due = totals.total - paid;
  const scan = el("input", { id: "scan", autocomplete: "off", enterkeyhint: "enter", placeholder: "Barcode, SKU or name" });
  const results = el("div", { class: "results stack", "aria-label": "Search results" });
  const error = el("p", { class: "error", role: "alert" }, state.error || "");
  state.error = "";
  scan.addEventListener("keydown", (event) => {
    if (event.key === "Enter") {
      event.preventDefault();
      scanned(scan.value.trim(), performance.now(), results);
    }
  });
  const tendered = el("input", { id: "tendered", inputmode: "decimal", value: due > 0 ? money(due) : "" });
  tendered.addEventListener("keydown", (event) => {
    if (event.key === "Enter") {
      event.preventDefault();
      tender("cash", tendered.value);
    }
  });
  const tenderButton = (method, label) => el("button", { type: "button", onclick: () => tender(method, tendered.value) }, label);
  const complete = el("button", { type: "button", class: "primary", id: "complete", disabled: !state.cart.lines.length || due > 0, onclick: completeSale }, "Complete sale");
  const customer = state.cart.customer;
  const layout = el("div", { class: "register" },
    el("section", { class: "card stack", "aria-label": "Sale" },
      el("label", {}, "Scan or search", scan),
      results,
      cartTable(state.cart, { changed: () => saleView(), reprice }),
      notice ? el("p", { role: "status" }, notice) : null),
    el("section", { class: "card stack", "aria-label": "Payment" },
      el("div", { class: "total", id: "sale-total", "aria-label": "Total" }, money(totals.total)),
      el("p", { class: "note" }, `Subtotal ${money(totals.subtotal)} · discounts ${money(totals.discount)} · tax ${money(totals.tax)}`),
      el("div", { class: "row" },
        el("button", { type: "button", onclick: pickCustomer }, customer ? `Customer: ${customer.name}` : "Customer"),
        customer ? el("button", { type: "button", onclick: () => { state.cart.customer = null; saleView(); } }, "No customer") : null),
      el("label", {}, "Amount tendered", tendered),
      el("div", { class: "tenders" },
        tenderButton("cash", "Cash"), tenderButton("card", "Card"),
        tenderButton("gift_card", "Gift card"), tenderButton("store_credit", "Store credit")),
      el("ul", { "aria-label": "Payments" }, state.payments.map((p, i) => el("li", {},
        `${p.method.replace("_", " ")} ${p.amount} `,
        el("button", { type: "button", "aria-label": `Remove payment ${i + 1}`, onclick: () => { state.payments.splice(i, 1); saleView(); } }, "✕")))),
      el("p", { id: "due" }, due > 0 ? `To pay: ${money(due)}` : `Change: ${money(-due)}`),
      error,
      complete,
      el("div", { class: "row no-print" },
        el("button", { type: "button", onclick: () => act(() => tools.showReport(state.till.session_id)) }, "X report"),
        el("button", { type: "button", onclick: () => act(() => tools.saleActions(state.till.session_id)) }, "Return"),
        el("button", { type: "button", onclick: () => act(tools.voidSale) }, "Void"),
        el("button", { type: "button", onclick: closeSession }, "Close session"))));
  app().replaceChildren(layout);
  (state.cart.lines.length && due <= 0 ? complete : scan).focus();
}

/** Runs a dialog's work and shows what went wrong, if anything. */
async function act(work) {
  try {
    await work();
  } catch (failure) {
    state.error = tools.describe(failure);
  }
  await saleView();
}

async function scanned(code, started, results) {
  if (!code) return;
  let product = await offline.findLocal(code).catch(() => null);
  if (!product && state.online) {
    try {
      const by = /^\d{6,14}$/.test(code) ? "barcode" : "sku";
      product = await get(`products/lookup?${by}=${encodeURIComponent(code)}`);
    } catch (failure) {
      if (failure instanceof Offline) setOnline(false);
    }
  }
  if (product) {
    addLine(product, started);
    return;
  }
  let found = await offline.searchLocal(code).catch(() => []);
  if (!found.length && state.online) {
    found = await get(`products?q=${encodeURIComponent(code)}&status=active&limit=20`).then((a) => a.data).catch(() => []);
  }
  results.replaceChildren(...(found.length
    ? found.map((p) => el("button", { type: "button", onclick: () => addLine(p, performance.now()) }, `${p.name} · ${p.sku} · ${p.price}`))
    : [el("p", { class: "error", role: "alert" }, `Nothing found for “${code}”`)]));
}

function addLine(product, started) {
  if (product.status && product.status !== "active") {
    state.error = `${product.name} is discontinued`;
    saleView();
    return;
  }
  state.cart.add(product);
  saleView();
  requestAnimationFrame(() => metrics.scanToLine.push(performance.now() - started));
}

async function reprice(line) {
  const answer = await tools.ask({
    title: `Price of ${line.product.name}`,
    fields: [{ name: "price", label: "Unit price", inputmode: "decimal", value: line.unitPrice ?? line.product.price }],
    submit: "Set price",
    check: ({ price }) => (Number.isNaN(cents(price)) || cents(price) < 0 ? "A price such as 4.99" : null),
  });
  if (answer) line.unitPrice = answer.price === line.product.price ? null : answer.price;
  await saleView();
}

async function pickCustomer() {
  await act(async () => {
    const customer = await tools.chooseCustomer();
    if (customer) state.cart.customer = customer;
  });
}

async function tender(method, typed) {
  const due = state.cart.totals().total - paidSoFar();
  let amount = typed ? cents(typed) : due;
  if (Number.isNaN(amount) || amount <= 0) {
    state.error = "Amount tendered is an amount such as 20.00";
    return saleView();
  }
  // Only cash can be more than what is left to pay: the rest would be change.
  if (method !== "cash") amount = Math.min(amount, due);
  if (amount <= 0) return saleView();
  const payment = { method, amount: money(amount) };
  if (method === "gift_card") {
    const card = await tools.ask({ title: "Gift card", fields: [{ name: "code", label: "Gift card code", inputmode: "numeric", required: true }], submit: "Use card" });
    if (!card) return saleView();
    payment.reference = card.code;
  }
  if (method === "store_credit" && !state.cart.customer) {
    state.error = "Store credit needs the sale's customer";
    return saleView();
  }
  state.payments.push(payment);
  return saleView();
}

async function completeSale() {
  const problem = state.cart.problem();
  if (problem) {
    state.error = problem;
    return saleView();
  }
  const started = performance.now();
  const sale = {
    id: ulid(),
    location_id: state.till.location_id,
    session_id: state.till.session_id,
    lines: state.cart.request(false),
    payments: state.payments,
  };
  if (state.cart.customer) sale.customer_id = state.cart.customer.id;
  try {
    const done = await tools.withApprovals((headers) => post("sales", sale, { headers }));
    if (!done) {
      state.error = "Not completed: a manager's approval is needed";
      return saleView();
    }
    metrics.saleRoundTrip.push(performance.now() - started);
    setOnline(true);
    state.cart.learn(done);
    return receiptView(done, false);
  } catch (failure) {
    if (!(failure instanceof Offline)) {
      state.error = tools.describe(failure);
      return saleView();
    }
    setOnline(false);
    const kept = { ...sale, lines: state.cart.request(true), captured_at: new Date().toISOString() };
    await offline.enqueue(kept);
    await showQueued();
    const totals = state.cart.totals();
    const local = {
      ...kept,
      lines: state.cart.lines.map((l) => ({
        name: l.product.name, quantity: l.quantity, line_total: money(priceLine(l, state.cart.inclusive).total),
      })),
      total: money(totals.total),
      change: money(Math.max(0, paidSoFar() - totals.total)),
    };
    return receiptView(local, true);
  }
}

function receiptView(sale, queued) {
  state.cart = new Cart();
  state.payments = [];
  const next = el("button", { type: "button", class: "primary", onclick: () => saleView() }, "New sale");
  app().replaceChildren(el("div", { class: "stack narrow" },
    tools.receipt(sale, { queued }),
    el("div", { class: "row no-print" }, next, el("button", { type: "button", onclick: () => window.print() }, "Print"))));
  next.focus();
}

async function closeSession() {
  try {
    const closed = await tools.closeSession(state.till.session_id);
    if (!closed) return saleView();
    localStorage.removeItem(TILL);
    state.till = null;
    await setupView();
  } catch (failure) {
    state.error = tools.describe(failure);
    await saleView();
  }
}

// ---- start ----

async function start() {
  if ("serviceWorker" in navigator) navigator.serviceWorker.register("/sw.js").catch(() => {});
  document.getElementById("logout").addEventListener("click", async () => {
    await logOut();
    localStorage.removeItem(TILL);
    state.till = null;
    loginView();
  });
  window.addEventListener("online", sync);
  setInterval(sync, 3000);
  // The page is shown first: a browser slow to open IndexedDB must not hold it back.
  showQueued().catch(() => {});
  const session = auth.get();
  if (!session || !session.user) return loginView();
  try {
    state.till = JSON.parse(localStorage.getItem(TILL) || "null");
  } catch {
    state.till = null;
  }
  if (state.till) {
    await saleView();
    return refreshCatalog();
  }
  return setupView();
}

start();
