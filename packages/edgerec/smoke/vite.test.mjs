// A Vite build of an app that imports `edgerec`, loaded in headless Chromium: the bundler finds
// both .wasm builds, the browser entry loads one, and the answer equals the Rust engine's. The
// model is signed: Chromium's WebCrypto checks its publicKey and integrity, and refuses a
// tampered copy (one byte flipped, checksums recomputed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { goldenCase, serve, tool } from './util.mjs';
import { integrity, newKey, sign, tamper } from '../test/model-edit.mjs';

const { bytes, request, want } = goldenCase();

test('Vite build in headless Chromium', async () => {
  const app = path.join(process.cwd(), 'vite-app');
  fs.rmSync(app, { recursive: true, force: true });
  fs.mkdirSync(path.join(app, 'public'), { recursive: true });
  const key = await newKey();
  const signed = await sign(new Uint8Array(bytes), key);
  fs.writeFileSync(path.join(app, 'public/model.erm'), signed);
  fs.writeFileSync(path.join(app, 'public/tampered.erm'), tamper(signed));
  const checks = { publicKey: key.base64, integrity: await integrity(signed) };
  fs.writeFileSync(path.join(app, 'index.html'), '<!doctype html><title>edgerec</title><pre id="out">loading</pre><script type="module" src="./main.js"></script>\n');
  fs.writeFileSync(
    path.join(app, 'main.js'),
    `import { Recommender } from 'edgerec';
     const out = document.getElementById('out');
     try {
       const checks = ${JSON.stringify(checks)};
       const rec = await Recommender.fromUrl('./model.erm', checks);
       const ids = rec.getRecommendations(${JSON.stringify(request)}).itemList.map((p) => p.itemId);
       rec.putEvents({ sessionId: 's', eventList: [{ eventType: 'view', itemId: ids[0], sentAt: new Date() }] });
       const refusals = [];
       for (const only of [{ publicKey: checks.publicKey }, { integrity: checks.integrity }]) {
         try {
           await Recommender.fromUrl('./tampered.erm', only);
           refusals.push('accepted');
         } catch (e) {
           refusals.push(e.code + ':' + e.reason);
         }
       }
       out.textContent = JSON.stringify({ ids, simd: rec.info().simd, outbox: rec.takeOutbox().length, verified: rec.info().verified, refusals });
     } catch (e) {
       out.textContent = 'error ' + e.code + ' ' + e.message;
     }\n`,
  );
  const vite = await tool('vite');
  await vite.build({ root: app, logLevel: 'warn', configFile: false, build: { outDir: 'dist', target: 'es2022' } });
  const assets = fs.readdirSync(path.join(app, 'dist/assets'));
  assert.ok(assets.filter((f) => f.endsWith('.wasm')).length >= 2, `both wasm builds emitted: ${assets}`);

  const { chromium } = await tool('playwright-core');
  const { server, url } = await serve(path.join(app, 'dist'));
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const page = await browser.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(url);
    await page.waitForFunction(() => document.getElementById('out').textContent !== 'loading', null, { timeout: 30_000 });
    const text = await page.textContent('#out');
    assert.ok(text.startsWith('{'), `${text} ${errors}`);
    const got = JSON.parse(text);
    assert.deepEqual(got.ids, want);
    assert.equal(got.simd, true, 'Chromium runs the simd128 build');
    assert.equal(got.outbox, 1);
    assert.equal(got.verified.integrity, checks.integrity);
    assert.match(got.verified.keyId, /^[0-9a-f]{16}$/);
    assert.deepEqual(got.refusals, ['ModelSignatureError:invalid', 'ModelIntegrityError:mismatch']);
  } finally {
    await browser.close();
    server.close();
  }
});
