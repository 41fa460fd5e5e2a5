// The Worker's routes in workerd (Miniflare): answers equal the golden fixture, Personalize's
// error shapes and limits, auth, ETag/304 and caching headers.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ADMIN, BEARER_READS as VARS, READ, anonymous, auth, call, goldenCases, goldenModel, goldenPublicModel, reader, startWorker, withoutRid } from './support.mjs';

let mf;
before(async () => {
  mf = await startWorker({ model: goldenModel(), vars: VARS });
});
after(() => mf?.dispose());

const cases = goldenCases();
const arn = (name) => `arn:aws:personalize:eu-west-1:123456789012:campaign/${name}`;

test('GET /health reports the model', async () => {
  const r = await call(mf, '/health');
  assert.equal(r.status, 200);
  assert.equal(r.body.status, 'ok');
  assert.equal(r.body.items, 30);
  assert.equal(r.body.modelVersion, 1);
  assert.equal(r.body.sync, 'disabled');
  assert.ok(r.body.recommenders.some((x) => x.name === 'recommended-for-you'));
});

test('every golden case without events answers as the Rust engine does', async () => {
  for (const c of cases.filter((x) => !x.events)) {
    const route = c.op === 'getPersonalizedRanking' ? '/personalize-ranking' : '/recommendations';
    const { recommender, ...rest } = c.request;
    // Through the ARN, as the AWS SDK sends it.
    const r = await call(mf, route, { ...rest, campaignArn: arn(recommender) });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.match(r.body.recommendationId, /^(RID-|rid-)/);
    assert.deepEqual(withoutRid(r.body), c.response, JSON.stringify(c.request));
  }
});

test('anonymous answers carry Cache-Control and an ETag; If-None-Match gives 304', async () => {
  const req = { recommenderArn: arn('best-sellers'), numResults: 5 };
  const a = await call(mf, '/recommendations', req);
  assert.equal(a.status, 200);
  assert.match(a.headers.get('cache-control'), /^public, max-age=\d+/);
  const etag = a.headers.get('etag');
  assert.match(etag, /^"[0-9a-f]{32}"$/);
  const b = await call(mf, '/recommendations', req);
  assert.deepEqual(b.body, a.body, 'anonymous answers are deterministic');
  const c = await call(mf, '/recommendations', req, { 'if-none-match': etag });
  assert.equal(c.status, 304);
  assert.equal(c.headers.get('etag'), etag);
  const d = await call(mf, '/recommendations', { ...req, numResults: 4 }, { 'if-none-match': etag });
  assert.equal(d.status, 200);
  // The same request as a URL: cacheable by browsers and Cloudflare's cache.
  const g = await call(mf, `/recommendations?recommenderArn=${encodeURIComponent(req.recommenderArn)}&numResults=5`);
  assert.equal(g.status, 200);
  assert.equal(g.headers.get('etag'), etag);
  assert.deepEqual(g.body, a.body);
  const g304 = await mf.dispatchFetch(`http://localhost/recommendations?recommenderArn=${encodeURIComponent(req.recommenderArn)}&numResults=5`, { headers: { 'if-none-match': etag, ...reader } });
  assert.equal(g304.status, 304);
  const u = await call(mf, '/recommendations', { ...req, userId: 'u1' });
  assert.equal(u.headers.get('cache-control'), 'private, no-store');
  assert.equal(u.headers.get('etag'), null);
});

test('GET /model serves only the public profile, with an ETag; If-None-Match gives 304', async () => {
  // No public model yet: 404, never the private model the Worker answers from.
  const none = await mf.dispatchFetch('http://localhost/model');
  assert.equal(none.status, 404);
  assert.equal((await none.json()).__type, 'ResourceNotFoundException');
  const put = (body, token = ADMIN) => mf.dispatchFetch('http://localhost/model/public', { method: 'PUT', body, headers: { authorization: `Bearer ${token}` } });
  // The private model is refused as a public one, and a reader cannot publish.
  const privateOne = await put(Uint8Array.from(goldenModel()));
  assert.equal(privateOne.status, 400);
  assert.match((await privateOne.json()).message, /private profile/);
  assert.equal((await put(Uint8Array.from(goldenPublicModel()), READ)).status, 403);
  const ok = await put(Uint8Array.from(goldenPublicModel()));
  assert.equal(ok.status, 200, await ok.clone().text());
  const res = await mf.dispatchFetch('http://localhost/model');
  assert.equal(res.status, 200);
  const bytes = Buffer.from(await res.arrayBuffer());
  assert.ok(bytes.equals(goldenPublicModel()));
  // The meta section's table entry (kind 1) carries the public flag (1); see docs/format.md.
  const entries = Array.from({ length: bytes.readUInt32LE(12) }, (_, i) => ({ kind: bytes.readUInt16LE(32 + 24 * i), flags: bytes.readUInt16LE(34 + 24 * i) }));
  assert.equal(entries.find((e) => e.kind === 1).flags & 1, 1, 'marked public');
  const etag = res.headers.get('etag');
  assert.ok(etag);
  const again = await mf.dispatchFetch('http://localhost/model', { headers: { 'if-none-match': etag } });
  assert.equal(again.status, 304);
  assert.equal((await again.arrayBuffer()).byteLength, 0);
});

