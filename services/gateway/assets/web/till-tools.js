// The register's dialogs: questions with a form, a manager's approval by PIN, the receipt,
// the X report and the close with a count, finding a sale to void or take a return of, and
// choosing the sale's customer.

import { ApiError, Offline, cents, el, get, money, post, when } from "/app/api.js";

const dialog = () => document.getElementById("dialog");

/**
 * Shows a form in the dialog; resolves with its values by field name, or null when the
 * cashier cancels. `check(values)` may answer an error text to keep the dialog open, or
 * throw an ApiError, which is shown there too.
 */
export function ask({ title, fields = [], submit = "OK", body = null, check = null, cancel = "Cancel" }) {
  const box = dialog();
  box.replaceChildren();
  return new Promise((resolve) => {
    const error = el("p", { class: "error", role: "alert" });
    const inputs = fields.map((f) => el("label", {}, f.label, el("input", {
      name: f.name, type: f.type || "text", value: f.value ?? "", inputmode: f.inputmode,
      autocomplete: f.autocomplete || "off", required: f.required,
    })));
    const form = el("form", { class: "stack", method: "dialog" },
      el("h2", { id: "dialog-title" }, title), body, ...inputs, error,
      el("div", { class: "row" },
        el("button", { type: "submit", class: "primary" }, submit),
        cancel ? el("button", { type: "button", onclick: () => { box.close(); resolve(null); } }, cancel) : null));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const values = Object.fromEntries(fields.map((f) => [f.name, form.elements[f.name].value.trim()]));
      try {
        const problem = check ? await check(values) : null;
        if (problem) {
          error.textContent = problem;
          return;
        }
      } catch (failure) {
        error.textContent = failure instanceof ApiError ? failure.describe() : failure.message;
        return;
      }
      box.close();
      resolve(values);
    });
    box.append(form);
    box.addEventListener("cancel", () => resolve(null), { once: true });
    box.showModal();
    const first = form.querySelector("input");
    (first || form.querySelector("button")).focus();
  });
}

const ACTIONS = {
  price_override: "a price change",
  discount: "a discount above the limit",
  return: "a return",
  void: "a void",
  refund_tender: "a refund to another tender",
  cash_difference: "a cash difference",
};

/** A manager's approval of `action`, entered at this till: its token, or null. */
export async function approval(action) {
  let token = null;
  const answered = await ask({
    title: `Manager approval: ${ACTIONS[action] || action}`,
    body: el("p", { class: "note" }, "A manager enters their username and PIN here."),
    fields: [
      { name: "username", label: "Manager username", autocomplete: "username", required: true },
      { name: "pin", label: "Manager PIN", type: "password", inputmode: "numeric", required: true },
    ],
    submit: "Approve",
    check: async ({ username, pin }) => {
      const granted = await post("auth/approvals", { username, pin, action });
      token = granted.approval_token;
      return null;
    },
  });
  return answered ? token : null;
}

/**
 * Runs `send(headers)`; when the answer is a 403 `approval_required`, asks a manager for
 * that action and sends again with every approval gathered. Resolves null if refused.
 */
export async function withApprovals(send) {
  const tokens = [];
  for (let attempt = 0; attempt < 4; attempt += 1) {
    try {
      return await send(tokens.length ? { "X-Approval": tokens.join(",") } : {});
    } catch (error) {
      if (!(error instanceof ApiError) || error.code !== "approval_required") throw error;
      const action = (/`(\w+)` approval/.exec(error.message) || [])[1];
      const token = action ? await approval(action) : null;
      if (!token) return null;
      tokens.push(token);
    }
  }
  return null;
}

/** The receipt of a completed (or queued) sale, as the page shows and prints it. */
export function receipt(sale, { queued = false } = {}) {
  const lines = (sale.lines || []).map((l) => el("tr", {},
    el("td", {}, l.name || l.product_name || l.product_id), el("td", { class: "num" }, l.quantity),
    el("td", { class: "num" }, l.line_total || "")));
  const payments = (sale.payments || []).map((p) => el("tr", {},
    el("td", { colspan: "2" }, p.method.replace("_", " ")), el("td", { class: "num" }, p.amount)));
  return el("section", { class: "card receipt stack", "aria-label": "Receipt" },
    queued
      ? el("h2", {}, "Queued sale ", el("span", { class: "sale-number" }, sale.id))
      : el("h2", {}, "Sale ", el("span", { class: "sale-number" }, sale.sale_number)),
    queued ? el("p", { role: "status" }, "Offline: this sale is kept here and sent when the connection returns.") : null,
    el("p", { class: "note" }, when(sale.created_at || sale.captured_at),
      sale.receipt_no ? ` · receipt ${sale.receipt_no}` : ""),
    el("table", {}, el("tbody", {}, lines)),
    el("table", {}, el("tbody", {},
      sale.tax_total ? el("tr", {}, el("td", { colspan: "2" }, "Tax"), el("td", { class: "num" }, sale.tax_total)) : null,
      el("tr", {}, el("th", { colspan: "2" }, "Total"), el("th", { class: "num", id: "receipt-total" }, sale.total)),
      payments,
      el("tr", {}, el("td", { colspan: "2" }, "Change"), el("td", { class: "num", id: "receipt-change" }, sale.change)))));
}

