// The installed package works from a Node ESM script and a Node CommonJS script.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { goldenCase } from './util.mjs';

const { request, want } = goldenCase();
const model = path.join(process.env.EDGEREC_GOLDEN_DIR ?? '', 'model-v1.erm');

function runScript(name, source) {
  // Inside the consumer project, so `edgerec` resolves to the installed tarball.
  const file = path.join(process.cwd(), name);
  fs.writeFileSync(file, source);
  const r = spawnSync(process.execPath, [file], { encoding: 'utf8', env: { ...process.env, EDGEREC_MODEL: model } });
  fs.rmSync(file);
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

test('Node ESM: import { Recommender } from "edgerec"', () => {
  const out = runScript(
    'smoke-esm.mjs',
    `import fs from 'node:fs';
     import { Recommender } from 'edgerec';
     const rec = await Recommender.fromBytes(fs.readFileSync(process.env.EDGEREC_MODEL));
     console.log(JSON.stringify(rec.getRecommendations(${JSON.stringify(request)}).itemList.map((p) => p.itemId)));`,
  );
  assert.deepEqual(out, want);
});

test('Node CJS: require("edgerec")', () => {
  const out = runScript(
    'smoke-cjs.cjs',
    `const fs = require('node:fs');
     const { Recommender } = require('edgerec');
     const rec = Recommender.fromBytesSync(fs.readFileSync(process.env.EDGEREC_MODEL));
     console.log(JSON.stringify(rec.getRecommendations(${JSON.stringify(request)}).itemList.map((p) => p.itemId)));`,
  );
  assert.deepEqual(out, want);
});

test('Node: fromUrl streams a model over HTTP', async () => {
  const { serve } = await import('./util.mjs');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edgerec-url-'));
  fs.copyFileSync(model, path.join(dir, 'model.erm'));
  const { server, url } = await serve(dir);
  try {
    const { Recommender } = await import('edgerec');
    let progress = 0;
    const rec = await Recommender.fromUrl(`${url}model.erm`, { onProgress: (n) => (progress = n) });
    assert.equal(progress, fs.statSync(model).size);
    assert.deepEqual(rec.getRecommendations(request).itemList.map((p) => p.itemId), want);
    await assert.rejects(Recommender.fromUrl(`${url}missing.erm`), { code: 'ResourceNotFoundException' });
  } finally {
    server.close();
    fs.rmSync(dir, { recursive: true });
  }
});
