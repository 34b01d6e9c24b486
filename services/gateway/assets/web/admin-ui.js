// Back office: what every view shares — error lines, tables with an empty state, labelled
// fields, pagers, dialogs, exact decimal sums, and caches for the names the API only gives
// as ids.

import { ApiError, Offline, all, auth, call, cents, el, get, money, when } from "/app/api.js";

export const EMPTY = "Nothing here yet";

/** The line a manager reads for a failed request. */
export function describe(error) {
  if (error instanceof Offline) return "Offline: the gateway did not answer";
  if (error instanceof ApiError) return error.describe();
  return String((error && error.message) || error);
}

/** An empty live region: it must exist before the text arrives for readers to announce it. */
export function alertLine() {
  return el("p", { class: "error", role: "alert" });
}

/** Shows `error` in `box`; a dead session sends the manager back to the login form. */
export function fail(box, error) {
  box.textContent = describe(error);
  if (error instanceof ApiError && error.status === 401) {
    window.dispatchEvent(new CustomEvent("admin:signed-out"));
  }
}

/**
 * Runs `work`, then empties `errorLine`, or shows in it why `work` failed. `work` answers
 * `false` when what it read is no longer wanted (the view was left, a newer load won): nothing
 * was shown then, so the line keeps what it says.
 */
export async function guarded(errorLine, work) {
  try {
    if ((await work()) !== false) errorLine.textContent = "";
  } catch (e) {
    fail(errorLine, e);
  }
}

let sequence = 0;
export const uid = (prefix = "f") => `${prefix}-${(sequence += 1)}`;

/**
 * A label and its control side by side in the DOM rather than nested: a control inside its
 * label would lend its value to the accessible name ("Location Main store").
 */
export function field(text, attrs = {}, tag = "input", ...children) {
  const id = attrs.id || uid();
  const control = el(tag, { ...attrs, id }, ...children);
  const wrap = el("div", { class: "field" }, el("label", { for: id }, text), control);
  return [wrap, control];
}

/** A checkbox reads better with its label after it. */
export function checkbox(text, attrs = {}) {
  const id = attrs.id || uid();
  const box = el("input", { ...attrs, id, type: "checkbox" });
  return [el("div", { class: "field check" }, box, el("label", { for: id }, text)), box];
}

export function select(text, options, attrs = {}) {
  return field(
    text,
    attrs,
    "select",
    options.map(([value, label]) => el("option", { value }, label)),
  );
}

/** `base?k=v…` without the empty ones: the gateway reads `status=` as a status to match. */
export function path(base, params = {}) {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") query.set(key, String(value));
  }
  const text = query.toString();
  return text ? `${base}?${text}` : base;
}

/**
 * A table in a wrapper that scrolls sideways on a tablet. `columns`: `{head, num?, cell(row)}`;
 * a cell may answer text or a node.
 */
export function table(columns, rows, { rowClass, label } = {}) {
  const head = el(
    "tr",
    {},
    columns.map((c) => el("th", { scope: "col", class: c.num ? "num" : null }, c.head)),
  );
  const body = el("tbody");
  if (!rows.length) {
    body.append(el("tr", { class: "empty" }, el("td", { colspan: columns.length, class: "note" }, EMPTY)));
  }
  for (const row of rows) {
    body.append(
      el(
        "tr",
        { class: rowClass ? rowClass(row) : null },
        columns.map((c) => el("td", { class: c.num ? "num" : null }, c.cell(row) ?? "")),
      ),
    );
  }
  return el("div", { class: "table-wrap" }, el("table", { "aria-label": label }, el("thead", {}, head), body));
}

export function loading() {
  return el("p", { class: "note" }, "Loading…");
}

