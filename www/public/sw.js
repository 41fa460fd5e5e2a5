// The shop's service worker: precaches the page, its scripts, the edgerec package (with the wasm
// build this browser runs) and the catalogue, and serves them cache-first so the shop opens with
// the network off. The model is cached by the page itself (js/engine.js), and /api/* always goes
// to the network. The origin server fills in BUILD (a hash of every precached file) and PRECACHE.
const BUILD = '__BUILD__';
const PRECACHE = ['__PRECACHE__'];
const CACHE = `store-${BUILD}`;

// A minimal module using i8x16.popcnt: validates only where wasm simd128 is supported (as edgerec checks).
const SIMD_PROBE = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11]);

function wasmUrl() {
  let simd = false;
  try {
    simd = WebAssembly.validate(SIMD_PROBE);
  } catch {
    simd = false;
  }
  return simd ? '/vendor/edgerec/wasm/edgerec_wasm_simd_bg.wasm' : '/vendor/edgerec/wasm/edgerec_wasm_bg.wasm';
}

self.addEventListener('install', (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll([...PRECACHE, wasmUrl()]))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith('store-') && k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener('fetch', (event) => {
  const req = event.request;
  const url = new URL(req.url);
  if (req.method !== 'GET' || url.origin !== self.location.origin || url.pathname.startsWith('/api/')) return;
  const key = req.mode === 'navigate' ? '/' : url.pathname;
  event.respondWith(
    caches.open(CACHE).then(async (cache) => {
      const hit = await cache.match(key);
      if (hit) return hit;
      const res = await fetch(req);
      if (res.ok && req.mode !== 'navigate') cache.put(key, res.clone());
      return res;
    }),
  );
});
