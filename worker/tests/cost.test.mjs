// The cost model of docs/cost.md (worker/bench/cost.mjs): its arithmetic on known inputs, so the
// published table changes only when the measurements or the prices do.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { estimate, parseArgs, report, tiered, tpsHours } from '../bench/cost.mjs';

const read = (cpu, doCalls, r2) => ({ p50_ms: 2, p99_ms: 5, cpu_ms: cpu, do_calls: doCalls, r2_calls: r2 });
const bench = {
  date: '2026-12-07',
  model: { items: 100000, bytes: 1 },
  reads: { anonymous: read(1, 0, 0), known_no_session: read(1, 0, 1), live_session: read(2, 1, 0) },
  writes: { put_events: read(1, 1, 0) },
};
const line = (lines, what) => lines.find(([w]) => w === what)[1];

test('Personalize bills the 1 TPS floor for a campaign nobody calls, and tiers above 20,000 TPS-hours', () => {
  assert.equal(tpsHours(0, 1.6, 1), 730);
  assert.ok(Math.abs(tiered(730, [[20e3, 0.2], [180e3, 0.1], [Infinity, 0.05]]) - 146) < 1e-9);
  assert.ok(Math.abs(tiered(30e3, [[20e3, 0.2], [180e3, 0.1], [Infinity, 0.05]]) - 5000) < 1e-9);
  // Flat traffic well above the floor: every request is paid once (3,600 a TPS-hour).
  assert.ok(Math.abs(tpsHours(36e6, 1, 1) - 10e3) < 1e-6);
});

test('the Workers lines follow the measured calls per request', () => {
  const a = parseArgs(['--recommendations', '20000000', '--mix', '0.5,0.25,0.25', '--analytics', '0', '--server-usd', '0']);
  const { workers, personalize } = estimate(bench, a);
  // 20 M reads + 20 M PutEvents: 30 M requests over the 10 M included at $0.30 a million.
  assert.ok(Math.abs(line(workers, 'requests') - 9) < 1e-9);
  // CPU: 10 M + 5 M + 10 M (reads) + 20 M (writes) = 45 M ms, 15 M over the 30 M included.
  assert.ok(Math.abs(line(workers, 'CPU time') - 0.3) < 1e-9);
  // Durable Object calls: the 5 M live-session reads and the 20 M writes, 1 M included.
  assert.ok(Math.abs(line(workers, 'Durable Object requests') - 24 * 0.15) < 1e-9);
  assert.equal(line(workers, 'Analytics Engine'), 0);
  assert.ok(line(personalize, 'real-time recommendations') > 1000);
  assert.match(report(bench, a), /\| \*\*total\*\* \| \*\*\$\d+\.\d\d\*\* \|/);
});

test('bad options are refused with the option named', () => {
  assert.throws(() => parseArgs(['--recommendations', 'many']), /--recommendations: not a number/);
  assert.throws(() => parseArgs(['--nope', '1']), /unknown or incomplete option --nope/);
  assert.throws(() => estimate(bench, parseArgs(['--mix', '0.5,0.5,0.5'])), /--mix/);
});
