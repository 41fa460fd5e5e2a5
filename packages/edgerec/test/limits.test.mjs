// Every request limit (docs/design.md, "Limits and bad input") is rejected with InvalidInputException and a message naming the field.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Recommender } from 'edgerec';
import { golden, views } from './helpers.mjs';

const rec = Recommender.fromBytesSync(golden().bytes);
const long = (n) => 'x'.repeat(n);
const base = { recommender: 'recommended-for-you', userId: 'u1' };

function rejects(name, call, field, code = 'InvalidInputException') {
  test(`${name} → ${code} naming ${field}`, () => {
    assert.throws(call, (e) => {
      assert.ok(e instanceof Error, 'an Error');
      assert.equal(e.code, code);
      assert.ok(e.message.includes(field), `message ${JSON.stringify(e.message)} names ${field}`);
      return true;
    });
  });
}

rejects('userId over 256 chars', () => rec.getRecommendations({ ...base, userId: long(257) }), 'userId');
rejects('itemId over 256 chars', () => rec.getRecommendations({ recommender: 'also-viewed', itemId: long(257) }), 'itemId');
rejects('numResults over 500', () => rec.getRecommendations({ ...base, numResults: 501 }), 'numResults');
rejects('numResults over 50 with metadata', () => rec.getRecommendations({ ...base, numResults: 51, metadataColumns: { ITEMS: ['CATEGORY'] } }), 'numResults');
rejects('numResults of the wrong type', () => rec.getRecommendations({ ...base, numResults: 'ten' }), 'numResults');
rejects('inputList over 500', () => rec.getPersonalizedRanking({ recommender: 'ranking', userId: 'u1', inputList: Array(501).fill('i01') }), 'inputList');
rejects('inputList empty', () => rec.getPersonalizedRanking({ recommender: 'ranking', userId: 'u1', inputList: [] }), 'inputList');
rejects('filterValues over 25 keys', () => rec.getRecommendations({ ...base, filterValues: Object.fromEntries(Array.from({ length: 26 }, (_, i) => [`K${i}`, '"a"'])) }), 'filterValues');
rejects('filterValues value over 1000 chars', () => rec.getRecommendations({ ...base, filterValues: { K: long(1001) } }), 'filterValues.K');
rejects('context over 150 entries', () => rec.getRecommendations({ ...base, context: Object.fromEntries(Array.from({ length: 151 }, (_, i) => [`K${i}`, 'v'])) }), 'context');
rejects('putEvents with no events', () => rec.putEvents({ sessionId: 's', eventList: [] }), 'eventList');
rejects('putEvents with 11 events', () => rec.putEvents(views('s', Array(11).fill('i01'))), 'eventList');
rejects('event properties over 1024 chars', () => rec.putEvents({ sessionId: 's', eventList: [{ eventType: 'view', itemId: 'i01', sentAt: 1, properties: `{"a":"${long(1030)}"}` }] }), 'eventList[0].properties');
rejects('event properties with a key Personalize reserves', () => rec.putEvents({ sessionId: 's', eventList: [{ eventType: 'view', itemId: 'i01', sentAt: 1, properties: '{"userId":"x"}' }] }), 'eventList[0].properties');
rejects('event properties that are not a JSON object', () => rec.putEvents({ sessionId: 's', eventList: [{ eventType: 'view', itemId: 'i01', sentAt: 1, properties: '{not json}' }] }), 'eventList[0].properties');
rejects('a metricAttribution source that is not printable ASCII', () => rec.putEvents({ sessionId: 's', eventList: [{ eventType: 'view', sentAt: 1, metricAttribution: { eventAttributionSource: 'caf\u00e9' } }] }), 'eventList[0].metricAttribution.eventAttributionSource');
rejects('impressions over 25', () => rec.putEvents({ sessionId: 's', eventList: [{ eventType: 'view', itemId: 'i01', sentAt: 1, impression: Array(26).fill('i02') }] }), 'eventList[0].impression');
rejects('sessionId over 256 chars', () => rec.putEvents(views(long(257), ['i01'])), 'sessionId');
rejects('eventId over 256 chars', () => rec.putEvents({ sessionId: 's', eventList: [{ eventId: long(257), eventType: 'view', itemId: 'i01', sentAt: 1 }] }), 'eventList[0].eventId');
rejects('missing eventType', () => rec.putEvents({ sessionId: 's', eventList: [{ itemId: 'i01', sentAt: 1 }] }), 'eventType');
rejects('sentAt of the wrong type', () => rec.putEvents({ sessionId: 's', eventList: [{ eventType: 'view', sentAt: 'now' }] }), 'eventList[0].sentAt');
rejects('putItems with 11 records', () => rec.putItems(Array.from({ length: 11 }, (_, i) => ({ itemId: `n${i}` }))), 'items');
rejects('putItems with none', () => rec.putItems([]), 'items');
rejects('putUsers with 11 records', () => rec.putUsers(Array.from({ length: 11 }, (_, i) => ({ userId: `n${i}` }))), 'users');
rejects('putItems itemId over 256 chars', () => rec.putItems([{ itemId: long(257) }]), 'items[0].itemId');
rejects('unknown recommender', () => rec.getRecommendations({ recommender: 'nope' }), 'nope', 'ResourceNotFoundException');
rejects('a filter that does not parse', () => rec.getRecommendations({ ...base, filter: 'INCLUDE ItemID WHERE' }), 'filter');
rejects('a missing request', () => rec.getRecommendations(undefined), 'request');
rejects('bytes that are not a model', () => Recommender.fromBytesSync(new Uint8Array(64)), 'magic', 'ModelFormatError');
rejects('a truncated model', () => Recommender.fromBytesSync(golden().bytes.slice(0, 100)), 'truncated', 'ModelFormatError');
rejects('takeOutbox with a negative count', () => rec.takeOutbox(-1), 'maxEvents');

test('the engine still answers after all those rejections', () => {
  assert.equal(rec.getRecommendations({ ...base, numResults: 5 }).itemList.length, 5);
});
