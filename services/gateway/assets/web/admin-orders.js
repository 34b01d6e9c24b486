// Back office: purchase orders (submit, receive what is still open, close short, cancel) and
// the repairs board, where a card moves only along the transitions the workshop allows.

import { all, el, get, post } from "/app/api.js";
import {
  alertLine, busy, card, checkbox, customer, facts, fail, field, guarded, loading, locationNames,
  path, productName, products, quantity, select, showPage, supplier, table, thousandths, uid, when, words,
} from "/app/admin-ui.js";

const PAGE_SIZE = 25;
const PO_STATUSES = ["draft", "ordered", "partially_received", "received", "closed", "cancelled"];

export function purchaseOrdersView(view, signal) {
  const state = { status: "", page: 1, open: null };
  const [statusField, status] = select("Status", [["", "Any"], ...PO_STATUSES.map((s) => [s, words(s)])], { name: "status" });
  const error = alertLine();
  const list = el("div", { class: "stack" }, loading());
  const detail = el("div", { class: "stack" }, el("p", { class: "note" }, "Choose an order to see its lines."));

  function load() {
    return guarded(error, async () => {
      const answer = await get(path("purchase-orders", { status: state.status, page: state.page, limit: PAGE_SIZE }));
      const names = await supplierNames(answer.data);
      if (signal.aborted) return false;
      showPage(
        list,
        answer,
        [
          { head: "Number", cell: (o) => el("button", { type: "button", class: "link", onclick: () => show(o.id) }, o.number) },
          { head: "Status", cell: (o) => words(o.status) },
          { head: "Supplier", cell: (o) => names.get(o.supplier_id) || o.supplier_id },
          { head: "Total", num: true, cell: (o) => o.total },
          { head: "Created", cell: (o) => when(o.created_at) },
        ],
        { label: "Purchase orders" },
        (page) => {
          state.page = page;
          load();
        },
      );
    });
  }

  async function show(id, order = null) {
    state.open = id;
    const problem = alertLine();
    detail.replaceChildren(loading(), problem);
    try {
      const o = order || (await get(`purchase-orders/${encodeURIComponent(id)}`));
      const [names, suppliers, places] = await Promise.all([
        products(o.lines.map((l) => l.product_id)),
        supplierNames([o]),
        locationNames().catch(() => new Map()),
      ]);
      if (signal.aborted || state.open !== id) return;
      detail.replaceChildren(...orderDetail(o, { names, suppliers, places, problem, changed: (next) => { show(id, next); load(); } }));
    } catch (e) {
      detail.replaceChildren(problem);
      fail(problem, e);
    }
  }

  status.addEventListener("change", () => {
    state.status = status.value;
    state.page = 1;
    load();
  });
  view.append(
    el("h1", {}, "Purchase orders"),
    el("div", { class: "columns wide-first" }, card("Orders", el("div", { class: "row" }, statusField), error, list), card("Order", detail)),
  );
  load();
}

async function supplierNames(orders) {
  const ids = [...new Set(orders.map((o) => o.supplier_id))];
  const found = await Promise.all(ids.map((id) => supplier(id).catch(() => null)));
  return new Map(ids.map((id, i) => [id, found[i] ? found[i].name : id]));
}

/** What is still open on each line, in thousandths so that "2.5" − "1.25" stays exact. */
function openQuantity(line) {
  return Math.max(0, thousandths(line.quantity) - thousandths(line.received));
}

