// Back office: the catalog — search, a paged product table, a new-product form, editing in
// a dialog (guarded by the product's version), discontinue/reactivate, and CSV imports
// followed row by row until the gateway has worked through them.

import { ApiError, Offline, call, el, get, post } from "/app/api.js";
import {
  alertLine, busy, card, describe, fail, field, guarded, loading, openDialog, path, product,
  select, showPage, table, words,
} from "/app/admin-ui.js";

const PAGE_SIZE = 25;
const POLL_MS = 1000;

export function productsView(view, signal) {
  const state = { q: "", status: "", page: 1 };
  const [searchField, search] = field("Search products", { type: "search", name: "q", autocomplete: "off" });
  const [statusField, status] = select("Status", [["", "Any"], ["active", "Active"], ["discontinued", "Discontinued"]]);
  const searchForm = el(
    "form",
    { class: "row", role: "search" },
    el("div", { class: "grow" }, searchField),
    statusField,
    el("button", { type: "submit" }, "Search"),
  );
  const listError = alertLine();
  const list = el("div", { class: "stack" }, loading());

  function load() {
    return guarded(listError, async () => {
      const answer = await get(
        path("products", { q: state.q, status: state.status, page: state.page, limit: PAGE_SIZE }),
      );
      if (signal.aborted) return false;
      answer.data.forEach(product.remember);
      showPage(
        list,
        answer,
        productColumns({ changed: load, error: listError }),
        { label: "Products", rowClass: (p) => (p.status === "discontinued" ? "muted" : null) },
        (page) => {
          state.page = page;
          load();
        },
      );
    });
  }

  let typing = null;
  const again = () => {
    state.q = search.value.trim();
    state.status = status.value;
    state.page = 1;
    load();
  };
  searchForm.addEventListener("submit", (event) => {
    event.preventDefault();
    again();
  });
  search.addEventListener("input", () => {
    clearTimeout(typing);
    typing = setTimeout(again, 300);
  });
  status.addEventListener("change", again);

  view.append(
    el("h1", {}, "Products"),
    card("Catalog", searchForm, listError, list),
    el("div", { class: "columns" }, newProductForm(load), importForm(signal, load)),
  );
  load();
}

function productColumns({ changed, error }) {
  return [
    { head: "SKU", cell: (p) => p.sku },
    { head: "Name", cell: (p) => p.name },
    { head: "Price", num: true, cell: (p) => p.price },
    { head: "Tax rate", num: true, cell: (p) => p.tax_rate },
    { head: "Barcodes", cell: (p) => (p.barcodes || []).join(", ") },
    { head: "Category", cell: (p) => p.category ?? "" },
    { head: "Status", cell: (p) => words(p.status) },
    {
      head: "Actions",
      cell: (p) =>
        el(
          "div",
          { class: "row tight" },
          el("button", { type: "button", "aria-label": `Edit ${p.sku}`, onclick: () => editProduct(p, changed) }, "Edit"),
          p.status === "discontinued"
            ? el("button", { type: "button", "aria-label": `Reactivate ${p.sku}`, onclick: (e) => setStatus(e.currentTarget, p, "reactivate", changed, error) }, "Reactivate")
            : el("button", { type: "button", class: "danger", "aria-label": `Discontinue ${p.sku}`, onclick: (e) => setStatus(e.currentTarget, p, "discontinue", changed, error) }, "Discontinue"),
        ),
    },
  ];
}

/** A version conflict reads as what happened; a taken barcode (also 409) as the server says. */
function conflictText(error, what) {
  if (error instanceof ApiError && error.status === 409 && error.code !== "duplicate") {
    return `This ${what} was changed by someone else, reload it and try again.`;
  }
  return describe(error);
}

async function setStatus(button, item, action, changed, error) {
  error.textContent = "";
  try {
    await busy(button, () =>
      call("POST", `products/${encodeURIComponent(item.id)}/${action}`, { headers: { "If-Match": String(item.version) } }),
    );
    changed();
  } catch (e) {
    fail(error, e);
    error.textContent = conflictText(e, "product");
  }
}

/** The text fields of a product, shared by the new-product form and the edit dialog. */
function productFields(item = {}) {
  const [skuField, sku] = field("SKU", { name: "sku", required: true, value: item.sku || "", autocomplete: "off" });
  const [nameField, name] = field("Name", { name: "name", required: true, value: item.name || "" });
  const [priceField, price] = field("Price", { name: "price", required: true, inputmode: "decimal", value: item.price || "" });
  const [taxField, tax] = field("Tax rate", { name: "tax_rate", required: true, inputmode: "decimal", placeholder: "0.08", value: item.tax_rate || "" });
  const [barcodesField, barcodes] = field("Barcodes", { name: "barcodes", placeholder: "comma-separated", value: (item.barcodes || []).join(", ") });
  const [categoryField, category] = field("Category", { name: "category", value: item.category || "" });
  const [reorderField, reorder] = field("Reorder point", { name: "reorder_point", inputmode: "decimal", value: item.reorder_point || "" });
  return {
    nodes: { skuField, nameField, priceField, taxField, barcodesField, categoryField, reorderField },
    values: () => ({
      sku: sku.value.trim(),
      name: name.value.trim(),
      price: price.value.trim(),
      tax_rate: tax.value.trim(),
      barcodes: barcodes.value.split(/[\s,]+/).filter(Boolean),
      category: category.value.trim() || null,
      reorder_point: reorder.value.trim() || null,
    }),
  };
}

