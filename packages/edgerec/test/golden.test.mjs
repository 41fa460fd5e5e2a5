// The golden fixture gives the same answers in the npm package as in the Rust engine
// (same ids, same order, same scores), in whichever wasm build this process loaded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Recommender, runtimeInfo } from 'edgerec';
import { golden, withoutRecommendationId } from './helpers.mjs';

test('golden fixture: every case answers as the Rust engine does', () => {
  const { bytes, cases } = golden();
  assert.ok(cases.length >= 5);
  for (const c of cases) {
    const rec = Recommender.fromBytesSync(bytes);
    if (c.events) rec.putEvents(c.events);
    const resp =
      c.op === 'getPersonalizedRanking' ? rec.getPersonalizedRanking(c.request) : rec.getRecommendations(c.request);
    assert.equal(typeof resp.recommendationId, 'string');
    assert.deepEqual(withoutRecommendationId(resp), c.response, `case ${JSON.stringify(c.request)}`);
    rec.free();
  }
  const build = process.env.EDGEREC_WASM_BUILD;
  if (build) assert.equal(runtimeInfo().simd, build === 'simd');
});