/** Asserts a Personalize error: status, x-amzn-errortype, JSON message naming `field`. */
function assertError(r, status, type, field) {
  assert.equal(r.status, status, JSON.stringify(r.body));
  assert.equal(r.headers.get('x-amzn-errortype'), type);
  assert.equal(r.body.__type, type);
  assert.equal(typeof r.body.message, 'string');
  if (field) assert.ok(r.body.message.includes(field), `${r.body.message} names ${field}`);
}

test('errors: Personalize exception names, statuses and messages naming the field', async () => {
  assertError(await call(mf, '/recommendations', { recommender: 'nope' }), 404, 'ResourceNotFoundException', 'nope');
  assertError(await call(mf, '/recommendations', { campaignArn: arn('recommended-for-you'), numResults: 'ten' }), 400, 'InvalidInputException', 'numResults');
  assertError(await call(mf, '/recommendations', '{"campaignArn": '), 400, 'InvalidInputException');
  assertError(await call(mf, '/recommendations', ''), 400, 'InvalidInputException', 'body');
  assertError(await call(mf, '/recommendations', { numResults: 3 }), 400, 'InvalidInputException', 'recommender');
  assertError(await call(mf, '/nope', {}), 404, 'UnknownOperationException');
  assertError(await call(mf, '/personalize-ranking'), 405, 'MethodNotAllowedException');
  assertError(await call(mf, '/recommendations?recommender=best-sellers&numResults=x'), 400, 'InvalidInputException', 'numResults');
  assertError(await call(mf, '/recommendations?recommender=best-sellers&context=x'), 400, 'InvalidInputException', 'context');
  assertError(await call(mf, '/personalize-ranking', { campaignArn: arn('ranking'), userId: 'u2', inputList: [] }), 400, 'InvalidInputException', 'inputList');
});

