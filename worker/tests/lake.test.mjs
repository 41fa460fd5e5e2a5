// The event lake from the Worker: with an R2 bucket bound as LAKE, the queue consumer writes each
// PutEvents batch as Parquet (one object per UTC day, named by the batch's event ids), so a
// retried call or a redelivered message rewrites the same object: each eventId once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { auth, call, eventually, goldenModel, startSyncServer, startWorker, SYNC_ADMIN, VARS } from './support.mjs';

const SYNC_TOKEN = 'sync-write-token';
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'edgerec-worker-lake-'));
const strict = process.env.EDGEREC_CI_STRICT === '1';

// Reads a Parquet file with pyarrow (a writer-independent reader): schema, codec and rows.
const READ_PARQUET = `
import json, sys
import pyarrow.parquet as pq
f = pq.ParquetFile(sys.argv[1])
t = f.read()
print(json.dumps({
    "schema": [[c.name, str(c.type), c.nullable] for c in t.schema],
    "codec": f.metadata.row_group(0).column(0).compression,
    "rows": t.to_pylist(),
}))
`;

/** pyarrow's reading of `bytes`, or null (with the reason printed) when pyarrow is not available. */
function pyarrowRead(bytes) {
  const python = process.env.EDGEREC_PYTHON;
  const missing = (why) => {
    const msg = `lake test: not decoding with pyarrow: ${why} (set EDGEREC_PYTHON to a Python with pyarrow; cargo xtask test does)`;
    if (strict) throw new Error(msg);
    console.log(`SKIPPED: ${msg}; checking the Parquet magic bytes only`);
    return null;
  };
  if (!python || !fs.existsSync(python)) return missing(`EDGEREC_PYTHON is ${python ? `${python}, which does not exist` : 'unset'}`);
  const file = path.join(tmp(), 'object.parquet');
  fs.writeFileSync(file, bytes);
  const out = spawnSync(python, ['-c', READ_PARQUET, file], { encoding: 'utf8' });
  if (out.status !== 0 && /No module named .pyarrow/.test(out.stderr)) return missing(`${python} has no pyarrow`);
  assert.equal(out.status, 0, `pyarrow could not read the object: ${out.stderr}`);
  return JSON.parse(out.stdout);
}

/** The lake's objects under `prefix`: key → bytes. */
async function lakeObjects(mf, prefix) {
  const bucket = await mf.getR2Bucket('LAKE');
  const out = new Map();
  for (const o of (await bucket.list({ prefix })).objects) {
    out.set(o.key, new Uint8Array(await (await bucket.get(o.key)).arrayBuffer()));
  }
  return out;
}

