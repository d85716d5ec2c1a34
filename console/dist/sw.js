// The console's service worker: the app shell from the cache when the network fails, and the
// API never cached (its answers hold personal data and tokens). Built into dist/sw.js.
const SHELL = ["/","/favicon.svg","/assets/Admin-BYuh-gyx.js","/assets/AttendanceFields-CopsyfUN.js","/assets/EventForm-BPWTv88C.js","/assets/EventPage-CagguxZj.js","/assets/OutboxPage-C2aE-5eX.js","/assets/Plans-s0htln6V.js","/assets/index-Byqf8PzI.css","/assets/index-DT3192B7.js","/assets/plans-DlE9u9Uh.js"];
const CACHE = 'adal-shell-' + "f7f6af33c5ff8724";

self.addEventListener('install', (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(SHELL))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith('adal-shell-') && k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

function isShell(url) {
  return url.origin === self.location.origin && (url.pathname === '/' || url.pathname === '/index.html' || SHELL.includes(url.pathname));
}

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  // /api/, /health, /docs, /metrics: network only, never stored.
  if (!isShell(url) && request.mode !== 'navigate') return;
  if (request.mode === 'navigate' || url.pathname === '/' || url.pathname === '/index.html') {
    // The page itself: the network first, so a new release shows at once; the cache offline.
    event.respondWith(
      fetch(request)
        .then((response) => {
          if (response.ok) {
            const copy = response.clone();
            void caches.open(CACHE).then((cache) => cache.put('/', copy));
          }
          return response;
        })
        .catch(() => caches.match('/').then((hit) => hit || Response.error())),
    );
    return;
  }
  // Hashed assets never change under one name: the cache first.
  event.respondWith(caches.match(request).then((hit) => hit || fetch(request)));
});
