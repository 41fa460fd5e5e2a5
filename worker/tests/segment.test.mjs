// Segment-style ingest in workerd (Miniflare): track calls sent through /v1/batch change a
// session's recommendations exactly as the same PutEvents would, with the write key as HTTP
// Basic; bad calls are rejected by index while the good ones are applied; auth as PutEvents.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { BEARER_READS as VARS, READ, TOKEN, auth, call, goldenCases, goldenModel, startWorker, withoutRid } from './support.mjs';

let mf;
before(async () => {
  mf = await startWorker({ model: goldenModel(), vars: VARS });
});
after(() => mf?.dispose());

const basic = (key) => ({ authorization: `Basic ${Buffer.from(`${key}:`).toString('base64')}` });
const iso = (seconds) => new Date(seconds * 1000).toISOString();

/** The golden case with events, as Segment track calls of the same session. */
function asTrackCalls(events) {
  return events.eventList.map((e, k) => ({
    type: 'track',
    anonymousId: events.sessionId,
    event: e.eventType,
    properties: { product_id: e.itemId },
    timestamp: iso(e.sentAt),
    messageId: `m-${events.sessionId}-${k}`,
  }));
}

test('a batch of track calls changes the session as the same PutEvents does (the golden answer)', async () => {
  const c = goldenCases().find((x) => x.events);
  const before = await call(mf, '/recommendations', c.request);
  assert.equal(before.status, 200);
  const r = await call(mf, '/v1/batch', { batch: asTrackCalls(c.events) }, basic(TOKEN));
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.deepEqual(r.body, { accepted: c.events.eventList.length, rejected: [] });
  const after = await call(mf, '/recommendations', c.request);
  assert.deepEqual(withoutRid(after.body), c.response);
  assert.notDeepEqual(withoutRid(before.body), withoutRid(after.body));
});

test('a bad call of a batch is rejected by index and the good ones are applied', async () => {
  const good = { type: 'track', anonymousId: 'seg-2', event: 'view', properties: { sku: 'i21' }, timestamp: iso(10), messageId: 'g-1' };
  const noTime = { type: 'track', anonymousId: 'seg-2', event: 'view', properties: { sku: 'i22' }, timestamp: 'yesterday', messageId: 'b-1' };
  const alias = { type: 'alias', userId: 'x', previousId: 'y' };
  const r = await call(mf, '/v1/batch', { batch: [noTime, good, alias] }, auth);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.accepted, 1);
  assert.deepEqual(r.body.rejected.map((x) => [x.index, x.field]), [[0, 'batch[0].timestamp'], [2, 'batch[2].type']]);
  // The good call reached the session: its next answer leaves the viewed item out or moves it.
  const seen = await call(mf, '/recommendations', { recommender: 'recommended-for-you', userId: 'seg-2', numResults: 5 });
  const fresh = await call(mf, '/recommendations', { recommender: 'recommended-for-you', userId: 'seg-untouched', numResults: 5 });
  assert.equal(seen.status, 200);
  assert.notDeepEqual(withoutRid(seen.body), withoutRid(fresh.body));
  // Nothing valid at all: 400 naming the first bad call.
  const none = await call(mf, '/v1/batch', { batch: [noTime] }, auth);
  assert.equal(none.status, 400);
  assert.equal(none.body.__type, 'InvalidInputException');
  assert.match(none.body.message, /batch\[0\]\.timestamp/);
});

test('single calls: /v1/track and /v1/page; a bad one is a 400 naming the field', async () => {
  const t = await call(mf, '/v1/track', { anonymousId: 'seg-3', event: 'view', properties: { product_id: 'i23' }, timestamp: iso(20) }, auth);
  assert.equal(t.status, 200, JSON.stringify(t.body));
  assert.equal(t.body.accepted, 1);
  const p = await call(mf, '/v1/page', { anonymousId: 'seg-3', name: 'home', timestamp: iso(21) }, auth);
  assert.equal(p.status, 200, JSON.stringify(p.body));
  assert.equal(p.body.accepted, 1);
  const bad = await call(mf, '/v1/track', { anonymousId: 'seg-3', properties: { product_id: 'i23' }, timestamp: iso(22) }, auth);
  assert.equal(bad.status, 400);
  assert.equal(bad.body.__type, 'InvalidInputException');
  assert.match(bad.body.message, /event/);
  const notJson = await call(mf, '/v1/track', '{"event": ', auth);
  assert.equal(notJson.status, 400);
});

test('identify without a sync server is refused, nothing dropped silently', async () => {
  const r = await call(mf, '/v1/identify', { userId: 'u-seg', traits: { name: 'x' }, timestamp: iso(30) }, auth);
  assert.equal(r.status, 400, JSON.stringify(r.body));
  assert.match(r.body.message, /sync/);
});

test('Segment routes need the write key: none, a wrong one or the read token are refused', async () => {
  const call1 = { anonymousId: 'seg-4', event: 'view', properties: { product_id: 'i21' }, timestamp: iso(40) };
  const none = await call(mf, '/v1/track', call1);
  assert.equal(none.status, 403);
  assert.equal(none.body.__type, 'MissingAuthenticationTokenException');
  for (const h of [basic('wrong'), basic(READ), { authorization: `Bearer ${READ}` }]) {
    const r = await call(mf, '/v1/track', call1, h);
    assert.equal(r.status, 403, `${h.authorization}: ${JSON.stringify(r.body)}`);
  }
  const ok = await call(mf, '/v1/track', call1, basic(TOKEN));
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
});
