// Signed models in the Worker: with MODEL_PUBLIC_KEY set, PUT /model and R2 polling accept only
// models signed by a listed key over their bytes as they are. Tampered files (one byte flipped,
// checksums recomputed, so the decoder alone accepts them), unsigned files and files signed by
// another key are refused; the isolate keeps serving the model it verified.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { startWorker, publish, goldenModel, goldenPublicModel, call, ADMIN, VARS, BEARER_READS } from './support.mjs';
import { integrity, newKey, sign, tamper } from '../../packages/edgerec/test/model-edit.mjs';

const put = (mf, body, token = ADMIN) =>
  mf.dispatchFetch('http://localhost/model', { method: 'PUT', body, headers: { authorization: `Bearer ${token}` } }).then(async (res) => ({
    status: res.status,
    headers: res.headers,
    body: await res.json(),
  }));

async function health(mf) {
  return (await call(mf, '/health', undefined, { authorization: `Bearer ${ADMIN}` })).body;
}

let key;
let other;
let golden;
let signed;
let swapSigned;
let mf;

before(async () => {
  key = await newKey();
  other = await newKey();
  golden = new Uint8Array(goldenModel());
  signed = await sign(golden, key);
  swapSigned = await sign(new Uint8Array(fs.readFileSync(process.env.EDGEREC_SWAP_MODEL)), key);
  mf = await startWorker({ model: signed, vars: { ...VARS, MODEL_PUBLIC_KEY: key.base64 } });
});

after(async () => {
  await mf?.dispose();
});

function assertRefused(r, pattern) {
  assert.equal(r.status, 400, JSON.stringify(r.body));
  assert.equal(r.body.__type, 'InvalidInputException');
  assert.equal(r.headers.get('x-amzn-errortype'), 'InvalidInputException');
  assert.match(r.body.message, /^body: the model is refused: /);
  assert.match(r.body.message, pattern);
}

test('a signed model loads; /health names the key that signed it', async () => {
  const h = await health(mf);
  assert.equal(h.status, 'ok');
  assert.equal(h.modelSignatureRequired, true);
  assert.match(h.modelSignedBy, /^[0-9a-f]{16}$/);
});

test('GET /model serves a public model only when it is signed by the key', async () => {
  const put = (body) => mf.dispatchFetch('http://localhost/model/public', { method: 'PUT', body, headers: { authorization: `Bearer ${ADMIN}` } }).then(async (res) => ({
    status: res.status, headers: res.headers, body: await res.json(),
  }));
  const publicModel = new Uint8Array(goldenPublicModel());
  assertRefused(await put(publicModel), /not signed/);
  assertRefused(await put(tamper(await sign(publicModel, key))), /signature/);
  const signedPublic = await sign(publicModel, key);
  assert.equal((await put(signedPublic)).status, 200);
  const res = await mf.dispatchFetch('http://localhost/model');
  assert.equal(res.status, 200);
  assert.deepEqual(new Uint8Array(await res.arrayBuffer()), signedPublic);
  // An unsigned object put into R2 directly is not served.
  await publish(mf, publicModel, 'model.public.erm');
  const refused = await mf.dispatchFetch('http://localhost/model');
  assert.equal(refused.status, 503);
  assert.match((await refused.json()).message, /not signed/);
  await publish(mf, signedPublic, 'model.public.erm');
});

