// The cart of the sale being rung up, priced here by the contract's rules (api-v1.md,
// "Pricing rules") so the cashier sees the total at once, online or not. The server prices
// the sale again and its answer is what the receipt shows.

import { cents, el, money } from "/app/api.js";

/** `n / d` rounded half away from zero, for whole numbers. */
function divRound(n, d) {
  const sign = Math.sign(n) * Math.sign(d);
  const a = Math.abs(n);
  const b = Math.abs(d);
  const q = Math.floor(a / b);
  return sign * (2 * (a - q * b) >= b ? q + 1 : q);
}

/** "1.25" → 1250 thousandths; NaN unless a positive quantity with at most 3 places. */
export function thousandths(text) {
  const match = /^(\d{1,7})(?:\.(\d{1,3}))?$/.exec(String(text).trim());
  if (!match) return NaN;
  return Number(match[1]) * 1000 + Number((match[2] || "").padEnd(3, "0"));
}

/** A fraction such as "0.08" in millionths (80000). */
function millionths(text) {
  const match = /^(\d+)(?:\.(\d{1,6}))?$/.exec(String(text).trim());
  return match ? Number(match[1]) * 1e6 + Number((match[2] || "").padEnd(6, "0")) : 0;
}

/** A line discount as typed: "0.50" (an amount) or "10%" (of the line's gross). */
export function parseDiscount(text) {
  const value = String(text || "").trim();
  if (!value) return null;
  const percent = /^(\d{1,3}(?:\.\d{1,2})?)\s*%$/.exec(value);
  if (percent) return Number(percent[1]) <= 100 ? { percent: percent[1] } : undefined;
  return Number.isNaN(cents(value)) || cents(value) < 0 ? undefined : { amount: value };
}

/** The figures of one line, in cents. */
export function priceLine(line, inclusive) {
  const unit = cents(line.unitPrice ?? line.product.price);
  const quantity = thousandths(line.quantity);
  const gross = divRound(unit * quantity, 1000);
  const discount = parseDiscount(line.discount);
  let off = 0;
  if (discount && discount.percent) off = divRound(gross * Math.round(Number(discount.percent) * 100), 10000);
  if (discount && discount.amount) off = cents(discount.amount);
  const net = gross - off;
  const rate = millionths(line.product.tax_rate);
  const tax = inclusive ? net - divRound(net * 1e6, 1e6 + rate) : divRound(net * rate, 1e6);
  return { unit, gross, discount: off, net, tax, total: inclusive ? net : net + tax };
}

export class Cart {
  constructor() {
    this.lines = [];
    this.customer = null;
    this.inclusive = localStorage.getItem("tillstream.inclusive") === "true";
  }

  /** Adds one of `product`, or one more to its line when it is already there. */
  add(product) {
    const same = this.lines.find((l) => l.product.id === product.id && l.unitPrice === null && !l.discount);
    if (same) {
      same.quantity = String((thousandths(same.quantity) + 1000) / 1000);
      return same;
    }
    const line = { product, quantity: "1", discount: "", unitPrice: null };
    this.lines.push(line);
    return line;
  }

  /** The first line that cannot be sent as it is, with why, or null. */
  problem() {
    for (const [i, line] of this.lines.entries()) {
      const quantity = thousandths(line.quantity);
      if (Number.isNaN(quantity) || quantity <= 0) return `Line ${i + 1}: the quantity must be above 0, at most 3 places`;
      if (parseDiscount(line.discount) === undefined) return `Line ${i + 1}: a discount is an amount (0.50) or a percentage (10%)`;
      const figures = priceLine(line, this.inclusive);
      if (figures.net < 0) return `Line ${i + 1}: the discount is more than the line`;
    }
    return this.lines.length ? null : "The cart is empty";
  }

  totals() {
    const sum = { subtotal: 0, discount: 0, tax: 0, total: 0 };
    for (const line of this.lines) {
      const f = priceLine(line, this.inclusive);
      sum.subtotal += f.gross;
      sum.discount += f.discount;
      sum.tax += f.tax;
      sum.total += f.total;
    }
    return sum;
  }

  /** The lines of `POST /sales`; offline ones carry the price the till charged. */
  request(offline) {
    return this.lines.map((line) => {
      const sent = { product_id: line.product.id, quantity: line.quantity };
      const discount = parseDiscount(line.discount);
      if (discount) sent.discount = discount;
      if (line.unitPrice !== null) sent.unit_price = line.unitPrice;
      else if (offline) sent.unit_price = line.product.price;
      return sent;
    });
  }

  /** Learns from the server's answer whether prices include tax. */
  learn(sale) {
    const taxed = (sale.lines || []).find((l) => cents(l.tax) !== 0);
    if (!taxed) return;
    this.inclusive = taxed.line_total === taxed.net;
    localStorage.setItem("tillstream.inclusive", String(this.inclusive));
  }
}

/** The cart as a table; `changed()` runs after any edit, `reprice(line)` asks for a price. */
export function cartTable(cart, { changed, reprice }) {
  const body = el("tbody");
  if (!cart.lines.length) {
    body.append(el("tr", {}, el("td", { colspan: "6", class: "note" }, "Scan an item to start a sale")));
  }
  for (const line of cart.lines) {
    const name = line.product.name;
    const figures = priceLine(line, cart.inclusive);
    const quantity = el("input", {
      class: "qty", inputmode: "decimal", value: line.quantity, "aria-label": `Quantity of ${name}`,
      onchange: (e) => { line.quantity = e.target.value.trim(); changed(); },
    });
    const discount = el("input", {
      class: "disc", value: line.discount, placeholder: "0.00 or 10%", "aria-label": `Discount of ${name}`,
      onchange: (e) => { line.discount = e.target.value.trim(); changed(); },
    });
    const price = el("button", { type: "button", "aria-label": `Change price of ${name}`, onclick: () => reprice(line) },
      money(figures.unit));
    const remove = el("button", {
      type: "button", class: "danger", "aria-label": `Remove ${name}`,
      onclick: () => { cart.lines.splice(cart.lines.indexOf(line), 1); changed(); },
    }, "✕");
    body.append(el("tr", { "data-product": line.product.id },
      el("td", {}, name, el("div", { class: "note" }, line.product.sku, line.unitPrice !== null ? " · price changed" : "")),
      el("td", {}, quantity),
      el("td", { class: "num" }, price),
      el("td", {}, discount),
      el("td", { class: "num line-total" }, money(figures.total)),
      el("td", {}, remove)));
  }
  return el("table", { class: "cart", "aria-label": "Cart" },
    el("thead", {}, el("tr", {},
      el("th", {}, "Item"), el("th", {}, "Qty"), el("th", { class: "num" }, "Price"),
      el("th", {}, "Discount"), el("th", { class: "num" }, "Total"), el("th", {}, ""))),
    body);
}
