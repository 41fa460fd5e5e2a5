// Where reads are answered: a read goes to a Durable Object only when its key has live state
// (the R2 marker its object writes before its first events); users of the model without live
// state are answered from the model in the stateless Worker, exactly as their object would.
// Durable Object and R2 calls are counted by the Worker itself (the isolate counters of the
// admin GET /health), on the code path the requests take. Also: the admin fields of /health
// and that nobody else sees them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ADMIN, BEARER_READS, auth, call, goldenCases, goldenModel, startWorker, withoutRid } from './support.mjs';

// The model is checked against R2 once an hour, so that R2 calls counted are the reads' own.
const VARS = { ...BEARER_READS, MODEL_CHECK_SECONDS: '3600' };
const known = goldenCases().find((c) => c.request.userId === 'u1');
const u1Events = {
  sessionId: 's-u1',
  userId: 'u1',
  eventList: [
    { eventType: 'view', itemId: 'i21', sentAt: 1 },
    { eventType: 'view', itemId: 'i22', sentAt: 2 },
    { eventType: 'purchase', itemId: 'i23', sentAt: 3 },
  ],
};

async function isolate(mf) {
  const r = await mf.dispatchFetch('http://localhost/health', { headers: { authorization: `Bearer ${ADMIN}` } });
  assert.equal(r.status, 200);
  return (await r.json()).isolate;
}

/** Calls `fn` and returns its result with the Durable Object and R2 calls it made. */
async function counted(mf, fn) {
  const a = await isolate(mf);
  const result = await fn();
  const b = await isolate(mf);
  return { result, doCalls: b.doCalls - a.doCalls, r2Calls: b.r2Calls - a.r2Calls };
}

async function withWorker(fn, options = {}) {
  const mf = await startWorker({ model: goldenModel(), vars: VARS, ...options });
  try {
    return await fn(mf);
  } finally {
    await mf.dispose();
  }
}

test('reads for users without live state make no Durable Object call; a read right after PutEvents sees the event', async () => {
  await withWorker(async (mf) => {
    // Warm: the model is loaded.
    assert.equal((await call(mf, '/recommendations', { recommender: 'best-sellers', numResults: 3 })).status, 200);
    const anon = await counted(mf, () => call(mf, '/recommendations', { recommender: 'best-sellers', numResults: 3 }));
    assert.equal(anon.result.status, 200);
    assert.deepEqual([anon.doCalls, anon.r2Calls], [0, 0], 'anonymous: no Durable Object, no R2');
    // A user of the model without live state: answered from the model, as the golden fixture
    // (the engine without sessions) says; one R2 HEAD for the marker, no Durable Object.
    for (let i = 0; i < 3; i++) {
      const k = await counted(mf, () => call(mf, '/recommendations', known.request));
      assert.equal(k.result.status, 200, JSON.stringify(k.result.body));
      assert.deepEqual(withoutRid(k.result.body), known.response);
      assert.equal(k.result.headers.get('cache-control'), 'private, no-store');
      assert.deepEqual([k.doCalls, k.r2Calls], [0, 1], 'known user without a session: no Durable Object call');
    }
    const rank = await counted(mf, () => call(mf, '/personalize-ranking', { recommender: 'ranking', userId: 'u2', inputList: ['i01', 'i15'] }));
    assert.equal(rank.result.status, 200);
    assert.equal(rank.doCalls, 0);
    const unknown = await counted(mf, () => call(mf, '/recommendations', { ...known.request, userId: 'stranger-1' }));
    assert.equal(unknown.result.status, 200);
    assert.equal(unknown.doCalls, 0);
    // PutEvents, then the very next read: it goes to the object and sees the events.
    const put = await counted(mf, () => call(mf, '/events', u1Events, auth));
    assert.equal(put.result.status, 200, JSON.stringify(put.result.body));
    assert.ok(put.doCalls >= 1);
    const after = await counted(mf, () => call(mf, '/recommendations', known.request));
    assert.equal(after.result.status, 200);
    assert.notDeepEqual(withoutRid(after.result.body), known.response, 'the read after PutEvents sees the events');
    assert.deepEqual([after.doCalls, after.r2Calls], [1, 0], 'a key this isolate saw go live: its object, no R2 call');
    const h = await isolate(mf);
    assert.ok(h.sessions.liveKeysRemembered >= 1);
    assert.ok(h.cacheHits.liveIndexRemembered >= 1);
  });
});

test('LIVE_INDEX_CACHE_SECONDS: repeated reads of a user without a session cost no R2 call; a write through the isolate is seen at once', async () => {
  await withWorker(async (mf) => {
    assert.equal((await call(mf, '/recommendations', { recommender: 'best-sellers', numResults: 3 })).status, 200);
    const first = await counted(mf, () => call(mf, '/recommendations', known.request));
    assert.deepEqual([first.doCalls, first.r2Calls], [0, 1], 'the first read asks R2');
    for (let i = 0; i < 3; i++) {
      const again = await counted(mf, () => call(mf, '/recommendations', known.request));
      assert.deepEqual(withoutRid(again.result.body), known.response);
      assert.deepEqual([again.doCalls, again.r2Calls], [0, 0], 'within the window: neither R2 nor a Durable Object');
    }
    assert.ok((await isolate(mf)).cacheHits.liveIndexRecentlyAbsent >= 3);
    assert.equal((await call(mf, '/events', u1Events, auth)).status, 200);
    const after = await counted(mf, () => call(mf, '/recommendations', known.request));
    assert.notDeepEqual(withoutRid(after.result.body), known.response, 'the write through this isolate is seen');
    assert.equal(after.doCalls, 1);
  }, { vars: { ...VARS, LIVE_INDEX_CACHE_SECONDS: '60' } });
});

