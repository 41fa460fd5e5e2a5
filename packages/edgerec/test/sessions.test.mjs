// Sessions and the outbox through the package: putEvents moves the next recommendations toward
// the clicked items' neighbourhood; takeOutbox returns every accepted event exactly once;
// exportSessions/importSessions round-trips; putItems makes cold items usable at once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Recommender } from 'edgerec';
import { golden, ids, views } from './helpers.mjs';

const { bytes } = golden();
const forYou = (userId, numResults = 10) => ({ recommender: 'recommended-for-you', userId, numResults });
// The golden catalogue: i00–i09 books, i10–i19 garden, i20–i29 toys.
const group = (id) => Math.floor(Number(id.slice(1)) / 10);

test('putEvents for a new session moves recommendations toward the clicked items', () => {
  const rec = Recommender.fromBytesSync(bytes);
  const before = ids(rec.getRecommendations(forYou('visitor-1')));
  rec.putEvents(views('visitor-1', ['i11', 'i12', 'i13', 'i14']));
  const after = ids(rec.getRecommendations(forYou('visitor-1')));
  assert.notDeepEqual(after, before);
  const garden = after.filter((i) => group(i) === 1).length;
  assert.ok(garden >= 4, `mostly garden items after garden clicks: ${after}`);
  for (const clicked of ['i11', 'i12', 'i13', 'i14']) assert.ok(!after.includes(clicked), 'clicked items are excluded');
  // Related items of a clicked item share its neighbourhood.
  const related = ids(rec.getRecommendations({ recommender: 'also-viewed', itemId: 'i12', numResults: 5 }));
  assert.ok(related.filter((i) => group(i) === 1).length >= 3, `${related}`);
});

test('takeOutbox returns every accepted event exactly once, in PutEvents batches', () => {
  const rec = Recommender.fromBytesSync(bytes);
  const sent = [];
  for (let s = 0; s < 7; s++) {
    const n = 1 + (s % 10);
    const req = views(`s-${s}`, Array.from({ length: n }, (_, k) => `i${String((s * 3 + k) % 30).padStart(2, '0')}`));
    if (s === 2) req.eventList[0].eventId = 'my-own-id';
    if (s === 3) req.eventList[0].sentAt = new Date(1_700_000_000_000);
    rec.putEvents(req);
    sent.push(...req.eventList.map((e) => ({ sessionId: req.sessionId, itemId: e.itemId })));
  }
  // A rejected call queues nothing.
  assert.throws(() => rec.putEvents(views('s-x', Array(11).fill('i01'))), { code: 'InvalidInputException' });
  assert.equal(rec.info().outboxPending, sent.length);
  const batches = [...rec.takeOutbox(7), ...rec.takeOutbox(5), ...rec.takeOutbox()];
  assert.deepEqual(rec.takeOutbox(), []);
  const got = batches.flatMap((b) => b.eventList.map((e) => ({ sessionId: b.sessionId, itemId: e.itemId, eventId: e.eventId, sentAt: e.sentAt })));
  assert.deepEqual(got.map(({ sessionId, itemId }) => ({ sessionId, itemId })), sent);
  const eventIds = new Set(got.map((e) => e.eventId));
  assert.equal(eventIds.size, sent.length, 'every event has its own eventId');
  assert.ok(eventIds.has('my-own-id'));
  assert.ok(got.every((e) => typeof e.eventId === 'string' && e.eventId.length > 0));
  assert.ok(got.some((e) => e.sentAt === 1_700_000_000), 'Date sentAt becomes seconds');
  for (const b of batches) assert.ok(b.eventList.length >= 1 && b.eventList.length <= 10);
  assert.equal(rec.info().outboxPending, 0);
});