/** The X (open) or Z (closed) report of a session. */
export function report(r) {
  const row = (label, value) => el("tr", {}, el("td", {}, label), el("td", { class: "num" }, value ?? "—"));
  const tenders = Object.entries(r.by_tender || {}).map(([m, a]) => row(`  ${m}`, a));
  return el("table", { "aria-label": `${r.kind.toUpperCase()} report` }, el("tbody", {},
    row("Report", r.kind === "z" ? `Z ${r.z_number}` : "X"), row("Sales", r.sales_count), row("Voids", r.voids_count),
    row("Returns", r.returns_count), row("Total", r.total), row("Refunds", r.returns), tenders,
    row("Opening float", r.opening_float), row("Paid in", r.paid_in), row("Paid out", r.paid_out),
    row("Expected cash", r.expected_cash), row("Counted cash", r.counted_cash), row("Difference", r.difference)));
}

export async function showReport(sessionId) {
  const r = await get(`sessions/${sessionId}/report`);
  await ask({ title: "X report", body: report(r), submit: "Done", cancel: null });
}

/** Closes the session with the drawer's count; resolves with the closed session, or null. */
export async function closeSession(sessionId) {
  let closed = null;
  const answered = await ask({
    title: "Close session",
    body: el("p", { class: "note" }, "Count the drawer and enter the cash in it."),
    fields: [{ name: "counted", label: "Counted cash", inputmode: "decimal", required: true }],
    submit: "Close session",
    check: async ({ counted }) => {
      if (Number.isNaN(cents(counted))) return "Counted cash is an amount such as 120.50";
      closed = await withApprovals((headers) => post(`sessions/${sessionId}/close`, { counted_cash: counted }, { headers }));
      return closed ? null : "Not closed: a manager's approval is needed for the difference";
    },
  });
  if (!answered || !closed) return null;
  await ask({ title: `Z report ${closed.z_number}`, body: report(closed.report), submit: "Done", cancel: null });
  return closed;
}

/** Finds a sale by its number and offers its void or a return of its lines. */
export async function saleActions(sessionId) {
  let sale = null;
  const found = await ask({
    title: "Find a sale",
    fields: [{ name: "number", label: "Sale number", required: true }],
    submit: "Find",
    check: async ({ number }) => { sale = await get(`sales/${encodeURIComponent(number)}`); return null; },
  });
  if (!found || !sale) return null;
  const quantities = sale.lines.map((l) => el("input", {
    inputmode: "decimal", value: "0", "aria-label": `Return quantity of ${l.name || "line " + l.line_no}`,
  }));
  const body = el("div", { class: "stack" },
    receipt(sale),
    el("p", {}, `Status: ${sale.status}`),
    el("table", { "aria-label": "Lines to return" }, el("tbody", {}, sale.lines.map((l, i) =>
      el("tr", {}, el("td", {}, l.name || `Line ${l.line_no}`), el("td", {}, `of ${l.quantity}`), el("td", {}, quantities[i]))))));
  const choice = await ask({
    title: `Sale ${sale.sale_number}`, body,
    fields: [{ name: "reason", label: "Reason", required: false }],
    submit: "Take return",
    cancel: "Close",
  });
  if (!choice) return null;
  const lines = sale.lines
    .map((l, i) => ({ line: l, quantity: quantities[i].value.trim() }))
    .filter((r) => r.quantity && r.quantity !== "0");
  const refund = lines.reduce((sum, r) => sum + Math.round(cents(r.line.line_total) * Number(r.quantity) / Number(r.line.quantity)), 0);
  const body2 = { lines: lines.map((r) => ({ line_no: r.line.line_no, quantity: r.quantity })),
    refunds: [{ method: "cash", amount: money(refund) }], reason: choice.reason || undefined, session_id: sessionId };
  return withApprovals((headers) => post(`sales/${sale.id}/returns`, body2, { headers }));
}

/** Voids a sale found by number, with a reason. */
export async function voidSale() {
  let done = null;
  await ask({
    title: "Void a sale",
    fields: [{ name: "number", label: "Sale number", required: true }, { name: "reason", label: "Reason", required: true }],
    submit: "Void sale",
    check: async ({ number, reason }) => {
      const sale = await get(`sales/${encodeURIComponent(number)}`);
      done = await withApprovals((headers) => post(`sales/${sale.id}/void`, { reason }, { headers }));
      return done ? null : "Not voided: a manager's approval is needed";
    },
  });
  return done;
}

/** Picks or creates the sale's customer: `{id, name, number}` or null. */
export async function chooseCustomer() {
  let chosen = null;
  const results = el("div", { class: "results stack" });
  const answered = await ask({
    title: "Customer",
    body: results,
    fields: [{ name: "q", label: "Find customer", required: true }, { name: "phone", label: "Phone (new customer)" }],
    submit: "Find or add",
    check: async ({ q, phone }) => {
      if (chosen) return null;
      const found = await get(`customers?q=${encodeURIComponent(q)}&limit=10`);
      if (!found.data.length) {
        chosen = await post("customers", phone ? { name: q, phone } : { name: q });
        return null;
      }
      results.replaceChildren(...found.data.map((c) => el("button", {
        type: "button", onclick: () => { chosen = c; results.replaceChildren(el("p", {}, `Chosen: ${c.name}`)); },
      }, `${c.number} · ${c.name}${c.phone ? " · " + c.phone : ""}`)));
      return "Choose one, or change the search";
    },
  });
  return answered ? chosen : null;
}

export function describe(error) {
  if (error instanceof Offline) return "Offline: the gateway did not answer";
  if (error instanceof ApiError) return error.describe();
  return error.message || String(error);
}
