// Both wasm builds (baseline and simd128) against the native engine: the golden fixture in a
// child process per build, and top-25 lists on a 5k-item × 64-dim int8 model (dimension large
// enough for the vector path) compared with the native engine's answers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ids } from './helpers.mjs';

const here = fileURLToPath(new URL('.', import.meta.url));

function child(build, script) {
  return spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: here,
    env: { ...process.env, EDGEREC_WASM_BUILD: build },
    encoding: 'utf8',
  });
}

for (const build of ['baseline', 'simd']) {
  test(`${build} build: golden fixture`, () => {
    const r = spawnSync(process.execPath, ['--test', 'golden.test.mjs'], {
      cwd: here,
      env: { ...process.env, EDGEREC_WASM_BUILD: build },
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stdout + r.stderr);
  });

  test(`${build} build: user profiles (public model + profile = private model, every golden user)`, () => {
    const r = spawnSync(process.execPath, ['--test', 'profile.test.mjs'], {
      cwd: here,
      env: { ...process.env, EDGEREC_WASM_BUILD: build },
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stdout + r.stderr);
  });

  test(`${build} build: 5k × 64 model matches the native engine`, (t) => {
    const model = process.env.EDGEREC_MEDIUM_MODEL;
    if (!model || !fs.existsSync(model)) {
      t.skip('EDGEREC_MEDIUM_MODEL not set (cargo xtask wasm test sets it)');
      return;
    }
    const script = `
      import fs from 'node:fs';
      import { Recommender, runtimeInfo } from 'edgerec';
      const rec = Recommender.fromBytesSync(fs.readFileSync(${JSON.stringify(model)}));
      const expected = JSON.parse(fs.readFileSync(${JSON.stringify(model.replace(/\.erm$/, '.expected.json'))}, 'utf8'));
      const out = [];
      for (const c of expected) {
        for (const batch of c.viewed ?? []) {
          rec.putEvents({ sessionId: c.userId, eventList: batch.map((itemId, k) => ({ eventType: 'view', itemId, sentAt: k })) });
        }
        out.push({ userId: c.userId, got: rec.getRecommendations({ recommender: 'recommended-for-you', userId: c.userId }).itemList.map((p) => p.itemId), want: c.itemIds });
      }
      console.log(JSON.stringify({ simd: runtimeInfo().simd, out }));`;
    const r = child(build, script);
    assert.equal(r.status, 0, r.stderr);
    const { simd, out } = JSON.parse(r.stdout);
    assert.equal(simd, build === 'simd');
    assert.equal(out.length, 11);
    for (const c of out) assert.deepEqual(c.got, c.want, `user ${c.userId}`);
  });
}

test('ids helper', () => assert.deepEqual(ids({ itemList: [{ itemId: 'a' }] }), ['a']));