test('a read on a fresh isolate right after PutEvents finds the marker and sees the event (no hint needed)', async () => {
  const persist = fs.mkdtempSync(path.join(os.tmpdir(), 'edgerec-worker-reads-'));
  try {
    let withEvents;
    await withWorker(async (mf) => {
      assert.equal((await call(mf, '/events', u1Events, auth)).status, 200);
      withEvents = withoutRid((await call(mf, '/recommendations', known.request)).body);
    }, { persist });
    assert.notDeepEqual(withEvents, known.response);
    // A new workerd: an isolate that remembers nothing, as a read landing elsewhere would.
    await withWorker(async (mf) => {
      const r = await counted(mf, () => call(mf, '/recommendations', known.request));
      assert.equal(r.result.status, 200);
      assert.deepEqual(withoutRid(r.result.body), withEvents, 'no stale answer');
      assert.deepEqual([r.doCalls, r.r2Calls], [1, 1], 'the marker (one R2 HEAD), then the object');
    }, { persist });
  } finally {
    fs.rmSync(persist, { recursive: true, force: true });
  }
});

test('a known user answered from the model gets what its Durable Object answers', async () => {
  await withWorker(async (mf) => {
    const requests = [
      known.request,
      { recommender: 'recommended-for-you', userId: 'u2', numResults: 10 },
      { recommender: 'ranking', userId: 'u2', inputList: ['i01', 'i15', 'i25'] },
    ];
    const route = (r) => (r.inputList ? '/personalize-ranking' : '/recommendations');
    const fromModel = [];
    for (const r of requests) {
      const a = await counted(mf, () => call(mf, route(r), r));
      assert.equal(a.doCalls, 0);
      fromModel.push(withoutRid(a.result.body));
    }
    // A marker without events sends the reads to the (empty) objects.
    const bucket = await mf.getR2Bucket('MODELS');
    for (const user of ['u1', 'u2']) {
      await bucket.put(`sessions/${crypto.createHash('sha256').update(user).digest('hex')}`, new Uint8Array());
    }
    for (const [i, r] of requests.entries()) {
      const b = await counted(mf, () => call(mf, route(r), r));
      assert.equal(b.doCalls, 1);
      assert.deepEqual(withoutRid(b.result.body), fromModel[i]);
    }
  });
});

test('GET /health: the admin token adds the isolate counters; nobody else sees them', async () => {
  await withWorker(async (mf) => {
    assert.equal((await call(mf, '/recommendations', { recommender: 'nope', numResults: 3 })).status, 404);
    assert.equal((await call(mf, '/recommendations', known.request)).status, 200);
    assert.equal((await call(mf, '/events', u1Events, auth)).status, 200);
    const open = await call(mf, '/health');
    assert.equal(open.status, 200);
    assert.equal(open.body.isolate, undefined, 'no counters without the admin token');
    for (const token of ['wrong', 'test-read-token', 'test-write-token']) {
      const r = await mf.dispatchFetch('http://localhost/health', { headers: { authorization: `Bearer ${token}` } });
      assert.equal(r.status, 403, token);
      assert.equal(r.headers.get('x-amzn-errortype'), 'AccessDeniedException');
      assert.equal((await r.json()).isolate, undefined);
    }
    const h = await isolate(mf);
    assert.ok(h.requests >= 4, JSON.stringify(h));
    assert.equal(h.errors.ResourceNotFoundException, 1);
    assert.equal(h.errors.AccessDeniedException, 3);
    for (const k of ['p50', 'p90', 'p99', 'max']) assert.equal(typeof h.latencyMs[k], 'number', k);
    assert.equal(Object.values(h.latencyMs.histogram).reduce((a, b) => a + b, 0), h.requests);
    assert.equal(h.served.model, 1);
    assert.ok(h.served.session >= 1);
    assert.equal(typeof h.cacheHits.notModified, 'number');
    assert.ok(h.doCalls >= 1);
    assert.ok(h.r2Calls >= 1);
    assert.equal(h.sessions.liveKeysRemembered, 1);
    assert.equal(h.sessions.eventsApplied, 1);
    assert.equal(h.model.version, 1);
    assert.equal(typeof h.model.ageSeconds, 'number');
    assert.ok(h.modelLoads >= 1);
    // The internal marks never leave the Worker.
    const r = await mf.dispatchFetch('http://localhost/recommendations', { method: 'POST', headers: { authorization: 'Bearer test-read-token', 'content-type': 'application/json' }, body: JSON.stringify(known.request) });
    assert.equal(r.headers.get('x-edgerec-served'), null);
    assert.equal(r.headers.get('x-edgerec-index'), null);
    await r.arrayBuffer();
  });
});

test('with an Analytics Engine dataset bound as METRICS every route still answers, and without one too', async () => {
  for (const metrics of [true, false]) {
    await withWorker(async (mf) => {
      assert.equal((await call(mf, '/recommendations', known.request)).status, 200);
      assert.equal((await call(mf, '/recommendations', { recommender: 'best-sellers', numResults: 3 })).status, 200);
      assert.equal((await call(mf, '/events', u1Events, auth)).status, 200);
      assert.equal((await call(mf, '/recommendations', { recommender: 'nope' })).status, 404);
      const h = await isolate(mf);
      assert.equal(h.requests, 4, `metrics bound: ${metrics}`);
      assert.deepEqual(h.served, { anonymous: 1, model: 1, session: 1 });
    }, { metrics });
  }
});
