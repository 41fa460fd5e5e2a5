// What serving recommendations costs a month on Cloudflare Workers (from the Worker benchmark's
// measured CPU time, Durable Object and R2 calls per request) against Amazon Personalize's
// published prices for the same traffic. Prints a Markdown report (docs/cost.md holds one).
//
// usage: node worker/bench/cost.mjs --bench bench.json [--recommendations 10000000]
//        [--mix 0.4,0.3,0.3] [--events-per-recommendation 1] [--events-per-call 1]
//        [--isolates 50] [--model-check-seconds 30] [--retrains 30] [--training-hours 1]
//        [--campaigns 1] [--event-bytes 300] [--peak-to-mean 1.6] [--min-tps 1]
//        [--server-usd 20] [--analytics 1] [--logged-reads 1]
// `bench.json` is what `node worker/bench/bench.mjs <model> --json bench.json` writes.
import fs from 'node:fs';

/** Published prices (USD), with where and when they were read. */
export const PRICES = {
  read: '2026-12-07',
  cloudflare: {
    // https://developers.cloudflare.com/workers/platform/pricing/ (Workers Paid, Standard)
    plan: 5.0,
    requestsIncluded: 10e6, perMillionRequests: 0.30,
    cpuMsIncluded: 30e6, perMillionCpuMs: 0.02,
    // https://developers.cloudflare.com/durable-objects/platform/pricing/
    doRequestsIncluded: 1e6, perMillionDoRequests: 0.15,
    doGbSecondsIncluded: 400e3, perMillionDoGbSeconds: 12.5,
    // SQLite-backed objects' storage (rows written; reads are far inside the 25 billion included)
    doRowsWrittenIncluded: 50e6, perMillionDoRowsWritten: 1.0,
    // https://developers.cloudflare.com/r2/pricing/
    r2ClassAIncluded: 1e6, perMillionR2ClassA: 4.5,
    r2ClassBIncluded: 10e6, perMillionR2ClassB: 0.36,
    // https://developers.cloudflare.com/queues/platform/pricing/ (a delivered message: write, read, delete)
    queueOpsIncluded: 1e6, perMillionQueueOps: 0.40,
    // https://developers.cloudflare.com/analytics/analytics-engine/pricing/
    analyticsIncluded: 10e6, perMillionAnalytics: 0.25,
  },
  personalize: {
    // https://aws.amazon.com/personalize/pricing/ (us-east-1): real-time campaigns bill
    // max(minProvisionedTPS, actual TPS) per hour; 1 TPS-hour = 3,600 requests.
    tpsHourTiers: [[20e3, 0.20], [180e3, 0.10], [Infinity, 0.05]],
    perTrainingHour: 0.24,
    perGbIngested: 0.05,
  },
};

const DEFAULTS = {
  recommendations: 10e6, mix: '0.4,0.3,0.3', 'events-per-recommendation': 1, 'events-per-call': 1,
  isolates: 50, 'model-check-seconds': 30, retrains: 30, 'training-hours': 1, campaigns: 1,
  'event-bytes': 300, 'peak-to-mean': 1.6, 'min-tps': 1, 'server-usd': 20, analytics: 1,
  'logged-reads': 1,
};

export function parseArgs(argv) {
  const out = { ...DEFAULTS };
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i]?.replace(/^--/, '');
    const value = argv[i + 1];
    if (!key || value === undefined || !(key in DEFAULTS || key === 'bench')) {
      throw new Error(`unknown or incomplete option ${argv[i]} (see the usage at the top of cost.mjs)`);
    }
    out[key] = key === 'bench' || key === 'mix' ? value : Number(value);
    if (key !== 'bench' && key !== 'mix' && !Number.isFinite(out[key])) throw new Error(`--${key}: not a number: ${value}`);
  }
  return out;
}

const over = (used, included, perMillion) => Math.max(0, used - included) / 1e6 * perMillion;
const HOURS = 730; // hours in an average month
const SECONDS = HOURS * 3600;

/** Billed TPS-hours of one campaign: each hour, max(min TPS, that hour's mean TPS), over a
 * day-shaped (sinusoidal) traffic curve whose peak is `peakToMean` × the mean. */
export function tpsHours(requests, peakToMean, minTps) {
  const mean = requests / SECONDS;
  let total = 0;
  for (let h = 0; h < HOURS; h++) {
    const tps = mean * (1 + (peakToMean - 1) * Math.sin((2 * Math.PI * (h % 24)) / 24));
    total += Math.max(minTps, tps);
  }
  return total;
}

export function tiered(units, tiers) {
  let left = units;
  let usd = 0;
  for (const [size, price] of tiers) {
    const n = Math.min(left, size);
    usd += n * price;
    left -= n;
    if (left <= 0) break;
  }
  return usd;
}

