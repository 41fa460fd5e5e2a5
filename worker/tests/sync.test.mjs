// Event sync to the real sync server (`edgerec serve`): through the session's Durable Object
// (stored, then delivered by its alarm, retried while the server is down) and through a Queue.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { auth, call, eventually, goldenModel, startSyncServer, startWorker, SYNC_ADMIN, VARS } from './support.mjs';

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
