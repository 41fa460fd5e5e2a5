// A/B experiments in the package: every key gets the variant of the golden assignments that the
// core wrote (tests/fixtures/experiments/assignments.json, checked by the core and the Worker
// too), the variant's recommender answers, and what the package answered goes to the sync
// server's /recommendations-log, which attributes a later click to that recommender.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { Recommender } from 'edgerec';
import { golden, goldenDir, ids } from './helpers.mjs';

const { bytes } = golden();
const fixture = JSON.parse(fs.readFileSync(path.join(goldenDir, '../experiments/assignments.json'), 'utf8'));
const slot = (extra) => ({ recommender: 'recommended-for-you', numResults: 5, ...extra });

test('every key gets the variant of the golden assignments, by userId and by sessionId', () => {
  const rec = Recommender.fromBytesSync(bytes, { experiments: fixture.experiments });
  const plain = Recommender.fromBytesSync(bytes);
  for (const a of fixture.assignments) {
    for (const key of [{ userId: a.key }, { sessionId: a.key }]) {
      const res = rec.getRecommendations(slot(key));
      assert.equal(res.experiment, 'home-2026', a.key);
      assert.equal(res.variant, a.variant, a.key);
      assert.equal(res.recommender, a.recommender, a.key);
      const direct = plain.getRecommendations({ ...slot(key), recommender: a.recommender });
      assert.deepEqual(ids(res), ids(direct), `${a.key}: answered by ${a.recommender}`);
    }
  }
  // The disabled experiment (best-sellers), another recommender, or no key: not assigned.
  for (const req of [{ recommender: 'best-sellers', userId: 'user-1' }, { recommender: 'also-viewed', itemId: 'i01', userId: 'user-1' }, slot({})]) {
    const res = rec.getRecommendations(req);
    assert.equal(res.variant, undefined);
    assert.equal(res.experiment, undefined);
  }
  // Cleared: the slot answers as asked.
  assert.equal(rec.setExperiments(null), 0);
  assert.equal(rec.getRecommendations(slot({ userId: 'user-0' })).variant, undefined);
  rec.free();
  plain.free();
});

test('a bad declaration is refused with the field named, and the old one stays', () => {
  const rec = Recommender.fromBytesSync(bytes, { experiments: JSON.stringify(fixture.experiments) });
  const bad = [
    ['{', /experiments: not valid JSON/],
    [[{ name: 'e', recommender: 'r', variants: [{ name: 'a' }] }], /experiments\[0\]\.variants: holds 1 variants/],
    [{ name: 'e', recommender: 'r', variants: [{ name: 'a', share: 0 }, { name: 'b', share: 1 }] }, /experiments\[0\]\.variants\[0\]\.share/],
    [{ name: 'e', recommender: 'r', variants: [{ name: 'a', weight: 1 }, { name: 'b' }] }, /experiments\[0\]\.variants\[0\]\.weight/],
    [42, /experiments: must be a JSON string/],
  ];
  for (const [decl, message] of bad) {
    assert.throws(() => rec.setExperiments(decl), (e) => e.code === 'InvalidInputException' && message.test(e.message), String(decl));
  }
  assert.throws(() => rec.getRecommendations(slot({ sessionId: 7 })), { code: 'InvalidInputException', message: /sessionId/ });
  assert.equal(rec.getRecommendations(slot({ userId: fixture.assignments[0].key })).variant, fixture.assignments[0].variant);
  assert.throws(() => Recommender.fromBytesSync(bytes, { experiments: '[1]' }), { code: 'InvalidInputException' });
  rec.free();
});

test("bad declarations are refused with the core's words (the fixture's messages)", () => {
  const rec = Recommender.fromBytesSync(bytes);
  assert.ok(fixture.errors.length >= 10);
  for (const { declaration, message } of fixture.errors) {
    assert.throws(() => rec.setExperiments(declaration), (e) => {
      assert.equal(e.code, 'InvalidInputException');
      assert.equal(e.message, message);
      return true;
    });
  }
  rec.free();
});

