// The console's service worker: the app shell from the cache when the network fails, and the
// API never cached (its answers hold personal data and tokens). Built into dist/sw.js.
const SHELL = ["/","/favicon.svg","/assets/Admin-DfxeTSFF.js","/assets/AttendanceFields-KDKT8Pk3.js","/assets/Dashboard-BZApp69d.js","/assets/EventForm-g03drini.js","/assets/EventPage-TkvwY_oE.js","/assets/OutboxPage-Ct3YVCs8.js","/assets/Plans-D4mmsx0i.js","/assets/VerifyQueue-AfQm0lCq.js","/assets/evidence-B_AIeq91.js","/assets/index-BJhYlEHH.js","/assets/index-CapHn2h4.css","/assets/plans-DeENUEBw.js"];
const CACHE = 'adal-shell-' + "6ad53643c8172cca";

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
        .catch(() => caches.match('/', { ignoreVary: true }).then((hit) => hit || Response.error())),
    );
    return;
  }
  // Hashed assets never change under one name: the cache first.
  // ignoreVary: a module script's request carries Origin, the one that filled the cache did not.
  event.respondWith(caches.match(request.url, { ignoreVary: true }).then((hit) => hit || fetch(request)));
});
