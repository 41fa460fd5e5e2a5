// Exploration through the package: a user-personalization recommender trained with
// explorationWeight places new or little-seen items among the relevant ones and marks them with
// reason ["Exploration"]; the same model's recommender without it never does. The model is the
// content fixture (its `explore` recommender has explorationWeight 0.6, cut-off 30 days).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Recommender } from 'edgerec';
import { goldenDir, ids } from './helpers.mjs';

const bytes = new Uint8Array(fs.readFileSync(path.join(goldenDir, 'content-v1.erm')));
const newItems = ['books', 'garden', 'toys'].map((g, k) => ({ itemId: `c${k}`, properties: JSON.stringify({ genres: g }) }));

function explored(resp) {
  return resp.itemList.filter((p) => p.reason?.includes('Exploration'));
}

test('explorationWeight places new items, marked reason ["Exploration"]; slot 1 stays the most relevant', () => {
  const rec = Recommender.fromBytesSync(bytes);
  rec.putItems(newItems);
  const plain = rec.getRecommendations({ recommender: 'explore', userId: 'u0', numResults: 10 });
  let marked = 0;
  for (let k = 0; k < 20; k++) {
    const resp = rec.getRecommendations({ recommender: 'explore', userId: 'u0', numResults: 10 });
    assert.equal(resp.itemList.length, 10);
    assert.equal(new Set(ids(resp)).size, 10, 'no item twice');
    assert.equal(resp.itemList[0].itemId, plain.itemList[0].itemId, 'slot 1 is never explored');
    for (const p of explored(resp)) assert.deepEqual(p.reason, ['Exploration']);
    marked += explored(resp).length;
  }
  assert.ok(marked > 0, 'some items were explored in 20 responses');
});

test('a recommender without explorationWeight never explores', () => {
  const rec = Recommender.fromBytesSync(bytes);
  rec.putItems(newItems);
  for (let k = 0; k < 10; k++) {
    const resp = rec.getRecommendations({ recommender: 'recommended-for-you', userId: 'u0', numResults: 10 });
    assert.equal(explored(resp).length, 0);
  }
});

test('items shown in impressions and not chosen are explored less', () => {
  const counts = (rec) => {
    const n = new Map();
    for (let k = 0; k < 40; k++) {
      const resp = rec.getRecommendations({ recommender: 'explore', userId: 'u3', numResults: 10 });
      for (const p of explored(resp)) n.set(p.itemId, (n.get(p.itemId) ?? 0) + 1);
    }
    return n;
  };
  const fresh = Recommender.fromBytesSync(bytes);
  fresh.putItems(newItems);
  const before = counts(fresh);
  // the item explored most often for u3
  const [target, times] = [...before.entries()].sort((a, b) => b[1] - a[1])[0] ?? [];
  assert.ok(times > 0, 'something is explored for u3');
  const tired = Recommender.fromBytesSync(bytes);
  tired.putItems(newItems);
  // u3 was shown it six times without choosing it
  tired.putEvents({
    sessionId: 's-u3',
    userId: 'u3',
    eventList: Array.from({ length: 6 }, (_, k) => ({ eventType: 'view', itemId: 'i00', sentAt: 1_700_000_000 + k, impression: [target] })),
  });
  const after = counts(tired).get(target) ?? 0;
  assert.ok(after < times, `${target} explored ${times} times before the impressions, ${after} after`);
});