const metric = async (url, name) => {
  const text = await (await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${SYNC_ADMIN}` } })).text();
  return Number(text.split('\n').find((l) => l.startsWith(`${name} `))?.split(' ')[1] ?? NaN);
};

// 2023-11-14T22:13:20Z; T0 + 6400 s is 2023-11-15T00:00:00Z.
const T0 = 1_700_000_000;

test('Queue path with LAKE: each batch lands in R2 as Parquet by day, each eventId once', async () => {
  const sync = await startSyncServer(tmp(), SYNC_TOKEN);
  let mf;
  try {
    mf = await startWorker({ model: goldenModel(), vars: { ...VARS, SYNC_URL: sync.url, SYNC_TOKEN, LAKE_PREFIX: 'events' }, queue: true, lake: true });
    assert.equal((await call(mf, '/health')).body.lake, true);
    const withIds = {
      sessionId: 's-lake',
      userId: 'u-lake',
      eventList: [
        { eventId: 'lake-1', eventType: 'view', itemId: 'i01', sentAt: T0, impression: ['i01', 'i02'], properties: '{"device":"mobile"}' },
        { eventId: 'lake-2', eventType: 'click', itemId: 'i02', sentAt: (T0 + 10) * 1000 + 500, eventValue: 2.5, recommendationId: 'rid-0123456789abcdef' },
        { eventId: 'lake-3', eventType: 'view', itemId: 'i03', sentAt: T0 + 6400 },
        { eventId: 'lake-4', eventType: 'view', itemId: 'i04', sentAt: T0 + 6500 },
      ],
    };
    const noIds = { sessionId: 's-anon', eventList: [{ eventType: 'view', itemId: 'i05', sentAt: T0 + 7000 }, { eventType: 'view', itemId: 'i06', sentAt: T0 + 7001 }] };
    // Every call twice: the AWS SDK retries a call whose answer was lost with the same body.
    for (const body of [withIds, withIds, noIds, noIds]) assert.equal((await call(mf, '/events', body, auth)).status, 200);
    // All four messages consumed: the server stored 6 and skipped the 6 repeated ones.
    assert.equal(await eventually(async () => (await metric(sync.url, 'edgerec_events_deduplicated_total')) === 6, 30000), true, 'the retried calls were delivered');
    assert.equal(await metric(sync.url, 'edgerec_events_stored_total'), 6);
    const objects = await lakeObjects(mf, 'events/');
    const keys = [...objects.keys()].sort();
    // withIds: one object per day; noIds: one (2023-11-15). The retries rewrote the same keys.
    assert.equal(keys.length, 3, keys.join(', '));
    for (const k of keys) assert.match(k, /^events\/dt=2023-11-1[45]\/worker-[0-9a-f]{32}\.parquet$/);
    assert.deepEqual(keys.map((k) => k.split('/')[1]).sort(), ['dt=2023-11-14', 'dt=2023-11-15', 'dt=2023-11-15']);
    const rows = [];
    for (const [key, bytes] of objects) {
      assert.deepEqual([...bytes.slice(0, 4)], [...Buffer.from('PAR1')], key);
      assert.deepEqual([...bytes.slice(-4)], [...Buffer.from('PAR1')], key);
      const read = pyarrowRead(bytes);
      if (!read) continue;
      assert.equal(read.codec, 'SNAPPY');
      assert.deepEqual(read.schema.map(([name]) => name), ['EVENT_ID', 'USER_ID', 'SESSION_ID', 'ITEM_ID', 'TIMESTAMP', 'EVENT_TYPE', 'EVENT_VALUE', 'IMPRESSION', 'RECOMMENDATION_ID', 'PROPERTIES']);
      assert.deepEqual(read.schema.find(([n]) => n === 'TIMESTAMP'), ['TIMESTAMP', 'int64', false]);
      for (const r of read.rows) {
        const day = new Date(r.TIMESTAMP * 1000).toISOString().slice(0, 10);
        assert.equal(key.split('/')[1], `dt=${day}`, `${r.EVENT_ID} is in its day's partition`);
        rows.push(r);
      }
    }
    if (rows.length > 0) {
      const ids = rows.map((r) => r.EVENT_ID);
      assert.equal(rows.length, 6, 'six rows: one per accepted event');
      assert.equal(new Set(ids).size, 6, 'no EVENT_ID twice');
      assert.deepEqual(ids.filter((id) => id.startsWith('lake-')).sort(), ['lake-1', 'lake-2', 'lake-3', 'lake-4']);
      const one = rows.find((r) => r.EVENT_ID === 'lake-1');
      assert.deepEqual(one, { EVENT_ID: 'lake-1', USER_ID: 'u-lake', SESSION_ID: 's-lake', ITEM_ID: 'i01', TIMESTAMP: T0, EVENT_TYPE: 'view', EVENT_VALUE: null, IMPRESSION: 'i01|i02', RECOMMENDATION_ID: null, PROPERTIES: '{"device":"mobile"}' });
      const two = rows.find((r) => r.EVENT_ID === 'lake-2');
      assert.deepEqual([two.TIMESTAMP, two.EVENT_VALUE, two.RECOMMENDATION_ID], [T0 + 10, 2.5, 'rid-0123456789abcdef']);
      console.log(`lake round trip: 12 events posted (6 distinct), ${keys.length} objects, ${rows.length} rows read back by pyarrow, 0 duplicates`);
    }
  } finally {
    await mf?.dispose();
    await sync.stop();
  }
});

test('LAKE without a sync server: events reach the lake through the queue; records are still refused', async () => {
  const mf = await startWorker({ model: goldenModel(), vars: { ...VARS }, queue: true, lake: true });
  try {
    assert.equal((await call(mf, '/events', { sessionId: 's-only-lake', eventList: [{ eventId: 'only-1', eventType: 'view', itemId: 'i01', sentAt: T0 }] }, auth)).status, 200);
    assert.equal(await eventually(async () => (await lakeObjects(mf, 'dt=')).size === 1, 30000), true, 'one object in the lake');
    const [bytes] = (await lakeObjects(mf, 'dt=2023-11-14/')).values();
    const read = pyarrowRead(bytes);
    if (read) assert.deepEqual(read.rows.map((r) => r.EVENT_ID), ['only-1']);
    // Nowhere to keep items without a sync server: refused, not dropped in the queue.
    assert.equal((await call(mf, '/items', { items: [{ itemId: 'x' }] }, auth)).status, 501);
  } finally {
    await mf.dispose();
  }
});
