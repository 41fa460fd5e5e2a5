// A trap (what a Rust panic becomes under panic=abort) does not leave the package unusable:
// the wrapper re-instantiates the module and rebuilds every Recommender from its model bytes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Recommender, runtimeInfo } from 'edgerec';
import { golden, ids } from './helpers.mjs';

test('after a trap the engine is restarted and answers again', () => {
  const { bytes } = golden();
  const req = { recommender: 'recommended-for-you', userId: 'u1', numResults: 5 };
  const a = Recommender.fromBytesSync(bytes);
  const b = Recommender.fromBytesSync(bytes);
  const lean = Recommender.fromBytesSync(bytes, { retainSource: false });
  const before = ids(a.getRecommendations(req));
  const restarts = runtimeInfo().restarts;

  assert.throws(() => a.__trapForTesting(), (e) => {
    assert.equal(e.code, 'InternalError');
    assert.ok(e.cause instanceof WebAssembly.RuntimeError, 'the cause is the trap');
    return true;
  });
  assert.equal(runtimeInfo().restarts, restarts + 1);
  assert.deepEqual(ids(a.getRecommendations(req)), before, 'the trapping Recommender works again');
  assert.deepEqual(ids(b.getRecommendations(req)), before, 'other Recommenders are rebuilt on next use');
  assert.throws(() => lean.getRecommendations(req), { code: 'InvalidStateException' });
  // New engines can be made, sessions work, and a second trap is survived too.
  const c = Recommender.fromBytesSync(bytes);
  c.putEvents({ sessionId: 's', eventList: [{ eventType: 'view', itemId: 'i21', sentAt: 1 }] });
  assert.equal(c.takeOutbox().length, 1);
  assert.throws(() => c.__trapForTesting(), { code: 'InternalError' });
  assert.deepEqual(ids(c.getRecommendations(req)), before);
});
