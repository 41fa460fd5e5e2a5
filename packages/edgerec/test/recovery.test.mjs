// A trap (what a Rust panic becomes under panic=abort) does not leave the package unusable:
// the wrapper re-instantiates the module and rebuilds every Recommender from its model bytes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Recommender, runtimeInfo } from 'edgerec';
import { golden, ids } from './helpers.mjs';

// Not an entry point of the package: the module behind them, for what only tests may do.
const { rawForTests } = await import(new URL('./api.js', import.meta.resolve('edgerec')).href);

/**
 * Makes the next call on `rec` trap for real, as memory corruption would: its engine object
 * now points outside the wasm memory, so the engine's first read of it is out of bounds.
 */
function corrupt(rec) {
  rawForTests(rec).__wbg_ptr = 0xfffffff0;
}

test('after a trap the engine is restarted and answers again', () => {
  const { bytes } = golden();
  const req = { recommender: 'recommended-for-you', userId: 'u1', numResults: 5 };
  const a = Recommender.fromBytesSync(bytes);
  const b = Recommender.fromBytesSync(bytes);
  const lean = Recommender.fromBytesSync(bytes, { retainSource: false });
  const before = ids(a.getRecommendations(req));
  const restarts = runtimeInfo().restarts;

  corrupt(a);
  assert.throws(() => a.info(), (e) => {
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
  corrupt(c);
  assert.throws(() => c.getRecommendations(req), { code: 'InternalError' });
  assert.deepEqual(ids(c.getRecommendations(req)), before);
});

test('the published API has no test hook', () => {
  const { bytes } = golden();
  const rec = Recommender.fromBytesSync(bytes);
  const names = (o) => Object.getOwnPropertyNames(o).filter((n) => /trap|test/i.test(n));
  assert.deepEqual(names(Object.getPrototypeOf(rec)), []);
  assert.deepEqual(names(rec), []);
  rec.free();
});
