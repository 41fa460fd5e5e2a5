// Measures the Worker locally in workerd (Miniflare) on a model: cold start (workerd up, first
// answer after the model is in R2, first answer after a model swap through PUT /model), then,
// for anonymous reads, reads of known users without a session, reads of users with a live
// session and PutEvents: p50 / p99 wall time, CPU time per request and the Durable Object and R2
// calls per request.
//
// usage: node bench.mjs <model.erm> [--swap <other.erm>] [--n 300] [--json <summary.json>]
//        [--var NAME=VALUE ...] (Worker settings, e.g. --var LIVE_INDEX_CACHE_SECONDS=60)
// (EDGEREC_WORKER_BUILD: worker/build; EDGEREC_TOOLS: packages/edgerec/tools/node_modules)
//
// CPU time is the workerd process's (utime + stime from /proc/<pid>/stat) over a batch of n
// sequential requests, divided by n: it includes workerd's HTTP handling and the Durable
// Objects (same process), not the load generator. The call counts come from the isolate
// counters of the admin `GET /health` (a build without them reports null).
import fs from 'node:fs';
import { startWorker, publish } from '../js/local.mjs';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  if (i < 0) return dflt;
  const v = args[i + 1];
  args.splice(i, 2);
  return v;
};
const jsonOut = opt('json');
const extraVars = {};
for (let v = opt('var'); v !== undefined; v = opt('var')) {
  const eq = v.indexOf('=');
  if (eq < 1) throw new Error(`--var ${v}: expected NAME=VALUE`);
  extraVars[v.slice(0, eq)] = v.slice(eq + 1);
}
const swapPath = opt('swap');
const N = Number(opt('n', '300'));
const [modelPath] = args;
if (!modelPath) throw new Error('usage: node bench.mjs <model.erm> [--swap <other.erm>] [--n 300] [--json <file>]');
const bytes = fs.readFileSync(modelPath);

const ADMIN = 'bench-admin';
const READ = 'bench-read';
const WRITE = 'bench-write';

/** The workerd process Miniflare started (a descendant of this process). */
function workerdPid() {
  const children = (pid) => {
    const out = [];
    for (const t of fs.readdirSync(`/proc/${pid}/task`)) {
      const f = `/proc/${pid}/task/${t}/children`;
      if (fs.existsSync(f)) out.push(...fs.readFileSync(f, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number));
    }
    return out;
  };
  const queue = [process.pid];
  while (queue.length) {
    const pid = queue.shift();
    for (const c of children(pid)) {
      if (fs.readFileSync(`/proc/${c}/comm`, 'utf8').trim() === 'workerd') return c;
      queue.push(c);
    }
  }
  return null;
}
const TICK_MS = 1000 / 100; // USER_HZ
function cpuMs(pid) {
  if (!pid) return NaN;
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * TICK_MS; // fields 14, 15: utime, stime
}

const t0 = performance.now();
const mf = await startWorker({
  vars: {
    API_TOKEN: WRITE,
    READ_AUTH: 'bearer',
    READ_TOKEN: READ,
    PUBLIC_READS: 'true',
    ADMIN_TOKEN: ADMIN,
    MODEL_CHECK_SECONDS: '3600',
    ...extraVars,
  },
});
const base = (await mf.ready).href.replace(/\/$/, '');
const tReady = performance.now();
const pid = workerdPid();
await publish(mf, bytes);
const tPublished = performance.now();

