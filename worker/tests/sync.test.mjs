// Event sync to the real sync server (`edgerec serve`): through the session's Durable Object
// (stored, then delivered by its alarm, retried while the server is down) and through a Queue.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { ADMIN, auth, call, eventually, goldenModel, startSyncServer, startWorker, SYNC_ADMIN, VARS } from './support.mjs';

const SYNC_TOKEN = 'sync-write-token';
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'edgerec-worker-sync-'));
const counts = async (url) => (await (await fetch(`${url}/health`, { headers: { authorization: `Bearer ${SYNC_ADMIN}` } })).json()).store;
const stored = async (url) => (await counts(url)).events;
const events = (session, n, from = 0) => ({
  sessionId: session,
  eventList: Array.from({ length: n }, (_, i) => ({ eventType: 'view', itemId: `i0${(from + i) % 10}`, sentAt: 1_700_000_000 + from + i })),
});

test('Durable Object path: events reach edgerec serve, also after it was down', async () => {
  const dir = tmp();
  const sync = await startSyncServer(dir, SYNC_TOKEN);
  const url = sync.url;
  let mf;
  try {
    mf = await startWorker({ model: goldenModel(), vars: { ...VARS, SYNC_URL: url, SYNC_TOKEN } });
    assert.equal((await call(mf, '/health')).body.sync, 'durable-object-alarm');
    assert.equal((await call(mf, '/events', events('s-sync', 3), auth)).status, 200);
    assert.equal(await eventually(async () => (await stored(url)) === 3), true, 'three events stored');
    // PutItems / PutUsers are posted at once (no queue bound).
    const items = { items: [{ itemId: 'worker-item-1', properties: '{"CATEGORY": "books"}' }, { itemId: 'worker-item-2' }] };
    assert.equal((await call(mf, '/items', items, auth)).status, 200);
    assert.equal((await call(mf, '/users', { users: [{ userId: 'worker-user-1' }] }, auth)).status, 200);
    assert.deepEqual([(await counts(url)).items, (await counts(url)).users], [2, 1]);
    // The server goes down: accepted events wait in the Durable Object and arrive once it is back.
    await sync.stop();
    // Records cannot wait in a session: with the server down they are refused, not dropped.
    const down = await call(mf, '/items', { items: [{ itemId: 'worker-item-3' }] }, auth);
    assert.equal(down.status, 503);
    assert.equal(down.headers.get('x-amzn-errortype'), 'ServiceUnavailableException');
    assert.equal((await call(mf, '/events', events('s-sync', 2, 3), auth)).status, 200);
    assert.equal((await call(mf, '/events', events('s-other', 1, 5), auth)).status, 200);
    await new Promise((r) => setTimeout(r, 1500));
    const again = await startSyncServer(dir, SYNC_TOKEN, url.replace('http://', ''));
    try {
      assert.equal(await eventually(async () => (await stored(url)) === 6, 30000), true, 'all six events stored');
      const pending = await call(mf, '/health');
      assert.equal(pending.status, 200);
    } finally {
      await again.stop();
    }
  } finally {
    await mf?.dispose();
    if (sync.child.exitCode === null) await sync.stop();
  }
});

test('Queue path: events are sent to SYNC_QUEUE and the consumer posts them to edgerec serve', async () => {
  const sync = await startSyncServer(tmp(), SYNC_TOKEN);
  let mf;
  try {
    mf = await startWorker({ model: goldenModel(), vars: { ...VARS, SYNC_URL: sync.url, SYNC_TOKEN }, queue: true });
    assert.equal((await call(mf, '/health')).body.sync, 'queue');
    assert.equal((await call(mf, '/events', events('s-queue', 4), auth)).status, 200);
    assert.equal(await eventually(async () => (await stored(sync.url)) === 4), true, 'four events stored');
    assert.equal((await call(mf, '/items', { items: [{ itemId: 'queued-item' }] }, auth)).status, 200);
    assert.equal(await eventually(async () => (await counts(sync.url)).items === 1), true, 'the item arrives through the queue');
  } finally {
    await mf?.dispose();
    await sync.stop();
  }
});