test('PUT /model refuses a tampered, an unsigned, a foreign-key and a forged-key-id model, and keeps the current one', async () => {
  const before = await health(mf);
  const tampered = tamper(signed);
  // The checksums alone would accept it: a Worker without MODEL_PUBLIC_KEY takes it.
  const open = await startWorker({ model: golden, vars: VARS });
  try {
    assert.equal((await put(open, tampered)).status, 200);
  } finally {
    await open.dispose();
  }
  assertRefused(await put(mf, tampered), /the signature by key id [0-9a-f]{16} does not match the model's bytes/);
  assertRefused(await put(mf, golden), /the model is not signed, and MODEL_PUBLIC_KEY requires a signature/);
  assertRefused(await put(mf, await sign(golden, other)), /signed by key id [0-9a-f]{16}, which is not in MODEL_PUBLIC_KEY \(key ids [0-9a-f]{16}\)/);
  assertRefused(await put(mf, await sign(golden, other, { keyIdOf: key.raw })), /does not match the model's bytes/);
  const cut = signed.subarray(0, signed.length - 1);
  assertRefused(await put(mf, cut), /signature section is malformed/);
  // Nothing was written to R2, and the served model did not change.
  const r2 = await (await mf.getR2Bucket('MODELS')).get('model.erm');
  assert.deepEqual(new Uint8Array(await r2.arrayBuffer()), signed);
  const afterwards = await health(mf);
  assert.equal(afterwards.modelEtag, before.modelEtag);
  assert.equal(afterwards.modelSignedBy, before.modelSignedBy);
});

test('PUT /model accepts a model signed by the key (and one of several keys during a rotation)', async () => {
  const r = await put(mf, swapSigned);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.modelSignedBy, (await health(mf)).modelSignedBy);
  assert.equal(r.body.items, 2000);
  const rotating = await startWorker({ model: signed, vars: { ...VARS, MODEL_PUBLIC_KEY: `${other.base64}, ${key.base64}` } });
  try {
    assert.equal((await put(rotating, await sign(golden, other))).status, 200);
    assert.equal((await put(rotating, signed)).status, 200);
  } finally {
    await rotating.dispose();
  }
  assert.equal((await put(mf, signed)).status, 200);
});

test('R2 polling: a tampered, unsigned or foreign-key object is refused; the verified model keeps serving', async () => {
  const h0 = await health(mf);
  const rec = { recommender: 'best-sellers', numResults: 5 };
  const answer0 = (await call(mf, '/recommendations', rec)).body;
  for (const [bytes, pattern] of [
    [tamper(signed), /does not match the model's bytes/],
    [golden, /the model is not signed/],
    [await sign(golden, other), /which is not in MODEL_PUBLIC_KEY/],
  ]) {
    await publish(mf, bytes); // what `wrangler r2 object put` or a compromised publisher would do
    const h = await health(mf);
    assert.equal(h.modelEtag, h0.modelEtag, 'still the verified model');
    assert.match(h.lastModelError, /the published model \(R2 object "model.erm"\) was refused: /);
    assert.match(h.lastModelError, pattern);
    const answer = (await call(mf, '/recommendations', rec)).body;
    assert.deepEqual(answer.itemList, answer0.itemList);
  }
  // The right model in R2 is picked up again.
  await publish(mf, swapSigned);
  const h = await health(mf);
  assert.notEqual(h.modelEtag, h0.modelEtag);
  assert.equal(h.items, 2000);
  assert.equal(h.lastModelError, null);
  await publish(mf, signed);
});

test('an isolate whose first R2 model is refused serves nothing (503) rather than an unverified model', async () => {
  // Reads with the service bearer token, so that the answer is about the model, not the caller.
  const w = await startWorker({ model: tamper(signed), vars: { ...BEARER_READS, MODEL_PUBLIC_KEY: key.base64 } });
  try {
    const r = await call(w, '/recommendations', { recommender: 'best-sellers' });
    assert.equal(r.status, 503);
    assert.equal(r.body.__type, 'ServiceUnavailableException');
    assert.match(r.body.message, /was refused: the signature by key id/);
  } finally {
    await w.dispose();
  }
});

test('a MODEL_PUBLIC_KEY that is not a key refuses every model, saying why', async () => {
  const w = await startWorker({ model: signed, vars: { ...VARS, MODEL_PUBLIC_KEY: 'not-a-key' } });
  try {
    const r = await call(w, '/health');
    assert.equal(r.status, 503);
    assert.match(r.body.message, /MODEL_PUBLIC_KEY is not usable/);
    const p = await put(w, signed);
    assert.equal(p.status, 500);
    assert.match(p.body.message, /MODEL_PUBLIC_KEY is not usable/);
  } finally {
    await w.dispose();
  }
});

test('a model signed by `edgerec sign` with a key from `edgerec keygen` is accepted; tampered, refused', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edgerec-worker-signing-'));
  try {
    const bin = process.env.EDGEREC_BIN;
    const keyFile = path.join(dir, 'key');
    execFileSync(bin, ['keygen', '--output', keyFile]);
    const model = path.join(dir, 'model.erm');
    fs.writeFileSync(model, golden);
    execFileSync(bin, ['sign', '--key', keyFile, '--model', model]);
    const publicKey = fs.readFileSync(`${keyFile}.pub`, 'utf8').trim();
    const bytes = new Uint8Array(fs.readFileSync(model));
    const w = await startWorker({ model: bytes, vars: { ...VARS, MODEL_PUBLIC_KEY: publicKey } });
    try {
      assert.match((await health(w)).modelSignedBy, /^[0-9a-f]{16}$/);
      assertRefused(await put(w, tamper(bytes)), /does not match the model's bytes/);
      assert.equal((await put(w, bytes)).status, 200);
    } finally {
      await w.dispose();
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
