// What the register keeps in the browser so that it works without the gateway: a copy of
// the catalog (to scan and price) and the sales rung up while offline, each with the id
// and capture time the till gave it, until `POST /sales/batch` has taken them.

import { ApiError, get, post } from "/app/api.js";

const NAME = "tillstream-register";

let opened = null;

function database() {
  if (!opened) {
    opened = new Promise((resolve, reject) => {
      const request = indexedDB.open(NAME, 1);
      request.onupgradeneeded = () => {
        const db = request.result;
        const products = db.createObjectStore("products", { keyPath: "id" });
        products.createIndex("barcode", "barcodes", { multiEntry: true });
        products.createIndex("sku", "sku");
        db.createObjectStore("queue", { keyPath: "id" });
      };
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
  }
  return opened;
}

/** Runs `work(stores)` in one transaction and resolves with what it returns once committed. */
async function transaction(names, mode, work) {
  const db = await database();
  return new Promise((resolve, reject) => {
    const tx = db.transaction(names, mode);
    const stores = Object.fromEntries(names.map((name) => [name, tx.objectStore(name)]));
    let result;
    Promise.resolve(work(stores)).then((value) => { result = value; }, reject);
    tx.oncomplete = () => resolve(result);
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error);
  });
}

const request = (req) => new Promise((resolve, reject) => {
  req.onsuccess = () => resolve(req.result);
  req.onerror = () => reject(req.error);
});

/** Replaces the local catalog with `products` (the active ones). */
export function keepCatalog(products) {
  return transaction(["products"], "readwrite", (s) => {
    s.products.clear();
    for (const product of products) s.products.put(product);
    return products.length;
  });
}

/** The product whose barcode or SKU is `code`, from the local copy. */
export function findLocal(code) {
  return transaction(["products"], "readonly", async (s) => {
    const byBarcode = await request(s.products.index("barcode").get(code));
    return byBarcode || (await request(s.products.index("sku").get(code))) || null;
  });
}

/** Up to `limit` local products whose name or SKU contains `text` (case-folded). */
export function searchLocal(text, limit = 20) {
  const needle = text.toLocaleLowerCase();
  return transaction(["products"], "readonly", async (s) => {
    const every = await request(s.products.getAll());
    return every
      .filter((p) => p.name.toLocaleLowerCase().includes(needle) || p.sku.toLocaleLowerCase().includes(needle))
      .slice(0, limit);
  });
}

/** Keeps a sale rung up offline until it is sent. */
export function enqueue(sale) {
  return transaction(["queue"], "readwrite", (s) => { s.queue.put({ id: sale.id, sale, error: null }); });
}

export function queued() {
  return transaction(["queue"], "readonly", (s) => request(s.queue.getAll()));
}

/**
 * Sends every queued sale in one batch. A sale the server took (`created`), or had already
 * (`already_recorded`, or a live attempt that did arrive after all: the id is taken and the
 * sale is there), leaves the queue; one it refused stays with its error for a manager. Throws
 * `Offline` when the gateway still does not answer.
 */
export async function sendQueued() {
  const waiting = await queued();
  const pending = waiting.filter((entry) => !entry.error);
  if (!pending.length) return { sent: 0, refused: waiting.length };
  const answer = await post("sales/batch", { sales: pending.map((entry) => entry.sale) });
  const done = [];
  const refused = [];
  for (const result of answer.results) {
    if (result.status === "created" || result.status === "already_recorded") {
      done.push(result.id);
    } else if (await recordedAnyway(result.id)) {
      done.push(result.id);
    } else {
      refused.push({ id: result.id, error: result.error });
    }
  }
  await transaction(["queue"], "readwrite", (s) => {
    for (const id of done) s.queue.delete(id);
    for (const { id, error } of refused) {
      const entry = waiting.find((w) => w.id === id);
      if (entry) s.queue.put({ ...entry, error });
    }
  });
  return { sent: done.length, refused: refused.length + waiting.length - pending.length };
}

async function recordedAnyway(id) {
  try {
    await get(`sales/${encodeURIComponent(id)}`);
    return true;
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return false;
    throw error;
  }
}