function newProductForm(changed) {
  const fields = productFields();
  const n = fields.nodes;
  const error = alertLine();
  const done = el("p", { class: "note", role: "status" });
  const submit = el("button", { type: "submit", class: "primary" }, "Create product");
  const form = el(
    "form",
    { class: "stack", "aria-label": "New product" },
    el("div", { class: "fields" }, n.skuField, n.nameField, n.priceField, n.taxField, n.barcodesField, n.categoryField, n.reorderField),
    el("div", { class: "row" }, submit),
    error,
    done,
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    error.textContent = "";
    done.textContent = "";
    const body = fields.values();
    if (body.category === null) delete body.category;
    if (body.reorder_point === null) delete body.reorder_point;
    guarded(error, async () => {
      const created = await busy(submit, () => post("products", body));
      product.remember(created);
      done.textContent = `Created ${created.sku} (${created.name}).`;
      form.reset();
      changed();
    });
  });
  return card("New product", form);
}

function editProduct(item, changed) {
  const fields = productFields(item);
  const n = fields.nodes;
  n.skuField.querySelector("input").disabled = true;
  const error = alertLine();
  const save = el("button", { type: "submit", class: "primary" }, "Save");
  const form = el(
    "form",
    { class: "stack", "aria-label": `Edit ${item.sku}` },
    el("div", { class: "fields" }, n.skuField, n.nameField, n.priceField, n.taxField, n.barcodesField, n.categoryField, n.reorderField),
    error,
    el("div", { class: "row" }, save),
  );
  const dialog = openDialog(`Edit ${item.name}`, form);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    const { sku, ...patch } = fields.values();
    try {
      const saved = await busy(save, () =>
        call("PATCH", `products/${encodeURIComponent(item.id)}`, {
          body: patch,
          headers: { "If-Match": String(item.version) },
        }),
      );
      product.remember(saved);
      dialog.close();
      changed();
    } catch (e) {
      fail(error, e);
      error.textContent = conflictText(e, "product");
    }
  });
}

function importForm(signal, changed) {
  const [fileField, file] = field("CSV file", { type: "file", name: "file", accept: ".csv,text/csv", required: true });
  const submit = el("button", { type: "submit", class: "primary" }, "Import");
  const error = alertLine();
  const progress = el("div", { class: "stack", "aria-live": "polite" });
  const form = el(
    "form",
    { class: "stack", "aria-label": "Import products" },
    el("p", { class: "note" }, "Header: sku,name,price,tax_rate,barcode,category"),
    el("div", { class: "row" }, el("div", { class: "grow" }, fileField), submit),
    error,
    progress,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    const chosen = file.files && file.files[0];
    if (!chosen) {
      error.textContent = "Choose a CSV file first.";
      return;
    }
    submit.disabled = true;
    try {
      const text = await chosen.text();
      const job = await call("POST", "products/imports", { body: text, contentType: "text/csv" });
      progress.replaceChildren(el("p", {}, `Import ${job.id}: ${words(job.status)}`));
      await follow(job.id, progress, error, signal);
      changed();
    } catch (e) {
      fail(error, e);
    } finally {
      submit.disabled = false;
    }
  });
  return card("Import products", form);
}

const FINISHED = new Set(["completed", "completed_with_errors"]);

/** Polls the job once a second until it is finished or the manager leaves the page. */
async function follow(id, box, error, signal) {
  while (!signal.aborted) {
    try {
      const job = await get(`products/imports/${encodeURIComponent(id)}`);
      error.textContent = "";
      box.replaceChildren(...importProgress(job));
      if (FINISHED.has(job.status)) return;
    } catch (e) {
      fail(error, e);
      // A gateway that is briefly away is waited for; a refusal will not change.
      if (!(e instanceof Offline)) return;
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

function importProgress(job) {
  const done = job.succeeded + job.failed;
  const bar = el("progress", { max: Math.max(job.total_rows, 1), value: done, "aria-label": "Import progress" });
  if (!job.total_rows && !FINISHED.has(job.status)) bar.removeAttribute("value");
  return [
    el("p", { id: "import-status" }, `Status: ${words(job.status)}`),
    bar,
    el(
      "p",
      { id: "import-counts" },
      `${job.succeeded} succeeded, ${job.failed} failed of ${job.total_rows} rows`,
    ),
    table(
      [
        { head: "Row", num: true, cell: (r) => r.row },
        { head: "SKU", cell: (r) => r.sku },
        { head: "Field", cell: (r) => r.field },
        { head: "Message", cell: (r) => r.message },
      ],
      job.errors || [],
      { label: "Import errors" },
    ),
  ];
}
