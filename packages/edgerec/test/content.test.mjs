// Item content through the package: items added with putItems are placed from their metadata,
// so a similar-items recommender lists their neighbours and user-personalization recommends them
// at once, without retraining. The model is the content fixture next to the golden one
// (30 items: i00–i09 books, i10–i19 garden, i20–i29 toys; users u0, u3, … like books).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Recommender } from 'edgerec';
import { goldenDir, ids } from './helpers.mjs';

const bytes = new Uint8Array(fs.readFileSync(path.join(goldenDir, 'content-v1.erm')));
const genre = (id) => Math.floor(Number(id.slice(1)) / 10);
const newItems = ['books', 'garden', 'toys'].map((g, k) => ({ itemId: `c${k}`, properties: JSON.stringify({ genres: g }) }));

test('putItems → similar-items lists neighbours of the same genre', () => {
  const rec = Recommender.fromBytesSync(bytes);
  const before = rec.getRecommendations({ recommender: 'similar', itemId: 'c2', numResults: 5 });
  // Unknown item: popular items, as Personalize answers.
  assert.equal(before.itemList.length, 5);
  rec.putItems({ datasetArn: 'arn:aws:personalize:::dataset/items', items: newItems });
  const related = ids(rec.getRecommendations({ recommender: 'similar', itemId: 'c2', numResults: 5 }));
  assert.equal(related.length, 5);
  for (const id of related) assert.equal(genre(id), 2, `c2 (toys) neighbours: ${related}`);
});

test('putItems → user-personalization recommends the new item to users of its genre', () => {
  const rec = Recommender.fromBytesSync(bytes);
  rec.putItems(newItems);
  for (const user of ['u0', 'u1', 'u2']) {
    const list = ids(rec.getRecommendations({ recommender: 'recommended-for-you', userId: user, numResults: 40 }));
    const own = `c${Number(user.slice(1)) % 3}`;
    const others = ['c0', 'c1', 'c2'].filter((c) => c !== own);
    for (const o of others) assert.ok(list.indexOf(own) < list.indexOf(o), `${user}: ${own} before ${o} in ${list}`);
  }
});

test('putItems still validates against the schema', () => {
  const rec = Recommender.fromBytesSync(bytes);
  assert.throws(() => rec.putItems([{ itemId: 'x', properties: '{"colour": "red"}' }]),
    (e) => e.code === 'InvalidInputException' && e.message.includes('items[0].properties.colour'));
});
