// A Worker that imports `edgerec`, bundled the way wrangler does (esbuild, workerd conditions,
// .wasm as compiled modules) and run in workerd through Miniflare. Its model is signed and
// checked with workerd's WebCrypto; a tampered copy is refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { goldenCase, tool } from './util.mjs';
import { newKey, sign, tamper } from '../test/model-edit.mjs';

const { bytes, request, want } = goldenCase();

test('workerd (Miniflare): the workerd entry answers like the Rust engine', async () => {
  const dir = path.join(process.cwd(), 'worker-app');
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(path.join(dir, 'build'), { recursive: true });
  const key = await newKey();
  const signed = await sign(new Uint8Array(bytes), key);
  fs.writeFileSync(path.join(dir, 'build/model.erm'), signed);
  fs.writeFileSync(path.join(dir, 'build/tampered.erm'), tamper(signed));
  fs.writeFileSync(
    path.join(dir, 'worker.js'),
    `import { Recommender } from 'edgerec';
     import model from './model.erm';
     import tampered from './tampered.erm';
     const publicKey = ${JSON.stringify(key.base64)};
     let rec;
     export default {
       async fetch(request) {
         if (new URL(request.url).pathname === '/tampered') {
           try {
             await Recommender.fromBytes(new Uint8Array(tampered), { publicKey });
             return Response.json({ accepted: true });
           } catch (e) {
             return Response.json({ code: e.code, reason: e.reason });
           }
         }
         rec ??= await Recommender.fromBytes(new Uint8Array(model), { publicKey });
         const body = await request.json();
         try {
           return Response.json({ ...rec.getRecommendations(body), simd: rec.info().simd });
         } catch (e) {
           return Response.json({ code: e.code, message: e.message }, { status: 400 });
         }
       },
     };\n`,
  );
  const esbuild = await tool('esbuild');
  const copyModules = {
    name: 'modules',
    setup(b) {
      b.onResolve({ filter: /\.(wasm|erm)$/ }, (args) => {
        const file = path.resolve(args.resolveDir, args.path);
        const name = path.basename(file);
        if (fs.existsSync(file)) fs.copyFileSync(file, path.join(dir, 'build', name));
        return { path: `./${name}`, external: true };
      });
    },
  };
  await esbuild.build({
    entryPoints: [path.join(dir, 'worker.js')],
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    conditions: ['workerd', 'worker', 'browser'],
    mainFields: ['module', 'main'],
    outfile: path.join(dir, 'build/index.js'),
    plugins: [copyModules],
    logLevel: 'warning',
  });
  const { Miniflare } = await tool('miniflare');
  const mf = new Miniflare({
    modules: true,
    scriptPath: path.join(dir, 'build/index.js'),
    modulesRoot: path.join(dir, 'build'),
    modulesRules: [
      { type: 'CompiledWasm', include: ['**/*.wasm'] },
      { type: 'Data', include: ['**/*.erm'] },
    ],
    compatibilityDate: '2026-04-01',
    cf: false,
    host: '127.0.0.1',
  });
  try {
    const res = await mf.dispatchFetch('http://localhost/', { method: 'POST', body: JSON.stringify(request) });
    const got = await res.json();
    assert.equal(res.status, 200, JSON.stringify(got));
    assert.deepEqual(got.itemList.map((p) => p.itemId), want);
    assert.equal(typeof got.recommendationId, 'string');
    const bad = await mf.dispatchFetch('http://localhost/', { method: 'POST', body: JSON.stringify({ recommender: 'nope' }) });
    assert.equal(bad.status, 400);
    assert.equal((await bad.json()).code, 'ResourceNotFoundException');
    const t = await mf.dispatchFetch('http://localhost/tampered');
    assert.deepEqual(await t.json(), { code: 'ModelSignatureError', reason: 'invalid' });
  } finally {
    await mf.dispose();
  }
});
