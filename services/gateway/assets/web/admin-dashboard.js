// Back office: the dashboard — today's sales, a chart by hour, top products, low stock, what
// the ledger has not booked yet and the open sessions. Refreshed every 30 s while shown.

import { all, el, get } from "/app/api.js";
import {
  alertLine, card, cents, guarded, loading, locationNames, money, path, productName, products,
  quantity, registerNames, startOfDay, table, thousandths, userNames, when,
} from "/app/admin-ui.js";

const REFRESH_MS = 30_000;
const MOST_SALES = 2000;
const SVG = "http://www.w3.org/2000/svg";

export function dashboard(view, signal) {
  const refresh = el("button", { type: "button", class: "primary" }, "Refresh");
  const updated = el("span", { class: "note" });
  const sections = {
    today: part("Today"),
    chart: part("Sales by hour"),
    top: part("Top products today"),
    low: part("Low stock"),
    ledger: part("Ledger"),
    sessions: part("Open sessions"),
  };
  view.append(
    el("div", { class: "row heading" }, el("h1", { class: "grow" }, "Dashboard"), updated, refresh),
    el("div", { class: "dashboard" }, Object.values(sections).map((s) => s.node)),
  );

  let running = false;
  async function load() {
    if (running || signal.aborted) return;
    running = true;
    refresh.disabled = true;
    try {
      await Promise.all([
        guarded(sections.today.error, () => today(sections)),
        guarded(sections.low.error, () => lowStock(sections.low)),
        guarded(sections.ledger.error, () => ledger(sections.ledger)),
        guarded(sections.sessions.error, () => openSessions(sections.sessions)),
      ]);
      updated.textContent = `Updated ${new Date().toLocaleTimeString()}`;
    } finally {
      running = false;
      refresh.disabled = false;
    }
  }

  refresh.addEventListener("click", load);
  const timer = setInterval(load, REFRESH_MS);
  signal.addEventListener("abort", () => clearInterval(timer));
  load();
}

/** A card whose body is replaced on each refresh, with its own error line. */
function part(title) {
  const body = el("div", { class: "stack" }, loading());
  const error = alertLine();
  return { node: card(title, body, error), body, error };
}

async function today(sections) {
  const from = startOfDay();
  const [counted, sales] = await Promise.all([
    get(path("sales", { from, limit: 1 })),
    all(path("sales", { from }), MOST_SALES),
  ]);
  const list = sales.slice(0, MOST_SALES);
  // A voided sale took no money: it is counted as rung up, not in the takings.
  const kept = list.filter((sale) => sale.status !== "voided");
  const total = kept.reduce((s, sale) => s + (cents(sale.total) || 0), 0);
  const voided = list.length - kept.length;
  // replaceChildren would print a null as "null": el() drops them.
  sections.today.body.replaceChildren(
    el("div", { class: "stack" },
    el("p", { id: "sales-today", class: "big" }, `Sales today: ${counted.meta.total}`),
    el("p", { id: "sales-today-total" }, "Total: ", el("strong", { class: "total" }, money(total))),
    voided ? el("p", { class: "note" }, `${voided} voided: not in the total, the chart or the top products.`) : null,
    counted.meta.total > list.length
      ? el("p", { class: "note" }, `The total and the chart count the latest ${list.length} sales.`)
      : null),
  );
  sections.chart.body.replaceChildren(chart(kept));
  sections.top.body.replaceChildren(topProducts(kept));
}