test('outbox batches go to the sync server as they are: no null fields, no empty lists; refused calls never enter', () => {
  const rec = Recommender.fromBytesSync(bytes);
  assert.throws(() => rec.putEvents({ sessionId: 's-c', eventList: [{ eventType: 'view', itemId: 'i01', sentAt: 1, properties: '{"sessionId":"x"}' }] }), { code: 'InvalidInputException' });
  assert.equal(rec.info().outboxPending, 0, 'a refused call is not queued');
  rec.putEvents(views('s-c', ['i01']));
  rec.putEvents({ sessionId: 's-c', userId: 'u-c', eventList: [{ eventType: 'click', itemId: 'i02', sentAt: 2, impression: [], metricAttribution: { eventAttributionSource: 'email' }, recommender: 'also-viewed' }] });
  const batches = rec.takeOutbox();
  const text = JSON.stringify(batches);
  assert.ok(!text.includes('null') && !text.includes('[]'), text);
  assert.deepEqual(Object.keys(batches[0]).sort(), ['eventList', 'sessionId']);
  assert.deepEqual(Object.keys(batches[0].eventList[0]).sort(), ['eventId', 'eventType', 'itemId', 'sentAt']);
  const click = batches[1].eventList[0];
  assert.equal(batches[1].userId, 'u-c');
  assert.deepEqual(click.metricAttribution, { eventAttributionSource: 'email' });
  assert.equal(click.recommender, 'also-viewed');
});

test('exportSessions / importSessions round-trip; damaged bytes are rejected', () => {
  const a = Recommender.fromBytesSync(bytes);
  a.putEvents(views('visitor-2', ['i21', 'i22']));
  a.putEvents({ ...views('visitor-3', ['i03']), userId: 'u7' });
  const saved = a.exportSessions();
  assert.ok(saved instanceof Uint8Array && saved.length > 20);
  const b = Recommender.fromBytesSync(bytes);
  assert.equal(b.importSessions(saved), 2);
  for (const user of ['visitor-2', 'u7']) {
    assert.deepEqual(ids(b.getRecommendations(forYou(user))), ids(a.getRecommendations(forYou(user))));
  }
  const broken = saved.slice();
  broken[broken.length - 1] ^= 0xff;
  assert.throws(() => b.importSessions(broken), (e) => e.code === 'InvalidInputException' && /sessions/.test(e.message));
  assert.throws(() => b.importSessions('nope'), { code: 'InvalidInputException' });
});

test('putItems / putUsers: cold records usable at once', () => {
  const rec = Recommender.fromBytesSync(bytes);
  rec.putItems({ datasetArn: 'arn:aws:personalize:::dataset/x', items: [{ itemId: 'new-1', properties: '{"category": "pets", "price": 3}' }] });
  const resp = rec.getRecommendations({
    recommender: 'best-sellers',
    numResults: 3,
    filter: 'INCLUDE ItemID WHERE Items.CATEGORY IN ($C)',
    filterValues: { C: '"pets"' },
    metadataColumns: { ITEMS: ['CATEGORY', 'PRICE'] },
  });
  assert.deepEqual(resp.itemList.map((p) => [p.itemId, p.metadata]), [['new-1', { CATEGORY: 'pets', PRICE: '3' }]]);
  assert.equal(rec.info().items, 31);
  rec.putUsers([{ userId: 'new-user' }]);
  assert.equal(rec.info().users, 61);
  assert.throws(() => rec.putItems([{ itemId: 'x', properties: '{"colour": "red"}' }]), (e) => e.code === 'InvalidInputException' && e.message.includes('items[0].properties.colour'));
});

test('info() reports recommenders, counts, format version and sizes', () => {
  const rec = Recommender.fromBytesSync(bytes);
  const info = rec.info();
  assert.equal(info.items, 30);
  assert.equal(info.formatVersion, '1.4');
  assert.equal(info.fileBytes, bytes.length);
  assert.deepEqual(info.recommenders.map((r) => r.name).sort(), ['also-viewed', 'best-sellers', 'ranking', 'recommended-for-you']);
  assert.ok(info.sections.length > 0 && info.sections.every((s) => s.bytes > 0));
  assert.ok(info.memoryBytes > 0);
  assert.equal(typeof info.simd, 'boolean');
  rec.free();
  assert.throws(() => rec.info(), { code: 'InvalidStateException' });
});