test('request limits (docs/design.md), each an InvalidInputException naming the field', async () => {
  const rec = { campaignArn: arn('recommended-for-you') };
  const long = 'x'.repeat(257);
  assertError(await call(mf, '/recommendations', { ...rec, userId: long }), 400, 'InvalidInputException', 'userId');
  assertError(await call(mf, '/recommendations', { ...rec, numResults: 501 }), 400, 'InvalidInputException', 'numResults');
  assertError(
    await call(mf, '/recommendations', { ...rec, numResults: 51, metadataColumns: { ITEMS: ['CATEGORY'] } }),
    400, 'InvalidInputException', 'numResults',
  );
  const many = Object.fromEntries(Array.from({ length: 151 }, (_, i) => [`K${i}`, 'v']));
  assertError(await call(mf, '/recommendations', { ...rec, context: many }), 400, 'InvalidInputException', 'context');
  const fv = Object.fromEntries(Array.from({ length: 26 }, (_, i) => [`K${i}`, '"v"']));
  assertError(await call(mf, '/recommendations', { ...rec, filterValues: fv }), 400, 'InvalidInputException', 'filterValues');
  const input = Array.from({ length: 501 }, (_, i) => `i${i}`);
  assertError(await call(mf, '/personalize-ranking', { campaignArn: arn('ranking'), userId: 'u2', inputList: input }), 400, 'InvalidInputException', 'inputList');
  const ev = (n, extra = {}) => ({ sessionId: 's-limits', eventList: Array.from({ length: n }, (_, i) => ({ eventType: 'view', itemId: 'i01', sentAt: i + 1, ...extra })) });
  assertError(await call(mf, '/events', ev(0), auth), 400, 'InvalidInputException', 'eventList');
  assertError(await call(mf, '/events', ev(11), auth), 400, 'InvalidInputException', 'eventList');
  assertError(await call(mf, '/events', ev(1, { properties: JSON.stringify({ a: 'x'.repeat(1100) }) }), auth), 400, 'InvalidInputException', 'properties');
  assertError(await call(mf, '/events', ev(1, { impression: Array.from({ length: 26 }, (_, i) => `i${i}`) }), auth), 400, 'InvalidInputException', 'impression');
  // The core's event contract, as the sync server applies it: a key Personalize reserves in
  // `properties`, properties that are not a JSON object, an empty impression list.
  assertError(await call(mf, '/events', ev(1, { properties: '{"userId":"x"}' }), auth), 400, 'InvalidInputException', 'eventList[0].properties');
  assertError(await call(mf, '/events', ev(1, { properties: '{not json}' }), auth), 400, 'InvalidInputException', 'eventList[0].properties');
  assertError(await call(mf, '/events', ev(1, { impression: [] }), auth), 400, 'InvalidInputException', 'eventList[0].impression');
  assertError(await call(mf, '/events', { ...ev(1), sessionId: long }, auth), 400, 'InvalidInputException', 'sessionId');
  const items = (n) => ({ items: Array.from({ length: n }, (_, i) => ({ itemId: `new-${i}` })) });
  // PutItems / PutUsers need a sync server (see the next test); this Worker has none.
  assertError(await call(mf, '/items', items(2), auth), 501, 'NotImplementedException', 'SYNC_URL');
  assertError(await call(mf, '/recommendations', JSON.stringify({ ...rec, pad: 'x'.repeat(70 * 1024) })), 413, 'RequestEntityTooLargeException');
});

test('write routes need a bearer token or SigV4; reads need credentials too (READ_AUTH)', async () => {
  const ev = { sessionId: 's-auth', eventList: [{ eventType: 'view', itemId: 'i01', sentAt: 1 }] };
  assertError(await call(mf, '/events', ev), 403, 'MissingAuthenticationTokenException');
  assertError(await call(mf, '/events', ev, { authorization: 'Bearer wrong' }), 403, 'UnrecognizedClientException');
  assertError(await call(mf, '/events', ev, reader), 403, 'UnrecognizedClientException');
  assertError(await call(mf, '/items', { items: [{ itemId: 'x' }] }), 403, 'MissingAuthenticationTokenException');
  assertError(await call(mf, '/events', ev, { authorization: 'Basic dXNlcjpwYXNz' }), 403, 'IncompleteSignatureException');
  assertError(
    await call(mf, '/events', ev, { authorization: 'AWS4-HMAC-SHA256 Credential=AKIDEDGERECTEST/20260101/us-east-1/personalize/aws4_request, SignedHeaders=host;x-amz-date, Signature=00', 'x-amz-date': '20260101T000000Z' }),
    403, 'IncompleteSignatureException',
  );
  assert.equal((await call(mf, '/events', ev, auth)).status, 200);
  assertError(await mf.dispatchFetch('http://localhost/model', { method: 'PUT', body: 'x', headers: auth }).then(async (res) => ({ status: res.status, headers: res.headers, body: await res.json() })), 403, 'AccessDeniedException');
  const read = { recommender: 'recommended-for-you', userId: 'u1', numResults: 3 };
  assertError(await call(mf, '/recommendations', read, anonymous), 403, 'MissingAuthenticationTokenException');
  assertError(await call(mf, '/recommendations', { recommender: 'best-sellers' }, anonymous), 403, 'MissingAuthenticationTokenException');
  assert.equal((await call(mf, '/recommendations', read, reader)).status, 200);
});

test('PutItems / PutUsers without a sync server: 501, nothing accepted', async () => {
  for (const [route, body] of [['/items', { items: [{ itemId: 'x' }] }], ['/users', { users: [{ userId: 'x' }] }]]) {
    const r = await call(mf, route, body, auth);
    assertError(r, 501, 'NotImplementedException', 'SYNC_URL');
    assert.match(r.body.message, route === '/items' ? /^PutItems/ : /^PutUsers/);
  }
});

