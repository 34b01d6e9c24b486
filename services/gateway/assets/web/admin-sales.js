// Back office: sales (with their receipts), register sessions (their X/Z report and the
// register's journal check) and customers (their account and sales).

import { el, get, post } from "/app/api.js";
import {
  alertLine, busy, card, customer, endOfDay, facts, fail, field, guarded, loading, locations,
  path, registerNames, saleButton, select, showPage, startOfDay, table, userNames, when, words,
} from "/app/admin-ui.js";

const PAGE_SIZE = 25;

const saleColumns = [
  { head: "Sale number", cell: (s) => saleButton(s) },
  { head: "Created", cell: (s) => when(s.created_at) },
  { head: "Total", num: true, cell: (s) => s.total },
  { head: "Status", cell: (s) => words(s.status) },
  { head: "Ledger", cell: (s) => words(s.ledger_status) },
];

export function salesView(view, signal) {
  const state = { from: "", to: "", location: "", page: 1 };
  const [fromField, from] = field("From", { type: "date", name: "from" });
  const [toField, to] = field("To", { type: "date", name: "to" });
  const [placeField, place] = select("Location", [["", "All locations"]], { name: "location_id" });
  const filter = el("form", { class: "row", "aria-label": "Filter sales" }, fromField, toField, placeField, el("button", { type: "submit" }, "Show"));
  const error = alertLine();
  const list = el("div", { class: "stack" }, loading());

  function load() {
    return guarded(error, async () => {
      const answer = await get(
        path("sales", {
          from: state.from && startOfDay(state.from),
          to: state.to && endOfDay(state.to),
          location_id: state.location,
          page: state.page,
          limit: PAGE_SIZE,
        }),
      );
      if (signal.aborted) return false;
      showPage(
        list,
        answer,
        saleColumns,
        { label: "Sales", rowClass: (s) => (s.status === "voided" ? "muted" : null) },
        (page) => {
          state.page = page;
          load();
        },
      );
    });
  }

  filter.addEventListener("submit", (event) => {
    event.preventDefault();
    Object.assign(state, { from: from.value, to: to.value, location: place.value, page: 1 });
    load();
  });
  locations()
    .then((list) => place.append(...list.map((l) => el("option", { value: l.id }, l.name))))
    .catch((e) => fail(error, e));

  view.append(el("h1", {}, "Sales"), card("Sales", filter, error, list));
  load();
}

export function sessionsView(view, signal) {
  const state = { status: "", page: 1 };
  const [statusField, status] = select("Status", [["", "Any"], ["open", "Open"], ["closed", "Closed"]], { name: "status" });
  const error = alertLine();
  const list = el("div", { class: "stack" }, loading());
  const detail = el("div", { class: "stack" }, el("p", { class: "note" }, "Choose a session to see its report."));

  function load() {
    return guarded(error, async () => {
      const answer = await get(path("sessions", { status: state.status, page: state.page, limit: PAGE_SIZE }));
      const tills = await registerNames(answer.data.map((x) => x.register_id));
      if (signal.aborted) return false;
      const name = (s) => tills.get(s.register_id) || s.register_id;
      showPage(
        list,
        answer,
        [
          {
            head: "Register",
            cell: (s) =>
              el(
                "button",
                { type: "button", class: "link", "aria-label": `Report of ${name(s)}, opened ${when(s.opened_at)}`, onclick: () => report(s, name(s)) },
                name(s),
              ),
          },
          { head: "Status", cell: (s) => words(s.status) },
          { head: "Opened", cell: (s) => when(s.opened_at) },
          { head: "Closed", cell: (s) => when(s.closed_at) },
          { head: "Expected cash", num: true, cell: (s) => s.expected_cash },
          { head: "Counted cash", num: true, cell: (s) => s.counted_cash ?? "" },
          { head: "Difference", num: true, cell: (s) => s.difference ?? "" },
          { head: "Z number", num: true, cell: (s) => s.z_number ?? "" },
        ],
        { label: "Sessions" },
        (page) => {
          state.page = page;
          load();
        },
      );
    });
  }

  async function report(session, tillName) {
    const reportError = alertLine();
    const journal = el("p", { id: "journal-status", role: "status" }, "Checking the journal…");
    const body = el("div", { class: "stack" }, loading());
    detail.replaceChildren(el("h3", {}, `${tillName}: session of ${when(session.opened_at)}`), body, journal, reportError);
    const [r, check, people] = await Promise.allSettled([
      get(`sessions/${encodeURIComponent(session.id)}/report`),
      get(`registers/${encodeURIComponent(session.register_id)}/journal/verify`),
      userNames(),
    ]);
    if (signal.aborted) return;
    const names = people.status === "fulfilled" ? people.value : new Map();
    if (r.status === "fulfilled") body.replaceChildren(reportFacts(r.value, session, names));
    else {
      body.replaceChildren();
      fail(reportError, r.reason);
    }
    if (check.status === "fulfilled") {
      const v = check.value;
      journal.textContent = v.valid
        ? `Journal intact (${v.entries} entries)`
        : `Journal broken at entry ${v.broken_at_seq}`;
      journal.className = v.valid ? "good" : "error";
    } else {
      journal.textContent = "";
      fail(reportError, check.reason);
    }
  }

  status.addEventListener("change", () => {
    state.status = status.value;
    state.page = 1;
    load();
  });
  view.append(
    el("h1", {}, "Sessions"),
    el("div", { class: "columns wide-first" }, card("Sessions", el("div", { class: "row" }, statusField), error, list), card("Report", detail)),
  );
  load();
}

