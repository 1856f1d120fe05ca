// Keeps the staff pages on the device: network first, the cached copy when the network is down.
// API calls are never cached (the actions wait in the page's own queue instead).

const CACHE = "handoff-ui-v7";
const SHELL = [
  "/ui/",
  "/ui/index.html",
  "/ui/gate.html",
  "/ui/board.html",
  "/ui/dismissal.html",
  "/ui/roll.html",
  "/ui/css/app.css",
  "/ui/js/i18n.js",
  "/ui/js/api.js",
  "/ui/js/format.js",
  "/ui/js/session.js",
  "/ui/js/queue.js",
  "/ui/js/daylist.js",
  "/ui/js/signin.js",
  "/ui/js/gate.js",
  "/ui/js/board.js",
  "/ui/js/dismissal.js",
  "/ui/js/roll.js",
  "/ui/js/live.js",
  "/ui/js/chart.js",
  "/ui/district.html",
  "/ui/css/district.css",
  "/ui/js/district.js",
  "/ui/js/district-words.js",
  "/ui/js/district-figures.js",
  "/ui/js/district-witnessed.js",
  "/ui/js/district-export.js",
  "/ui/js/disclosures.js",
  "/ui/js/district-verify.js",
  "/ui/js/bundle-crypto.js",
  "/ui/js/bundle-zip.js",
  "/ui/js/verify-bundle.js",
  "/ui/js/verify-leaf.js",
  "/ui/js/verify-proofs.js",
  "/ui/js/verify-witness.js",
  "/ui/report.html",
  "/ui/js/report.js",
];

self.addEventListener("install", (event) => {
  // one file that fails to load must not keep the worker from installing: it is cached on its next load instead
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => Promise.allSettled(SHELL.map((url) => cache.add(url))))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((names) => Promise.all(names.filter((name) => name !== CACHE).map((name) => caches.delete(name))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== location.origin || !url.pathname.startsWith("/ui/")) {
    return;
  }
  event.respondWith(
    fetch(event.request)
      .then((response) => {
        if (response.ok) {
          const copy = response.clone();
          caches.open(CACHE).then((cache) => cache.put(event.request, copy));
        }
        return response;
      })
      .catch(() => caches.match(event.request, { ignoreSearch: true })),
  );
});