test('every answer carries an x-amzn-requestid', async () => {
  const seen = new Set();
  for (const r of [await call(mf, '/health'), await call(mf, '/recommendations', { recommender: 'best-sellers' }), await call(mf, '/nope', {})]) {
    const id = r.headers.get('x-amzn-requestid');
    assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    seen.add(id);
  }
  assert.equal(seen.size, 3);
});

test('events change the same session\'s next recommendations at once', async () => {
  const c = cases.find((x) => x.events);
  const req = { ...c.request };
  const before = await call(mf, '/recommendations', req);
  assert.equal(before.status, 200);
  const put = await call(mf, '/events', c.events, auth);
  assert.equal(put.status, 200, JSON.stringify(put.body));
  const afterEvents = await call(mf, '/recommendations', req);
  assert.deepEqual(withoutRid(afterEvents.body), c.response);
  assert.notDeepEqual(withoutRid(before.body), withoutRid(afterEvents.body));
  // Another session is unaffected.
  const other = await call(mf, '/recommendations', { ...req, userId: 'someone-else' });
  assert.deepEqual(withoutRid(other.body), withoutRid(before.body));
});

test('hot swap: PUT /model publishes a new model; a broken one is refused and the old one stays', async () => {
  const swap = fs.readFileSync(process.env.EDGEREC_SWAP_MODEL);
  const put = (body, token = ADMIN) => mf.dispatchFetch('http://localhost/model', { method: 'PUT', body, headers: { authorization: `Bearer ${token}` } });
  const bad = await put(Uint8Array.from(goldenModel().subarray(0, 500)));
  assert.equal(bad.status, 400);
  assert.equal(bad.headers.get('x-amzn-errortype'), 'InvalidInputException');
  assert.equal((await call(mf, '/health')).body.items, 30);
  const etagBefore = (await call(mf, '/health')).body.modelEtag;
  const ok = await put(Uint8Array.from(swap));
  assert.equal(ok.status, 200, await ok.clone().text());
  const h = await call(mf, '/health');
  assert.equal(h.body.items, 2000);
  assert.notEqual(h.body.modelEtag, etagBefore);
  const r = await call(mf, '/recommendations', { recommender: 'recommended-for-you', userId: 'user-0', numResults: 3 });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.ok(r.body.itemList.every((p) => p.itemId.startsWith('item-')));
});

test('session state survives a restart of workerd (Durable Object storage)', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edgerec-worker-persist-'));
  const c = cases.find((x) => x.events);
  let w = await startWorker({ model: goldenModel(), vars: VARS, persist: dir });
  try {
    assert.equal((await call(w, '/events', c.events, auth)).status, 200);
    const live = await call(w, '/recommendations', c.request);
    assert.deepEqual(withoutRid(live.body), c.response);
    await w.dispose();
    w = await startWorker({ vars: VARS, persist: dir });
    const restored = await call(w, '/recommendations', c.request);
    assert.equal(restored.status, 200, JSON.stringify(restored.body));
    assert.deepEqual(withoutRid(restored.body), c.response);
  } finally {
    await w.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('automatic context: DEVICE from the User-Agent when the model has that column', async () => {
  const demo = fs.readFileSync(process.env.EDGEREC_DEMO_MODEL);
  const w = await startWorker({ model: demo, vars: VARS });
  try {
    assert.deepEqual((await call(w, '/health')).body.contextColumns, ['DEVICE']);
    const iphone = { 'user-agent': 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148' };
    const a = await call(w, '/recommendations', { recommender: 'best-sellers', numResults: 3 }, iphone);
    assert.equal(a.status, 200, JSON.stringify(a.body));
    assert.equal(a.headers.get('x-edgerec-context'), 'DEVICE=mobile');
    const b = await call(w, '/recommendations', { recommender: 'recommended-for-you', userId: '349', numResults: 3 }, { 'user-agent': 'Mozilla/5.0 (iPad; CPU OS 17_0)' });
    assert.equal(b.status, 200, JSON.stringify(b.body));
    assert.equal(b.headers.get('x-edgerec-context'), 'DEVICE=tablet');
    const c = await call(w, '/recommendations', { recommender: 'best-sellers', numResults: 3, context: { DEVICE: 'desktop' } }, iphone);
    assert.equal(c.headers.get('x-edgerec-context'), null, 'a context the request sets is kept');
  } finally {
    await w.dispose();
  }
});