function reportFacts(r, session, names) {
  const tenders = Object.entries(r.by_tender || {});
  return el(
    "div",
    { class: "stack" },
    el("p", {}, `${r.kind === "z" ? `Z report ${r.z_number ?? ""}` : "X report (session open)"}`),
    facts([
      ["Opened by", names.get(session.opened_by) || session.opened_by],
      ["Sales", String(r.sales_count)],
      ["Voids", String(r.voids_count ?? 0)],
      ["Returns", String(r.returns_count ?? 0)],
      ["Total", r.total],
      ["Opening float", r.opening_float],
      ["Expected cash", r.expected_cash],
      ["Counted cash", r.counted_cash ?? "—"],
      ["Difference", r.difference ?? "—"],
      ["Grand total", r.grand_total],
    ]),
    el("h4", {}, "By tender"),
    table(
      [
        { head: "Tender", cell: ([method]) => words(method) },
        { head: "Amount", num: true, cell: ([, amount]) => amount },
      ],
      tenders,
      { label: "By tender" },
    ),
  );
}

export function customersView(view, signal) {
  const state = { q: "", page: 1 };
  const [searchField, search] = field("Search customers", { type: "search", name: "q", autocomplete: "off" });
  const searchForm = el("form", { class: "row", role: "search" }, el("div", { class: "grow" }, searchField), el("button", { type: "submit" }, "Search"));
  const error = alertLine();
  const list = el("div", { class: "stack" }, loading());
  const detail = el("div", { class: "stack" }, el("p", { class: "note" }, "Choose a customer to see their account and sales."));

  function load() {
    return guarded(error, async () => {
      const answer = await get(path("customers", { q: state.q, page: state.page, limit: PAGE_SIZE }));
      if (signal.aborted) return false;
      answer.data.forEach(customer.remember);
      showPage(
        list,
        answer,
        [
          { head: "Number", cell: (c) => c.number },
          {
            head: "Name",
            cell: (c) => el("button", { type: "button", class: "link", onclick: () => showCustomer(c, detail, signal) }, c.name),
          },
          { head: "Email", cell: (c) => c.email ?? "" },
          { head: "Phone", cell: (c) => c.phone ?? "" },
        ],
        { label: "Customers" },
        (page) => {
          state.page = page;
          load();
        },
      );
    });
  }

  searchForm.addEventListener("submit", (event) => {
    event.preventDefault();
    state.q = search.value.trim();
    state.page = 1;
    load();
  });

  view.append(
    el("h1", {}, "Customers"),
    el("div", { class: "columns wide-first" }, card("Customers", searchForm, error, list), card("Customer", detail)),
    newCustomerForm(load),
  );
  load();
}

async function showCustomer(c, detail, signal, page = 1) {
  const error = alertLine();
  const account = el("div", {}, loading());
  const sales = el("div", { class: "stack" }, loading());
  detail.replaceChildren(el("h3", {}, `${c.name} (${c.number})`), account, el("h4", {}, "Sales"), sales, error);
  const [a, s] = await Promise.allSettled([
    get(`customers/${encodeURIComponent(c.id)}/account`),
    get(path(`customers/${encodeURIComponent(c.id)}/sales`, { page, limit: 10 })),
  ]);
  if (signal.aborted) return;
  if (a.status === "fulfilled") {
    account.replaceChildren(
      facts([
        ["Balance owed", a.value.balance],
        ["Credit limit", a.value.credit_limit],
        ["Store credit", a.value.store_credit],
      ]),
    );
  } else {
    account.replaceChildren();
    fail(error, a.reason);
  }
  if (s.status === "fulfilled") {
    showPage(sales, s.value, saleColumns, { label: `Sales of ${c.name}` }, (next) => showCustomer(c, detail, signal, next));
  } else {
    sales.replaceChildren();
    fail(error, s.reason);
  }
}

function newCustomerForm(changed) {
  const [nameField, name] = field("Name", { name: "name", required: true, autocomplete: "off" });
  const [emailField, email] = field("Email", { name: "email", type: "email", autocomplete: "off" });
  const [phoneField, phone] = field("Phone", { name: "phone", type: "tel", autocomplete: "off" });
  const submit = el("button", { type: "submit", class: "primary" }, "Create customer");
  const error = alertLine();
  const done = el("p", { class: "note", role: "status" });
  const form = el(
    "form",
    { class: "stack", "aria-label": "New customer" },
    el("div", { class: "fields" }, nameField, emailField, phoneField),
    el("div", { class: "row" }, submit),
    error,
    done,
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    error.textContent = "";
    done.textContent = "";
    const body = { name: name.value.trim() };
    if (email.value.trim()) body.email = email.value.trim();
    if (phone.value.trim()) body.phone = phone.value.trim();
    guarded(error, async () => {
      const created = await busy(submit, () => post("customers", body));
      customer.remember(created);
      done.textContent = `Created ${created.number} (${created.name}).`;
      form.reset();
      changed();
    });
  });
  return card("New customer", form);
}