/** The monthly cost lines of both; `bench` is the benchmark's JSON. */
export function estimate(bench, a) {
  const cf = PRICES.cloudflare;
  const [anon, known, live] = a.mix.split(',').map(Number);
  if (![anon, known, live].every(Number.isFinite) || Math.abs(anon + known + live - 1) > 1e-6) {
    throw new Error(`--mix: three shares (anonymous, known user without session, live session) adding up to 1, not ${a.mix}`);
  }
  const R = a.recommendations;
  const reads = { anonymous: R * anon, known_no_session: R * known, live_session: R * live };
  const events = R * a['events-per-recommendation'];
  const puts = events / a['events-per-call'];
  const w = bench.writes.put_events;
  const sum = (f) => Object.entries(reads).reduce((s, [k, n]) => s + n * f(bench.reads[k]), 0);

  const requests = R + puts;
  const cpuMs = sum((r) => r.cpu_ms) + puts * w.cpu_ms;
  const doRequests = sum((r) => r.do_calls) + puts * w.do_calls;
  // A Durable Object is billed for wall time while it runs: the read's or write's wall time, at 128 MB.
  const doGbSeconds = (sum((r) => r.do_calls * r.p50_ms) + puts * w.do_calls * w.p50_ms) / 1000 * 0.125;
  const doRowsWritten = puts * 2; // the session export and the outbox batch (or marker)
  const r2Reads = sum((r) => r.r2_calls) + puts * w.r2_calls + a.isolates * (SECONDS / a['model-check-seconds']);
  const r2Writes = a.retrains * 2; // the private and the public model
  // Event batches and the recommendation log (attribution): one queued message each.
  const queueOps = (puts + R * a['logged-reads']) * 3;
  const analytics = a.analytics * requests;
  const workers = [
    ['Workers Paid plan', cf.plan, ''],
    ['requests', over(requests, cf.requestsIncluded, cf.perMillionRequests), `${fmt(requests)} (${fmt(R)} reads + ${fmt(puts)} PutEvents)`],
    ['CPU time', over(cpuMs, cf.cpuMsIncluded, cf.perMillionCpuMs), `${fmt(cpuMs)} ms`],
    ['Durable Object requests', over(doRequests, cf.doRequestsIncluded, cf.perMillionDoRequests), fmt(doRequests)],
    ['Durable Object duration', over(doGbSeconds, cf.doGbSecondsIncluded, cf.perMillionDoGbSeconds), `${fmt(doGbSeconds)} GB-s`],
    ['Durable Object storage writes', over(doRowsWritten, cf.doRowsWrittenIncluded, cf.perMillionDoRowsWritten), `${fmt(doRowsWritten)} rows`],
    ['R2 reads (class B)', over(r2Reads, cf.r2ClassBIncluded, cf.perMillionR2ClassB), `${fmt(r2Reads)} (session index + model checks by ${a.isolates} isolates)`],
    ['R2 writes (class A)', over(r2Writes, cf.r2ClassAIncluded, cf.perMillionR2ClassA), `${fmt(r2Writes)} (models published)`],
    ['Queues (events and recommendation log to the sync server)', over(queueOps, cf.queueOpsIncluded, cf.perMillionQueueOps), `${fmt(queueOps)} operations`],
    ['Analytics Engine', over(analytics, cf.analyticsIncluded, cf.perMillionAnalytics), `${fmt(analytics)} data points`],
    ['sync server and trainer (edgerec serve)', a['server-usd'], 'a small VM: an assumption, not a published price'],
  ];

  const p = PRICES.personalize;
  // The recommendations are split evenly over the campaigns; each bills its own floor.
  const hours = tpsHours(R / a.campaigns, a['peak-to-mean'], a['min-tps']) * a.campaigns;
  const gb = (events * a['event-bytes']) / 1e9;
  const personalize = [
    ['real-time recommendations', tiered(hours, p.tpsHourTiers), `${fmt(hours)} TPS-hours (${a.campaigns} campaign${a.campaigns === 1 ? '' : 's'}, min ${a['min-tps']} TPS)`],
    ['training', a.retrains * a['training-hours'] * p.perTrainingHour, `${a.retrains} × ${a['training-hours']} training hours`],
    ['data ingestion', gb * p.perGbIngested, `${gb.toFixed(2)} GB of events`],
  ];
  return { workers, personalize };
}

function fmt(n) {
  return n >= 1e6 ? `${(n / 1e6).toFixed(2)} M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)} k` : n.toFixed(n < 10 ? 2 : 0);
}

const usd = (x) => `$${x.toFixed(2)}`;

export function report(bench, a) {
  const { workers, personalize } = estimate(bench, a);
  const total = (lines) => lines.reduce((s, [, x]) => s + x, 0);
  const rows = (lines) => lines.map(([what, x, note]) => `| ${what} | ${usd(x)} | ${note} |`).join('\n');
  const r = bench.reads;
  return `Measured (${bench.date}, ${bench.model.items} items): CPU per read ${r.anonymous.cpu_ms.toFixed(2)} / ${r.known_no_session.cpu_ms.toFixed(2)} / ${r.live_session.cpu_ms.toFixed(2)} ms (anonymous / known user without session / live session), Durable Object calls per read ${r.anonymous.do_calls} / ${r.known_no_session.do_calls} / ${r.live_session.do_calls}, R2 calls per read ${r.anonymous.r2_calls} / ${r.known_no_session.r2_calls} / ${r.live_session.r2_calls}; PutEvents ${bench.writes.put_events.cpu_ms.toFixed(2)} ms CPU. Prices read ${PRICES.read}.

Traffic: ${fmt(a.recommendations)} recommendations a month (mix ${a.mix}), ${a['events-per-recommendation']} event per recommendation in calls of ${a['events-per-call']}, ${a.retrains} retrains.

| Cloudflare Workers | USD / month | usage |
|---|---:|---|
${rows(workers)}
| **total** | **${usd(total(workers))}** | |

| Amazon Personalize | USD / month | usage |
|---|---:|---|
${rows(personalize)}
| **total** | **${usd(total(personalize))}** | |
`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    const a = parseArgs(process.argv.slice(2));
    if (!a.bench) throw new Error('--bench <file.json> is required (node worker/bench/bench.mjs <model> --json <file.json>)');
    process.stdout.write(report(JSON.parse(fs.readFileSync(a.bench, 'utf8')), a));
  } catch (e) {
    console.error(`cost: ${e.message}`);
    process.exit(2);
  }
}
