// The register's service worker: keeps the app shell so the register opens and works when
// the gateway is gone or hangs. Shell files are answered from the cache at once and
// refreshed behind it; the API is never cached here (offline.js keeps what a till needs).

const CACHE = "tillstream-shell-__SHELL_VERSION__";
const SHELL = [
  "/",
  "/admin",
  "/app/app.css",
  "/app/admin.css",
  "/app/api.js",
  "/app/offline.js",
  "/app/cart.js",
  "/app/till-tools.js",
  "/app/register.js",
  "/app/admin.js",
  "/app/admin-ui.js",
  "/app/admin-dashboard.js",
  "/app/admin-catalog.js",
  "/app/admin-stock.js",
  "/app/admin-sales.js",
  "/app/admin-orders.js",
];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((names) => Promise.all(names.filter((n) => n.startsWith("tillstream-shell-") && n !== CACHE).map((n) => caches.delete(n))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== self.location.origin || !SHELL.includes(url.pathname)) return;
  event.respondWith(
    caches.open(CACHE).then(async (cache) => {
      const cached = await cache.match(url.pathname);
      const fresh = fetch(event.request)
        .then((response) => {
          if (response.ok) cache.put(url.pathname, response.clone());
          return response;
        })
        .catch(() => cached);
      if (cached) {
        event.waitUntil(fresh);
        return cached;
      }
      return fresh;
    }),
  );
});