/** 24 bars of takings by local hour; the height is money, the tooltip says both. */
function chart(sales) {
  const hours = Array.from({ length: 24 }, () => ({ count: 0, cents: 0 }));
  for (const sale of sales) {
    const hour = new Date(sale.created_at).getHours();
    if (Number.isNaN(hour)) continue;
    hours[hour].count += 1;
    hours[hour].cents += cents(sale.total) || 0;
  }
  const width = 480;
  const height = 170;
  const floor = 150;
  const slot = width / 24;
  const highest = Math.max(1, ...hours.map((h) => h.cents));
  const svg = svgNode("svg", {
    viewBox: `0 0 ${width} ${height}`,
    role: "img",
    "aria-label": "Sales by hour today",
    class: "chart",
  });
  svg.append(svgNode("line", { x1: 0, x2: width, y1: floor, y2: floor, class: "axis" }));
  hours.forEach((h, hour) => {
    // An hour without sales still gets a sliver of a bar, so each of the 24 has a tooltip.
    const tall = h.cents > 0 ? Math.max(2, Math.round((h.cents / highest) * (floor - 10))) : 1;
    const bar = svgNode("rect", {
      x: (hour * slot + 2).toFixed(1),
      y: floor - tall,
      width: (slot - 4).toFixed(1),
      height: tall,
      class: h.cents > 0 ? "hour-bar" : "hour-bar none",
    });
    const title = svgNode("title");
    const span = `${String(hour).padStart(2, "0")}:00–${String(hour + 1).padStart(2, "0")}:00`;
    title.textContent = `${span}: ${h.count} ${h.count === 1 ? "sale" : "sales"}, ${money(h.cents)}`;
    bar.append(title);
    svg.append(bar);
    if (hour % 3 === 0) {
      const label = svgNode("text", { x: (hour * slot + slot / 2).toFixed(1), y: height - 4, "text-anchor": "middle" });
      label.textContent = String(hour).padStart(2, "0");
      svg.append(label);
    }
  });
  return svg;
}

function svgNode(tag, attrs = {}) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  return node;
}

/** Revenue is `line_total − tax`, as the contract defines a line's revenue. */
function topProducts(sales) {
  const byProduct = new Map();
  for (const sale of sales) {
    for (const line of sale.lines || []) {
      const key = line.product_id || "labor";
      const entry = byProduct.get(key) || {
        name: line.product_id ? line.name : "Labor",
        sku: line.product_id ? line.sku : "",
        qty: 0,
        revenue: 0,
      };
      entry.qty += thousandths(line.quantity) || 0;
      entry.revenue += (cents(line.line_total) || 0) - (cents(line.tax) || 0);
      byProduct.set(key, entry);
    }
  }
  const top = [...byProduct.values()].sort((a, b) => b.revenue - a.revenue || b.qty - a.qty).slice(0, 5);
  return table(
    [
      { head: "Product", cell: (p) => p.name },
      { head: "SKU", cell: (p) => p.sku },
      { head: "Quantity", num: true, cell: (p) => quantity(p.qty) },
      { head: "Revenue", num: true, cell: (p) => money(p.revenue) },
    ],
    top,
    { label: "Top products today" },
  );
}

async function lowStock(section) {
  const levels = await all(path("stock", { below_reorder: "true" }), 400);
  const [names, places] = await Promise.all([products(levels.map((l) => l.product_id)), locationNames()]);
  section.body.replaceChildren(
    table(
      [
        { head: "Product", cell: (l) => productName(names, l.product_id) },
        { head: "Location", cell: (l) => places.get(l.location_id) || l.location_id },
        { head: "On hand", num: true, cell: (l) => l.on_hand },
        { head: "Reorder point", num: true, cell: (l) => l.reorder_point ?? "" },
      ],
      levels,
      { label: "Low stock", rowClass: () => "low" },
    ),
  );
}

async function ledger(section) {
  const pending = await get(path("sales", { ledger_status: "pending", limit: 1 }));
  section.body.replaceChildren(
    el("p", { id: "ledger-waiting", class: "big" }, `Waiting for the ledger: ${pending.meta.total}`),
    el("p", { class: "note" }, "Sales the ledger has not booked yet; they clear within seconds normally."),
  );
}

async function openSessions(section) {
  const sessions = await all(path("sessions", { status: "open" }), 400);
  const [tills, people] = await Promise.all([registerNames(sessions.map((x) => x.register_id)), userNames()]);
  section.body.replaceChildren(
    table(
      [
        { head: "Register", cell: (s) => tills.get(s.register_id) || s.register_id },
        { head: "Opened by", cell: (s) => people.get(s.opened_by) || s.opened_by },
        { head: "Opened", cell: (s) => when(s.opened_at) },
        { head: "Expected cash", num: true, cell: (s) => s.expected_cash },
      ],
      sessions,
      { label: "Open sessions" },
    ),
  );
}