/** Previous / next for a `meta` of the contract's lists. */
export function pager(meta, go) {
  const pages = Math.max(meta.pages, 1);
  return el(
    "div",
    { class: "row pager" },
    el("button", { type: "button", disabled: meta.page <= 1, onclick: () => go(meta.page - 1) }, "Previous"),
    el("span", { class: "note" }, `Page ${meta.page} of ${pages} · ${meta.total} in all`),
    el("button", { type: "button", disabled: meta.page >= pages, onclick: () => go(meta.page + 1) }, "Next"),
  );
}

/** One page of a list in `box`: its table, and under it the pager, which calls `turn(page)`. */
export function showPage(box, answer, columns, options, turn) {
  box.replaceChildren(table(columns, answer.data, options), pager(answer.meta, turn));
}

/** Runs `work` with `button` disabled, so a double click does not send twice. */
export async function busy(button, work) {
  button.disabled = true;
  try {
    return await work();
  } finally {
    button.disabled = false;
  }
}

/** A modal that removes itself when closed. */
export function openDialog(title, content, actions = [], { printable = false } = {}) {
  const id = uid("dialog");
  const dialog = el(
    "dialog",
    { "aria-labelledby": id, class: printable ? "printable wide" : "wide" },
    el("h2", { id }, title),
    content,
    el(
      "div",
      { class: "row no-print actions" },
      actions,
      el("button", { type: "button", onclick: () => dialog.close() }, "Close"),
    ),
  );
  dialog.addEventListener("close", () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
  return dialog;
}

/** A sale's receipt as the till printed it, with a Print button. */
export function showReceipt(sale) {
  const pre = el("pre", { class: "receipt" }, "Loading…");
  const error = alertLine();
  const print = el("button", { type: "button", class: "primary", onclick: () => window.print() }, "Print");
  openDialog(`Receipt ${sale.sale_number || ""}`.trim(), [pre, error], [print], { printable: true });
  call("GET", `sales/${encodeURIComponent(sale.id)}/receipt`, { headers: { Accept: "text/plain" } })
    .then((text) => {
      pre.textContent = typeof text === "string" ? text : JSON.stringify(text, null, 2);
    })
    .catch((e) => {
      pre.textContent = "";
      fail(error, e);
    });
}

/** A button that opens the sale's receipt: the sale number is what people ask about. */
export function saleButton(sale) {
  return el("button", { type: "button", class: "link", onclick: () => showReceipt(sale) }, sale.sale_number);
}

// Quantities are decimal strings with up to 3 places; summing them as thousandths keeps the
// totals exact, as cents do for money.

export function thousandths(text) {
  const match = /^(-?)(\d+)(?:\.(\d{1,3}))?$/.exec(String(text).trim());
  if (!match) return NaN;
  const value = Number(match[2]) * 1000 + Number((match[3] || "").padEnd(3, "0"));
  return match[1] ? -value : value;
}

export function quantity(value) {
  const sign = value < 0 ? "-" : "";
  const abs = Math.abs(value);
  const fraction = String(abs % 1000).padStart(3, "0").replace(/0+$/, "");
  return `${sign}${Math.floor(abs / 1000)}${fraction ? `.${fraction}` : ""}`;
}

/** Σ of money strings, as a money string. */
export function sum(values) {
  return money(values.reduce((total, value) => total + (cents(value) || 0), 0));
}

export { when, money, cents };

// One at a time, a few per second: lookups of names by id would otherwise meet the gateway's
// per-user rate limit on a big table.
const queue = [];
let running = 0;
let lastStart = 0;
const MAX_RUNNING = 3;
const SPACING_MS = 50;

function throttled(task) {
  return new Promise((resolve, reject) => {
    queue.push({ task, resolve, reject });
    pump();
  });
}

function pump() {
  if (running >= MAX_RUNNING || !queue.length) return;
  const wait = lastStart + SPACING_MS - Date.now();
  if (wait > 0) {
    setTimeout(pump, wait);
    return;
  }
  const { task, resolve, reject } = queue.shift();
  running += 1;
  lastStart = Date.now();
  task()
    .then(resolve, reject)
    .finally(() => {
      running -= 1;
      pump();
    });
  pump();
}

function cacheOf(base) {
  const entries = new Map();
  const lookup = (id) => {
    if (!entries.has(id)) {
      const found = throttled(() => get(`${base}/${encodeURIComponent(id)}`)).catch((error) => {
        entries.delete(id);
        throw error;
      });
      entries.set(id, found);
    }
    return entries.get(id);
  };
  lookup.remember = (item) => entries.set(item.id, Promise.resolve(item));
  lookup.has = (id) => entries.has(id);
  return lookup;
}

export const product = cacheOf("products");
export const customer = cacheOf("customers");
export const supplier = cacheOf("suppliers");

/** Products by id; many unknown ones are cheaper read as whole pages of the catalog. */
export async function products(ids) {
  const unique = [...new Set(ids.filter(Boolean))];
  const missing = unique.filter((id) => !product.has(id));
  if (missing.length > 40) {
    try {
      for (const item of await all("products", 5000)) product.remember(item);
    } catch {
      // Fall back to one by one below.
    }
  }
  const found = await Promise.all(unique.map((id) => product(id).catch(() => null)));
  return new Map(unique.map((id, i) => [id, found[i]]));
}

export function productName(map, id) {
  const item = map.get(id);
  return item ? `${item.name} (${item.sku})` : id;
}

function once(load) {
  let promise = null;
  const read = () => {
    if (!promise) {
      promise = load().catch((error) => {
        promise = null;
        throw error;
      });
    }
    return promise;
  };
  read.reset = () => {
    promise = null;
  };
  return read;
}

export const locations = once(() => all("locations"));
export const registers = once(() => all("registers"));
/** Users are an admin's list; a manager sees user ids instead of names. */
export const users = once(() => all("users").catch(() => []));

export async function locationNames() {
  return new Map((await locations()).map((l) => [l.id, l.name]));
}

/** Register names; a register opened since the list was read makes it read again. */
export async function registerNames(ids = []) {
  let names = new Map((await registers()).map((r) => [r.id, r.name]));
  if (ids.some((id) => !names.has(id))) {
    registers.reset();
    names = new Map((await registers()).map((r) => [r.id, r.name]));
  }
  return names;
}

export async function userNames() {
  const names = new Map((await users()).map((u) => [u.id, u.username]));
  // A manager cannot list users, but knows who they are.
  const me = auth.get() && auth.get().user;
  if (me && !names.has(me.id)) names.set(me.id, me.username);
  return names;
}

/** A product by SKU, then by barcode: what a manager types off a shelf label. */
export async function findProduct(code) {
  const text = code.trim();
  try {
    return await get(path("products/lookup", { sku: text }));
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 404) throw error;
    return get(path("products/lookup", { barcode: text }));
  }
}

/** Local midnight of a `yyyy-mm-dd` (or today), as the RFC 3339 the API takes. */
export function startOfDay(date) {
  const day = date ? new Date(`${date}T00:00:00`) : new Date();
  return new Date(day.getFullYear(), day.getMonth(), day.getDate()).toISOString();
}

export function endOfDay(date) {
  const day = new Date(`${date}T00:00:00`);
  return new Date(day.getFullYear(), day.getMonth(), day.getDate(), 23, 59, 59, 999).toISOString();
}

/** A card with a heading: the unit every view is laid out in. */
export function card(title, ...children) {
  const id = uid("card");
  return el("section", { class: "card stack", "aria-labelledby": id }, el("h2", { id }, title), ...children);
}

/** `label: value` pairs as a description list. */
export function facts(pairs) {
  return el(
    "dl",
    { class: "facts" },
    pairs.flatMap(([term, value]) => [el("dt", {}, term), el("dd", {}, value ?? "—")]),
  );
}

/** Statuses as words: `awaiting_parts` → "Awaiting parts". */
export function words(status) {
  const text = String(status || "").replace(/_/g, " ");
  return text.charAt(0).toUpperCase() + text.slice(1);
}
