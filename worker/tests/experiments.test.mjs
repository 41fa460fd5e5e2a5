// A/B experiments at the edge (EXPERIMENTS): the Worker answers each key with the variant of the
// golden assignments the core wrote (tests/fixtures/experiments/assignments.json, checked by the
// core and the npm package too), and logs what it recommended to the sync server, so that a
// click on a Worker-served list is attributed to the recommender that served it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { auth, BEARER_READS, call, eventually, goldenModel, ids, startSyncServer, startWorker, SYNC_ADMIN } from './support.mjs';

const fixture = JSON.parse(
  fs.readFileSync(path.join(path.dirname(fileURLToPath(import.meta.url)), '../../tests/fixtures/experiments/assignments.json'), 'utf8'),
);
const EXPERIMENTS = JSON.stringify(fixture.experiments);
const SYNC_TOKEN = 'sync-write-token';
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'edgerec-worker-exp-'));

test('every key gets the variant of the golden assignments; the variant answers the read', async () => {
  const mf = await startWorker({ model: goldenModel(), vars: { ...BEARER_READS, EXPERIMENTS } });
  try {
    for (const a of fixture.assignments) {
      const r = await call(mf, '/recommendations', { recommender: 'recommended-for-you', userId: a.key, numResults: 5 });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal(r.headers.get('x-edgerec-experiment'), 'home-2026', a.key);
      assert.equal(r.headers.get('x-edgerec-variant'), a.variant, a.key);
      if (a.recommender !== 'recommended-for-you') {
        const direct = await call(mf, '/recommendations', { recommender: a.recommender, userId: a.key, numResults: 5 });
        assert.deepEqual(ids(r.body), ids(direct.body), `${a.key}: answered by ${a.recommender}`);
      }
    }
    // Anonymous reads are assigned by the edgerec field sessionId, as a query parameter too.
    const s = fixture.assignments.find((a) => a.key.startsWith('s-'));
    const q = await call(mf, `/recommendations?recommender=recommended-for-you&sessionId=${s.key}&numResults=3`);
    assert.equal(q.status, 200, JSON.stringify(q.body));
    assert.equal(q.headers.get('x-edgerec-variant'), s.variant);
    // No key, another recommender, or a disabled experiment (best-sellers): no variant.
    const none = [
      await call(mf, '/recommendations', { recommender: 'recommended-for-you', numResults: 3 }),
      await call(mf, '/recommendations', { recommender: 'best-sellers', userId: 'user-1', numResults: 3 }),
    ];
    for (const r of none) {
      assert.equal(r.status, 200);
      assert.equal(r.headers.get('x-edgerec-variant'), null);
    }
  } finally {
    await mf.dispose();
  }
});

test('a declaration that does not parse fails closed, naming the setting and the field', async () => {
  // The fixture's bad declarations carry the core's messages (the npm package checks them too).
  const bad = fixture.errors.find((e) => e.declaration.includes('"share": 0'));
  const mf = await startWorker({ model: goldenModel(), vars: { ...BEARER_READS, EXPERIMENTS: bad.declaration } });
  try {
    const r = await call(mf, '/recommendations', { recommender: 'best-sellers', numResults: 3 });
    assert.equal(r.status, 500);
    assert.match(r.body.message, /EXPERIMENTS: experiments\[0\]\.variants\[0\]\.share/);
    assert.equal(r.body.message, `the Worker is misconfigured: EXPERIMENTS: ${bad.message}`);
  } finally {
    await mf.dispose();
  }
});

const metric = async (url, name) => {
  const text = await (await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${SYNC_ADMIN}` } })).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? 0 : Number(line.split(' ').pop());
};

for (const queue of [false, true]) {
  test(`attribution (${queue ? 'queue' : 'no queue'}): a click on a Worker-served list counts for the recommender that served it`, async () => {
    const dir = tmp();
    const sync = await startSyncServer(dir, SYNC_TOKEN);
    let mf;
    try {
      mf = await startWorker({ model: goldenModel(), vars: { ...BEARER_READS, EXPERIMENTS, SYNC_URL: sync.url, SYNC_TOKEN }, queue });
      // A key the experiment sends to best-sellers, and one it leaves on the slot.
      const treated = fixture.assignments.find((a) => a.recommender === 'best-sellers');
      const control = fixture.assignments.find((a) => a.variant === 'control');
      const clicks = [];
      for (const a of [treated, control]) {
        const r = await call(mf, '/recommendations', { recommender: 'recommended-for-you', userId: a.key, numResults: 5 });
        assert.equal(r.status, 200);
        assert.ok(r.body.itemList.length > 0);
        clicks.push({ a, rid: r.body.recommendationId, item: r.body.itemList[0].itemId });
      }
      for (const { a, rid, item } of clicks) {
        const ev = { sessionId: `sess-${a.key}`, userId: a.key, eventList: [{ eventType: 'click', itemId: item, sentAt: 1_700_000_100, recommendationId: rid }] };
        assert.equal((await call(mf, '/events', ev, auth)).status, 200);
      }
      const served = (name) => metric(sync.url, `edgerec_clicks_total{recommender="${name}"}`);
      assert.equal(await eventually(async () => (await served('best-sellers')) === 1, 30000), true, 'the click counts for best-sellers');
      assert.equal(await eventually(async () => (await served('recommended-for-you')) === 1, 30000), true, 'the click counts for recommended-for-you');
      assert.equal(await served('SOURCE_NAME_UNDEFINED'), 0);
      assert.equal(await metric(sync.url, 'edgerec_impressions_total{recommender="best-sellers"}'), 5);
      // The report compares the variants.
      const out = spawnSync(process.env.EDGEREC_BIN, ['report', '--data-dir', dir, '--json', '-'], { encoding: 'utf8' });
      assert.equal(out.status, 0, out.stderr);
      const exp = JSON.parse(out.stdout).experiments.find((e) => e.experiment === 'home-2026');
      assert.ok(exp, out.stdout);
      assert.deepEqual(exp.variants.map((v) => v.variant).sort(), [control.variant, treated.variant].sort());
    } finally {
      await mf?.dispose();
      await sync.stop();
    }
  });
}
