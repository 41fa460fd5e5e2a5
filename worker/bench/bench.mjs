// Measures the Worker locally in workerd (Miniflare) on a model: cold start (process start to
// first answer, model read from R2 and decoded), warm latency of /recommendations next to
// /health (the difference is the engine's work plus JSON), and requests/s from a bounded
// loopback load generator. usage: node bench.mjs <model.erm> [requests] [concurrency]
import fs from 'node:fs';
import { startWorker } from '../js/local.mjs';

const [model, total = '2000', conc = '8'] = process.argv.slice(2);
const bytes = fs.readFileSync(model);
const N = Number(total);
const C = Number(conc);

const t0 = performance.now();
const mf = await startWorker({ model: bytes, vars: { API_TOKEN: 'bench', MODEL_CHECK_SECONDS: '3600' } });
const base = (await mf.ready).href.replace(/\/$/, '');
const tReady = performance.now();
const post = (route, body) => fetch(`${base}${route}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
const anon = { recommender: 'recommended-for-you', userId: undefined, numResults: 25 };
const known = (i) => ({ recommender: 'recommended-for-you', userId: `user-${(i * 97) % 1000}`, numResults: 25 });
let r = await post('/recommendations', known(0));
if (r.status !== 200) throw new Error(`first request: ${r.status} ${await r.text()}`);
await r.arrayBuffer();
const tFirst = performance.now();
const health = await (await fetch(`${base}/health`)).json();

async function latency(label, fn, n = 300) {
  for (let i = 0; i < 30; i++) await (await fn(i)).arrayBuffer();
  const ms = [];
  for (let i = 0; i < n; i++) {
    const s = performance.now();
    const res = await fn(i);
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`${label}: ${res.status}`);
    ms.push(performance.now() - s);
  }
  ms.sort((a, b) => a - b);
  const q = (p) => ms[Math.min(ms.length - 1, Math.floor(p * ms.length))].toFixed(2);
  console.log(`${label.padEnd(44)} p50 ${q(0.5)} ms  p90 ${q(0.9)} ms  p99 ${q(0.99)} ms  (n=${n}, sequential)`);
  return Number(q(0.5));
}

async function throughput(label, fn) {
  let next = 0;
  let errors = 0;
  const s = performance.now();
  await Promise.all(Array.from({ length: C }, async () => {
    while (next < N) {
      const i = next++;
      const res = await fn(i);
      await res.arrayBuffer();
      if (res.status !== 200) errors++;
    }
  }));
  const secs = (performance.now() - s) / 1000;
  console.log(`${label.padEnd(44)} ${(N / secs).toFixed(0)} req/s  (${N} requests, ${C} concurrent, ${errors} errors)`);
}

console.log(`model: ${model} — ${health.items} items, ${bytes.length} bytes`);
console.log(`cold start: workerd ready in ${(tReady - t0).toFixed(0)} ms; first /recommendations (R2 read + decode ${health.modelDecodeMs} ms) answered ${(tFirst - tReady).toFixed(0)} ms later`);
const h = await latency('GET /health', () => fetch(`${base}/health`));
const a = await latency('POST /recommendations (anonymous, stateless)', () => post('/recommendations', anon));
const k1 = await latency('POST /recommendations (one userId, warm DO)', () => post('/recommendations', known(1)));
const k = await latency('POST /recommendations (userId i, DO each)', (i) => post('/recommendations', known(i)));
console.log(`per request above GET /health (p50): anonymous ${(a - h).toFixed(2)} ms, known user in its warm DO ${(k1 - h).toFixed(2)} ms, a DO per user ${(k - h).toFixed(2)} ms`);
await throughput('throughput, anonymous', () => post('/recommendations', anon));
await throughput('throughput, 64 known users (warm DOs)', (i) => post('/recommendations', known(i % 64)));
await throughput('throughput, a new user each (new DOs)', (i) => post('/recommendations', known(1000 + i)));
await mf.dispose();
