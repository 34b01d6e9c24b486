// Back office: stock at one location — levels (below the reorder point highlighted),
// receiving goods, recording a count, and a product's movement history.

import { el, get, post } from "/app/api.js";
import {
  alertLine, busy, card, fail, field, findProduct, guarded, loading, locations, path,
  productName, products, showPage, when, words,
} from "/app/admin-ui.js";

const PAGE_SIZE = 50;

export function stockView(view, signal) {
  const state = { location: "", page: 1, moving: null, movesPage: 1 };
  const [placeField, place] = field("Location", { name: "location_id" }, "select");
  const topError = alertLine();
  const levels = el("div", { class: "stack" }, loading());
  const levelsError = alertLine();
  const moves = el("div", { class: "stack" }, el("p", { class: "note" }, "Choose a product to see its movements."));
  const movesError = alertLine();

  function loadLevels() {
    return guarded(levelsError, async () => {
      if (!state.location) return false;
      const answer = await get(path("stock", { location_id: state.location, page: state.page, limit: PAGE_SIZE }));
      const names = await products(answer.data.map((l) => l.product_id));
      if (signal.aborted) return false;
      showPage(
        levels,
        answer,
        [
          { head: "Product", cell: (l) => productName(names, l.product_id) },
          { head: "On hand", num: true, cell: (l) => l.on_hand },
          { head: "Avg cost", num: true, cell: (l) => l.avg_cost },
          { head: "Reorder point", num: true, cell: (l) => l.reorder_point ?? "" },
          { head: "Below reorder", cell: (l) => (l.below_reorder ? el("strong", { class: "flag" }, "Below reorder") : "") },
          {
            head: "History",
            cell: (l) => {
              const item = names.get(l.product_id);
              const label = item ? item.sku : l.product_id;
              return el(
                "button",
                { type: "button", "aria-label": `Movements of ${label}`, onclick: () => showMoves(l.product_id, 1) },
                "Movements",
              );
            },
          },
        ],
        { label: "Stock levels", rowClass: (l) => (l.below_reorder ? "low" : null) },
        (page) => {
          state.page = page;
          loadLevels();
        },
      );
    });
  }

  function showMoves(productId, page) {
    state.moving = productId;
    state.movesPage = page;
    return guarded(movesError, async () => {
      const [answer, names] = await Promise.all([
        get(path("stock/movements", { product_id: productId, location_id: state.location, page, limit: PAGE_SIZE })),
        products([productId]),
      ]);
      if (signal.aborted) return false;
      showPage(
        moves,
        answer,
        [
          { head: "When", cell: (m) => when(m.occurred_at) },
          { head: "Kind", cell: (m) => words(m.kind) },
          { head: "Quantity", num: true, cell: (m) => m.quantity },
          { head: "Unit cost", num: true, cell: (m) => m.unit_cost },
          { head: "Reference", cell: (m) => m.reference ?? m.reason ?? "" },
          { head: "On hand after", num: true, cell: (m) => m.on_hand_after ?? "" },
        ],
        { label: "Movements" },
        (next) => showMoves(productId, next),
      );
      moves.prepend(el("h3", {}, productName(names, productId)));
    });
  }

  /** After a receipt or count: the levels and the history shown are stale. */
  function changed(productId) {
    loadLevels();
    if (state.moving === productId || !state.moving) showMoves(productId, 1);
  }

  place.addEventListener("change", () => {
    state.location = place.value;
    state.page = 1;
    levels.replaceChildren(loading());
    loadLevels();
    if (state.moving) showMoves(state.moving, 1);
  });

  const [codeField, code] = field("SKU", { name: "sku", autocomplete: "off", placeholder: "SKU or barcode", required: true });
  const find = el("button", { type: "submit" }, "Show movements");
  const lookup = el("form", { class: "row", "aria-label": "Movements" }, el("div", { class: "grow" }, codeField), find);
  lookup.addEventListener("submit", async (event) => {
    event.preventDefault();
    movesError.textContent = "";
    try {
      const item = await busy(find, () => findProduct(code.value));
      showMoves(item.id, 1);
    } catch (e) {
      fail(movesError, e);
    }
  });

  view.append(
    el("h1", {}, "Stock"),
    el("div", { class: "row" }, placeField),
    topError,
    card("Levels", levelsError, levels),
    el("div", { class: "columns" }, receiptForm(() => state.location, changed), countForm(() => state.location, changed)),
    card("Movements", lookup, movesError, moves),
  );

  locations()
    .then((list) => {
      place.replaceChildren(...list.map((l) => el("option", { value: l.id }, `${l.name} (${l.code})`)));
      if (!list.length) {
        levels.replaceChildren(el("p", { class: "note" }, "No locations yet."));
        return;
      }
      state.location = list[0].id;
      place.value = state.location;
      loadLevels();
    })
    .catch((e) => fail(topError, e));
}

