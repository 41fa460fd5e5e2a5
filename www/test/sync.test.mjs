// The storefront's sync rules (www/public/js/sync.js) in Node: the IndexedDB outbox replaced by an
// in-memory queue, the sync server by answers per batch.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { drain, isRefusal } from '../public/js/sync.js';

/** An in-memory queue with the shape js/engine.js gives drain(): its records and its parked ones. */
function memoryQueue(batches) {
  const records = batches.map((batch, key) => ({ key, batch }));
  const parked = [];
  return {
    records,
    parked,
    all: async () => [...records],
    remove: async (key) => records.splice(records.findIndex((r) => r.key === key), 1),
    park: async (key, batch, refusal) => {
      records.splice(records.findIndex((r) => r.key === key), 1);
      parked.push({ batch, ...refusal });
    },
  };
}

const batch = (session, n = 1) => ({ sessionId: session, eventList: Array.from({ length: n }, (_, i) => ({ eventType: 'view', itemId: `i${i}`, sentAt: 1 + i })) });
const answer = (status, body = '') => new Response(body, { status });
const silently = async (fn) => {
  const warn = console.warn;
  console.warn = () => {};
  try {
    return await fn();
  } finally {
    console.warn = warn;
  }
};

test('a batch the server refuses is parked with its answer, and the batches after it are sent', async () => {
  const q = memoryQueue([batch('a', 2), batch('refused'), batch('b', 3)]);
  const posted = [];
  const post = async (b) => {
    posted.push(b.sessionId);
    return b.sessionId === 'refused'
      ? answer(400, '{"__type":"InvalidInputException","field":"eventList[0].properties"}')
      : answer(200, '{"stored":1}');
  };
  const r = await silently(() => drain(q, post));
  assert.deepEqual(r, { sent: 5, parked: 1, error: null });
  assert.deepEqual(posted, ['a', 'refused', 'b']);
  assert.deepEqual(q.records, [], 'nothing is left to send');
  assert.equal(q.parked.length, 1);
  assert.equal(q.parked[0].batch.sessionId, 'refused');
  assert.equal(q.parked[0].status, 400);
  assert.match(q.parked[0].error, /eventList\[0\]\.properties/);
  assert.equal(typeof q.parked[0].at, 'number');
  // The parked batch is not sent again.
  assert.deepEqual(await drain(q, post), { sent: 0, parked: 0, error: null });
  assert.deepEqual(posted, ['a', 'refused', 'b']);
});

test('5xx, offline and 4xx answers about the deployment keep the batch for the next attempt', async () => {
  for (const [status, error] of [[503, 'HTTP 503'], [500, 'HTTP 500'], [401, 'HTTP 401'], [403, 'HTTP 403'], [404, 'HTTP 404'], [408, 'HTTP 408'], [429, 'HTTP 429'], [null, 'offline']]) {
    const q = memoryQueue([batch('a'), batch('b')]);
    let calls = 0;
    const post = async (b) => {
      calls += 1;
      if (b.sessionId === 'a') return answer(200);
      if (status === null) throw new TypeError('Failed to fetch');
      return answer(status);
    };
    const r = await drain(q, post);
    assert.deepEqual(r, { sent: 1, parked: 0, error }, `${status}`);
    assert.deepEqual(q.records.map((x) => x.batch.sessionId), ['b'], `${status}: kept`);
    assert.equal(q.parked.length, 0);
    assert.equal(calls, 2);
  }
});

test('the refusal rule is the core contract\'s, status for status', () => {
  // Written from the core's contract::is_refusal by crates/core/tests/refusals.rs.
  const { refused } = JSON.parse(readFileSync(new URL('../../tests/fixtures/contract/refusals.json', import.meta.url), 'utf8'));
  assert.ok(refused.includes(400) && !refused.includes(429));
  for (let s = 100; s < 600; s++) assert.equal(isRefusal(s), refused.includes(s), `HTTP ${s}`);
});