test('takeRecommendationLog returns what was answered, each once, bounded', () => {
  const rec = Recommender.fromBytesSync(bytes, { experiments: fixture.experiments });
  const a = fixture.assignments.find((x) => x.variant !== 'control');
  const res = rec.getRecommendations(slot({ userId: a.key }));
  const anon = rec.getRecommendations({ recommenderArn: 'arn:aws:personalize:eu-west-1:1:recommender/best-sellers', sessionId: 's-1', numResults: 3 });
  const ranked = rec.getPersonalizedRanking({ recommender: 'ranking', userId: 'user-1', inputList: ['i01', 'i02'] });
  assert.equal(rec.info().recommendationLogPending, 3);
  const log = rec.takeRecommendationLog();
  const now = Math.floor(Date.now() / 1000);
  assert.ok(log.every((e) => Math.abs(e.createdAt - now) < 60));
  assert.deepEqual(log.map(({ createdAt, ...e }) => e), [
    { recommendationId: res.recommendationId, recommender: a.recommender, experiment: 'home-2026', variant: a.variant, userId: a.key, itemList: ids(res) },
    { recommendationId: anon.recommendationId, recommender: 'best-sellers', sessionId: 's-1', itemList: ids(anon) },
    { recommendationId: ranked.recommendationId, recommender: 'ranking', userId: 'user-1', itemList: ids(ranked) },
  ]);
  assert.deepEqual(rec.takeRecommendationLog(), []);
  for (let i = 0; i < 1005; i++) rec.getRecommendations({ recommender: 'best-sellers', numResults: 1 });
  assert.equal(rec.takeRecommendationLog(2).length, 2);
  assert.equal(rec.info().recommendationLogDropped, 5);
  assert.equal(rec.takeRecommendationLog().length, 998);
  assert.throws(() => rec.takeRecommendationLog(-1), { code: 'InvalidInputException' });
  rec.free();
});

const WRITE = 'pkg-write-token';
const ADMIN = 'pkg-admin-token';

async function startServe(dataDir) {
  const child = spawn(process.env.EDGEREC_BIN, ['serve', '--data-dir', dataDir, '--listen', '127.0.0.1:0', '--write-token', WRITE, '--admin-token', ADMIN, '--no-train-on-start'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  const url = await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/listening on (\S+)/);
      if (m) resolve(`http://${m[1]}`);
    });
    child.on('exit', (code) => reject(new Error(`edgerec serve exited (${code}): ${err}`)));
  });
  return { url, stop: () => new Promise((r) => { child.once('exit', r); child.kill('SIGTERM'); }) };
}

test('attribution: a click on a package-served list counts for the recommender that served it', { skip: process.env.EDGEREC_BIN ? false : 'EDGEREC_BIN is not set' }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edgerec-pkg-exp-'));
  const serve = await startServe(dir);
  const post = (route, body) => fetch(`${serve.url}${route}`, { method: 'POST', headers: { authorization: `Bearer ${WRITE}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  try {
    const rec = Recommender.fromBytesSync(bytes, { experiments: fixture.experiments });
    const a = fixture.assignments.find((x) => x.recommender === 'best-sellers');
    const res = rec.getRecommendations(slot({ sessionId: a.key }));
    assert.equal(res.recommender, 'best-sellers');
    rec.putEvents({ sessionId: a.key, eventList: [{ eventType: 'click', itemId: res.itemList[0].itemId, sentAt: 1_700_000_100, recommendationId: res.recommendationId }] });
    const logged = await post('/recommendations-log', { recommendations: rec.takeRecommendationLog() });
    assert.equal(logged.status, 200, await logged.text());
    const clean = (o) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== null && v !== undefined && !(Array.isArray(v) && v.length === 0)));
    for (const b of rec.takeOutbox()) {
      const r = await post('/events', { ...clean(b), eventList: b.eventList.map(clean) });
      assert.equal(r.status, 200, await r.text());
    }
    const metrics = await (await fetch(`${serve.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN}` } })).text();
    const value = (name) => Number((metrics.split('\n').find((l) => l.startsWith(`${name} `)) ?? ' 0').split(' ').pop());
    assert.equal(value('edgerec_clicks_total{recommender="best-sellers"}'), 1, metrics);
    assert.equal(value('edgerec_clicks_total{recommender="SOURCE_NAME_UNDEFINED"}'), 0);
    assert.equal(value('edgerec_impressions_total{recommender="best-sellers"}'), res.itemList.length);
    rec.free();
  } finally {
    await serve.stop();
  }
});