function receiptForm(location, changed) {
  const [codeField, code] = field("SKU", { name: "sku", autocomplete: "off", placeholder: "SKU or barcode", required: true });
  const [qtyField, qty] = field("Quantity", { name: "quantity", inputmode: "decimal", required: true });
  const [costField, cost] = field("Unit cost", { name: "unit_cost", inputmode: "decimal", required: true });
  const [supplierField, supplier] = field("Supplier", { name: "supplier" });
  const [referenceField, reference] = field("Reference", { name: "reference" });
  const submit = el("button", { type: "submit", class: "primary" }, "Receive");
  const error = alertLine();
  const done = el("p", { class: "note", role: "status" });
  const form = el(
    "form",
    { class: "stack", "aria-label": "Receive stock" },
    el("div", { class: "fields" }, codeField, qtyField, costField, supplierField, referenceField),
    el("div", { class: "row" }, submit),
    error,
    done,
  );
  sendForProduct(form, { code, submit, error, done }, changed, async (item) => {
    await post("stock/receipts", {
      location_id: location(),
      supplier: supplier.value.trim() || undefined,
      reference: reference.value.trim() || undefined,
      lines: [{ product_id: item.id, quantity: qty.value.trim(), unit_cost: cost.value.trim() }],
    });
    return `Received ${qty.value.trim()} × ${item.name}.`;
  });
  return card("Receive stock", form);
}

function countForm(location, changed) {
  const [codeField, code] = field("SKU", { name: "sku", autocomplete: "off", placeholder: "SKU or barcode", required: true });
  const [countedField, counted] = field("Counted", { name: "counted", inputmode: "decimal", required: true });
  const submit = el("button", { type: "submit", class: "primary" }, "Record count");
  const error = alertLine();
  const done = el("p", { class: "note", role: "status" });
  const form = el(
    "form",
    { class: "stack", "aria-label": "Count stock" },
    el("div", { class: "fields" }, codeField, countedField),
    el("div", { class: "row" }, submit),
    error,
    done,
  );
  sendForProduct(form, { code, submit, error, done }, changed, async (item) => {
    await post("stock/counts", {
      location_id: location(),
      lines: [{ product_id: item.id, counted: counted.value.trim() }],
    });
    return `Counted ${counted.value.trim()} × ${item.name}.`;
  });
  return card("Count stock", form);
}

/**
 * Submitting `form` finds the product typed in `code` and has `send(item)` post its line, the
 * button disabled throughout; `send` answers what `done` then says. The fields are read before
 * the form empties, so that sentence can quote them.
 */
function sendForProduct(form, { code, submit, error, done }, changed, send) {
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    error.textContent = "";
    done.textContent = "";
    guarded(error, () =>
      busy(submit, async () => {
        const item = await findProduct(code.value);
        done.textContent = await send(item);
        form.reset();
        changed(item.id);
      }),
    );
  });
}