function orderDetail(o, { names, suppliers, places, problem, changed }) {
  const act = async (button, send) => {
    problem.textContent = "";
    try {
      changed(await busy(button, send));
    } catch (e) {
      fail(problem, e);
    }
  };
  const base = `purchase-orders/${encodeURIComponent(o.id)}`;
  const actions = [];
  if (o.status === "draft") {
    actions.push(el("button", { type: "button", class: "primary", onclick: (e) => act(e.currentTarget, () => post(`${base}/submit`)) }, "Submit"));
  }
  if (o.status === "ordered" || o.status === "partially_received") {
    actions.push(
      el(
        "button",
        {
          type: "button",
          class: "primary",
          onclick: (e) => {
            const lines = o.lines
              .filter((l) => openQuantity(l) > 0)
              .map((l) => ({ line_no: l.line_no, quantity: quantity(openQuantity(l)) }));
            if (!lines.length) {
              problem.textContent = "Nothing is open on this order.";
              return;
            }
            // The receipt answers itself, not the order: read the order again for its status.
            act(e.currentTarget, async () => {
              await post(`${base}/receipts`, { lines });
              return get(base);
            });
          },
        },
        "Receive all open",
      ),
    );
  }
  if (o.status === "draft" || o.status === "ordered") {
    actions.push(el("button", { type: "button", class: "danger", onclick: (e) => act(e.currentTarget, () => post(`${base}/cancel`)) }, "Cancel order"));
  }
  let closeForm = null;
  if (o.status === "ordered" || o.status === "partially_received") {
    const [reasonField, reason] = field("Reason", { name: "reason", required: true, id: uid("reason") });
    const close = el("button", { type: "submit", class: "danger" }, "Close");
    closeForm = el("form", { class: "row", "aria-label": "Close the order" }, el("div", { class: "grow" }, reasonField), close);
    closeForm.addEventListener("submit", (event) => {
      event.preventDefault();
      act(close, () => post(`${base}/close`, { reason: reason.value.trim() }));
    });
  }
  return [
    el("h3", {}, `${o.number}: ${words(o.status)}`),
    facts([
      ["Supplier", suppliers.get(o.supplier_id) || o.supplier_id],
      ["Location", places.get(o.location_id) || o.location_id],
      ["Expected", o.expected_at ? when(o.expected_at) : "—"],
      ["Total", o.total],
      ["Close reason", o.close_reason || "—"],
    ]),
    table(
      [
        { head: "Line", num: true, cell: (l) => l.line_no },
        { head: "Product", cell: (l) => productName(names, l.product_id) },
        { head: "Quantity", num: true, cell: (l) => l.quantity },
        { head: "Unit cost", num: true, cell: (l) => l.unit_cost },
        { head: "Received", num: true, cell: (l) => l.received },
        { head: "Open", num: true, cell: (l) => quantity(openQuantity(l)) },
      ],
      o.lines,
      { label: `Lines of ${o.number}` },
    ),
    actions.length ? el("div", { class: "row" }, actions) : null,
    closeForm,
    problem,
  ].filter(Boolean);
}

// The workshop's allowed moves; `collected` only happens at the till, with a payment.
const OPEN = ["received", "diagnosed", "awaiting_parts", "in_repair", "ready"];
const CLOSED = ["collected", "cancelled"];
const NEXT = {
  received: ["diagnosed"],
  diagnosed: ["awaiting_parts", "in_repair"],
  awaiting_parts: ["in_repair"],
  in_repair: ["awaiting_parts", "ready"],
  ready: [],
};

export function repairsView(view, signal) {
  const [closedField, showClosed] = checkbox("Show closed", { name: "show_closed" });
  const refresh = el("button", { type: "button" }, "Refresh");
  const error = alertLine();
  const board = el("div", { class: "board" }, loading());
  let loadingNow = 0;

  function load() {
    const mine = (loadingNow += 1);
    const statuses = showClosed.checked ? [...OPEN, ...CLOSED] : OPEN;
    return guarded(error, async () => {
      const columns = await Promise.all(statuses.map((s) => all(path("repairs", { status: s }), 1000)));
      const ids = [...new Set(columns.flat().map((r) => r.customer_id))];
      const people = await Promise.all(ids.map((id) => customer(id).catch(() => null)));
      const names = new Map(ids.map((id, i) => [id, people[i] ? people[i].name : id]));
      // A newer load (the checkbox clicked again) has the last word.
      if (signal.aborted || mine !== loadingNow) return false;
      board.replaceChildren(...statuses.map((s, i) => column(s, columns[i], names, move)));
    });
  }

  async function move(button, repair, status) {
    error.textContent = "";
    try {
      await busy(button, () => post(`repairs/${encodeURIComponent(repair.id)}/status`, { status }));
      await load();
    } catch (e) {
      fail(error, e);
    }
  }

  showClosed.addEventListener("change", load);
  refresh.addEventListener("click", load);
  view.append(
    el("div", { class: "row heading" }, el("h1", { class: "grow" }, "Repairs"), closedField, refresh),
    error,
    board,
  );
  load();
}

function column(status, repairs, names, move) {
  const id = uid("col");
  return el(
    "section",
    { class: "lane", "aria-labelledby": id, "data-status": status },
    el("h2", { id }, `${words(status)} (${repairs.length})`),
    repairs.length
      ? el("ul", { class: "cards" }, repairs.map((r) => el("li", {}, repairCard(r, names, move))))
      : el("p", { class: "note" }, "Nothing here yet"),
  );
}

function repairCard(r, names, move) {
  const targets = NEXT[r.status] || [];
  const open = OPEN.includes(r.status);
  const buttons = targets.map((s) =>
    el("button", { type: "button", title: `Move ${r.number} to ${words(s).toLowerCase()}`, onclick: (e) => move(e.currentTarget, r, s) }, words(s)),
  );
  if (open) {
    buttons.push(el("button", { type: "button", class: "danger", onclick: (e) => move(e.currentTarget, r, "cancelled") }, "Cancel repair"));
  }
  return el(
    "article",
    { class: "repair card", "aria-label": r.number },
    el("strong", {}, r.number),
    el("div", {}, r.device),
    el("div", { class: "note" }, names.get(r.customer_id) || r.customer_id),
    el("p", {}, r.problem),
    buttons.length ? el("div", { class: "row tight" }, buttons) : null,
  );
}
