// Node benchmark of the npm package on the synthetic 100k-item × 64-dim int8 model (written by
// `cargo run --release -p edgerec-wasm --example bench_model`). Figures, not a timed test:
// median getRecommendations top-25 for a known user, median putEvents (20 events) + top-25 for a
// new session, median fromBytes, and resident memory after load against the file size.
// usage: node --expose-gc bench.mjs MODEL.erm   (runs the baseline and the simd128 build)
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';

const file = process.argv[2];
if (!file) {
  console.error('usage: node --expose-gc bench.mjs MODEL.erm');
  process.exit(2);
}

if (!process.env.EDGEREC_WASM_BUILD) {
  for (const build of ['baseline', 'simd']) {
    const r = spawnSync(process.execPath, ['--expose-gc', new URL(import.meta.url).pathname, file], {
      env: { ...process.env, EDGEREC_WASM_BUILD: build },
      stdio: 'inherit',
    });
    if (r.status !== 0) process.exit(r.status ?? 1);
  }
  process.exit(0);
}

const { Recommender, runtimeInfo } = await import('edgerec');
const mib = (n) => `${(n / 1048576).toFixed(1)} MiB`;
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};
const time = (f) => {
  const t = process.hrtime.bigint();
  f();
  return Number(process.hrtime.bigint() - t) / 1e6;
};

const bytes = new Uint8Array(fs.readFileSync(file));
globalThis.gc?.();
const rssBefore = process.memoryUsage().rss;
// The module is instantiated on import (Node); its linear memory before any model is loaded.
const wasmBefore = runtimeInfo().memoryBytes;
let rec = Recommender.fromBytesSync(bytes, { retainSource: false });
globalThis.gc?.();
const rssAfter = process.memoryUsage().rss;
const info = rec.info();

const loads = [];
for (let i = 0; i < 7; i++) {
  rec.free();
  loads.push(time(() => (rec = Recommender.fromBytesSync(bytes, { retainSource: false }))));
}

const known = { recommender: 'recommended-for-you', userId: 'user-17', numResults: 25 };
for (let i = 0; i < 30; i++) rec.getRecommendations(known);
const top = [];
for (let i = 0; i < 300; i++) top.push(time(() => rec.getRecommendations(known)));

const events = Array.from({ length: 20 }, (_, k) => ({ eventType: 'view', itemId: `item-${(k * 4999) % 100000}`, sentAt: k }));
const session = [];
for (let i = 0; i < 230; i++) {
  const sessionId = `s${i}`;
  const t = time(() => {
    rec.putEvents({ sessionId, eventList: events.slice(0, 10) });
    rec.putEvents({ sessionId, eventList: events.slice(10) });
    rec.getRecommendations({ recommender: 'recommended-for-you', userId: sessionId, numResults: 25 });
  });
  if (i >= 30) session.push(t);
  rec.takeOutbox(100);
}

const build = runtimeInfo().simd ? 'simd128' : 'baseline';
console.log(`--- ${build} build, ${file} (${mib(bytes.length)}, ${info.items} items)`);
console.log(`fromBytes                         median ${median(loads).toFixed(2)} ms  (budget 30 ms)`);
console.log(`getRecommendations top-25, known  median ${median(top).toFixed(3)} ms  (budget 1 ms)`);
console.log(`putEvents 20 + top-25, new session median ${median(session).toFixed(3)} ms  (budget 1.5 ms)`);
// Resident memory of the model: the growth of wasm linear memory (which never shrinks, so it
// also holds every transient copy made while decoding) plus the JS-side copies kept after load
// (none with retainSource: false; the caller's own `bytes` are not counted). The RSS delta is
// printed too; in this cold process it also counts V8 compiling the module's functions on
// first use (about 16 MiB here): after a warm-up load it matches the wasm memory growth.
const grown = info.memoryBytes - wasmBefore;
console.log(
  `resident memory after load: wasm memory +${mib(grown)} (${(grown / bytes.length).toFixed(2)}× file; budget 1.3×); ` +
    `whole wasm memory ${mib(info.memoryBytes)} (${(info.memoryBytes / bytes.length).toFixed(2)}× file, ${mib(wasmBefore)} before load); ` +
    `JS copies 0 B; RSS +${mib(rssAfter - rssBefore)}`,
);