const post = (route, body, token = READ) =>
  fetch(`${base}${route}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
const rec = (userId) => ({ recommender: 'recommended-for-you', ...(userId ? { userId } : {}), numResults: 25 });
// Users 0, 2, 4, ... stay without a session; 16 odd users get one.
const knownUser = (i) => `user-${2 * ((i * 97) % 500)}`;
const liveUser = (i) => `user-${2 * (i % 16) + 1}`;
let sent = 0;
const event = (user) => ({
  trackingId: 'bench',
  userId: user,
  sessionId: `s-${user}`,
  eventList: [{ eventType: 'view', itemId: `item-${(sent++ * 4999) % 90000}`, sentAt: 1.7e9 + sent }],
});

let r = await post('/recommendations', rec(knownUser(0)));
if (r.status !== 200) throw new Error(`first request: ${r.status} ${await r.text()}`);
await r.arrayBuffer();
const tFirst = performance.now();

async function health() {
  const res = await fetch(`${base}/health`, { headers: { authorization: `Bearer ${ADMIN}` } });
  return res.json();
}
const counters = (h) => ({ do: h.isolate?.doCalls ?? null, r2: h.isolate?.r2Calls ?? null });
const info = await health();

async function measure(label, fn) {
  for (let i = 0; i < 30; i++) await (await fn(i)).arrayBuffer();
  const before = counters(await health());
  const c0 = cpuMs(pid);
  const ms = [];
  for (let i = 0; i < N; i++) {
    const s = performance.now();
    const res = await fn(i);
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`${label}: ${res.status}`);
    ms.push(performance.now() - s);
  }
  const cpu = (cpuMs(pid) - c0) / N;
  const after = counters(await health());
  ms.sort((a, b) => a - b);
  const q = (p) => Number(ms[Math.min(ms.length - 1, Math.floor(p * ms.length))].toFixed(2));
  // The counters also count the admin /health call between the two readings (no DO, no R2).
  const per = (k) => (before[k] === null || after[k] === null ? null : Number(((after[k] - before[k]) / N).toFixed(3)));
  const row = { p50_ms: q(0.5), p99_ms: q(0.99), cpu_ms: Number(cpu.toFixed(3)), do_calls: per('do'), r2_calls: per('r2') };
  console.log(
    `${label.padEnd(40)} p50 ${row.p50_ms.toFixed(2)} ms  p99 ${row.p99_ms.toFixed(2)} ms  cpu ${row.cpu_ms.toFixed(2)} ms/req` +
      `  DO ${row.do_calls ?? '?'}/req  R2 ${row.r2_calls ?? '?'}/req  (n=${N}, sequential)`,
  );
  return row;
}

console.log(`model: ${modelPath} — ${info.items} items, ${bytes.length} bytes; workerd pid ${pid}`);
console.log(
  `cold start: workerd ready in ${(tReady - t0).toFixed(0)} ms; model put into local R2 in ${(tPublished - tReady).toFixed(0)} ms; ` +
    `first /recommendations (R2 read + decode ${info.modelDecodeMs} ms) answered ${(tFirst - tPublished).toFixed(0)} ms later`,
);
const floor = await measure('GET /health (HTTP floor)', () => fetch(`${base}/health`));
const anonymous = await measure('POST /recommendations anonymous', () => post('/recommendations', rec()));
const knownNoSession = await measure('POST /recommendations known, no session', (i) => post('/recommendations', rec(knownUser(i))));
const knownRepeat = await measure('... the same 16 users again and again', (i) => post('/recommendations', rec(knownUser(i % 16))));
for (let i = 0; i < 16; i++) {
  const w = await post('/events', event(liveUser(i)), WRITE);
  if (w.status !== 200) throw new Error(`PutEvents: ${w.status} ${await w.text()}`);
}
const liveSession = await measure('POST /recommendations live session', (i) => post('/recommendations', rec(liveUser(i))));
const putEvents = await measure('POST /events (1 event, live session)', (i) => post('/events', event(liveUser(i)), WRITE));

let afterSwap = null;
if (swapPath) {
  const other = fs.readFileSync(swapPath);
  const s = performance.now();
  const put = await fetch(`${base}/model`, { method: 'PUT', headers: { authorization: `Bearer ${ADMIN}` }, body: other });
  if (put.status !== 200) throw new Error(`PUT /model: ${put.status} ${await put.text()}`);
  await put.arrayBuffer();
  const tPut = performance.now();
  const res = await post('/recommendations', rec(knownUser(3)));
  await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`after swap: ${res.status}`);
  afterSwap = performance.now() - s;
  console.log(
    `model swap: PUT /model (${other.length} bytes) answered in ${(tPut - s).toFixed(0)} ms; ` +
      `first answer on the new model ${afterSwap.toFixed(0)} ms after the PUT was sent`,
  );
}
console.log(`GET /health floor p50 ${floor.p50_ms} ms, cpu ${floor.cpu_ms} ms/req`);
await mf.dispose();

if (jsonOut) {
  const summary = {
    date: new Date().toISOString().slice(0, 10),
    model: { path: modelPath, items: info.items, bytes: bytes.length },
    reads: { anonymous, known_no_session: knownNoSession, known_no_session_repeat: knownRepeat, live_session: liveSession },
    writes: { put_events: putEvents },
    cold_start: {
      workerd_ready_ms: Math.round(tReady - t0),
      first_answer_ms: Math.round(tFirst - tPublished),
      after_swap_ms: afterSwap === null ? null : Math.round(afterSwap),
    },
  };
  fs.writeFileSync(jsonOut, `${JSON.stringify(summary, null, 2)}\n`);
  console.log(`summary: ${jsonOut}`);
}