test('a burst of PutEvents in one session keeps every batch; a retried call without eventIds is stored once', async () => {
  const dir = tmp();
  const first = await startSyncServer(dir, SYNC_TOKEN);
  const url = first.url;
  // The server is down while the burst arrives, so every batch waits in the session's outbox.
  await first.stop();
  let mf;
  try {
    mf = await startWorker({ model: goldenModel(), vars: { ...VARS, SYNC_URL: url, SYNC_TOKEN } });
    const puts = await Promise.all(Array.from({ length: 20 }, (_, k) => call(mf, '/events', events('s-burst', 2, 2 * k), auth)));
    assert.deepEqual(puts.map((p) => p.status), Array(20).fill(200));
    // The AWS SDK retries a call whose answer was lost with the same body and no eventIds.
    assert.equal((await call(mf, '/events', events('s-burst', 2, 0), auth)).status, 200);
    const again = await startSyncServer(dir, SYNC_TOKEN, url.replace('http://', ''));
    try {
      assert.equal(await eventually(async () => (await stored(url)) >= 40, 30000), true, 'all 40 events stored');
      await new Promise((r) => setTimeout(r, 1500));
      assert.equal(await stored(url), 40, 'the retried call added nothing');
    } finally {
      await again.stop();
    }
  } finally {
    await mf?.dispose();
  }
});

/**
 * A stand-in sync server for the refusal tests: answers 503 to its first `unavailable` posts,
 * refuses (400, as `edgerec serve` refuses invalid input) every body that mentions `refuse-me`,
 * and accepts the rest. Resolves to { url, accepted, refusedPosts, close }.
 */
async function refusingSyncServer({ unavailable = 0 } = {}) {
  const accepted = [];
  let refusedPosts = 0;
  const server = http.createServer(async (req, res) => {
    let body = '';
    for await (const chunk of req) body += chunk;
    res.setHeader('content-type', 'application/json');
    if (unavailable > 0) {
      unavailable -= 1;
      res.writeHead(503).end('{"__type":"ServiceUnavailableException","message":"not yet"}');
    } else if (body.includes('refuse-me')) {
      refusedPosts += 1;
      res.writeHead(400).end(JSON.stringify({ __type: 'InvalidInputException', message: 'eventList[0].eventType: this server refuses it', field: 'eventList[0].eventType' }));
    } else {
      accepted.push({ path: req.url, body: JSON.parse(body) });
      res.writeHead(200).end('{"stored":1,"duplicates":0}');
    }
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    accepted,
    refusedPosts: () => refusedPosts,
    close: () => new Promise((r) => server.close(r)),
  };
}

const admin = { authorization: `Bearer ${ADMIN}` };

for (const queue of [false, true]) {
  test(`${queue ? 'Queue' : 'Durable Object'} path: a batch the server refuses is parked with its answer; the next batch is delivered`, async () => {
    // Through the alarm, the server is unavailable at first (503: retried), so both batches wait
    // in the session's outbox, the refused one first. (A queue retries a 503 only after 30 s.)
    const sync = await refusingSyncServer({ unavailable: queue ? 0 : 2 });
    let mf;
    try {
      mf = await startWorker({ model: goldenModel(), vars: { ...VARS, SYNC_URL: sync.url, SYNC_TOKEN }, queue });
      const refused = { sessionId: 's-park', eventList: [{ eventType: 'refuse-me', itemId: 'i01', sentAt: 1_700_000_000 }] };
      assert.equal((await call(mf, '/events', refused, auth)).status, 200);
      assert.equal((await call(mf, '/events', events('s-park', 2, 10), auth)).status, 200);
      assert.equal(await eventually(() => sync.accepted.length === 1, 30000), true, 'the batch after the refused one is delivered');
      assert.deepEqual(sync.accepted[0].body.eventList.map((e) => e.itemId), ['i00', 'i01']);
      // The operator sees the parked batch, with the server's answer; others do not.
      assert.equal((await call(mf, '/sync/parked')).status, 403);
      assert.equal((await call(mf, '/sync/parked', undefined, auth)).status, 403);
      const parked = await call(mf, '/sync/parked', undefined, admin);
      assert.equal(parked.status, 200, JSON.stringify(parked.body));
      assert.equal(parked.body.count, 1);
      const [p] = parked.body.parked;
      assert.equal(p.status, 400);
      assert.equal(p.path, '/events');
      assert.equal(p.from, queue ? 'queue' : 'durable-object');
      assert.match(p.error, /this server refuses it/);
      assert.equal(JSON.parse(p.body).eventList[0].eventType, 'refuse-me');
      assert.match(p.key, /^parked\/\d{13}-[0-9a-f]{16}$/);
      const objects = (await (await mf.getR2Bucket('MODELS')).list({ prefix: 'parked/' })).objects;
      assert.equal(objects.length, 1);
      // Parked, not retried: the server saw the refused batch once.
      await new Promise((r) => setTimeout(r, 2500));
      assert.equal(sync.refusedPosts(), 1);
      assert.equal(sync.accepted.length, 1);
      assert.equal((await call(mf, '/sync/parked?limit=0', undefined, admin)).status, 400);
    } finally {
      await mf?.dispose();
      await sync.close();
    }
  });
}
