// fromUrl / fromBytes with `integrity` (SRI) and `publicKey` (Ed25519): checked with WebCrypto
// before decoding; a tampered model (one byte flipped, checksums recomputed, so the decoder
// alone accepts it) is refused by both, and nothing is decoded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { Recommender } from 'edgerec';
import { golden, ids } from './helpers.mjs';
import { integrity, newKey, sign, tamper } from './model-edit.mjs';

/** A fetch that serves fixed bytes, counting its calls. */
function serving(bytes) {
  const f = async () => {
    f.calls += 1;
    return new Response(bytes, { status: 200, headers: { 'content-length': String(bytes.length) } });
  };
  f.calls = 0;
  return f;
}

async function refused(promise, code, reason) {
  await assert.rejects(promise, (e) => {
    assert.ok(e instanceof Error);
    assert.equal(e.code, code, e.message);
    assert.equal(e.name, code);
    assert.equal(e.reason, reason, e.message);
    return true;
  });
}

const top = (rec) => ids(rec.getRecommendations({ recommender: rec.info().recommenders[0].name, numResults: 10 }));

const key = await newKey();
const unsigned = golden().bytes;
const signed = await sign(unsigned, key);

test('a signed model: publicKey and integrity accept it, and it answers as the unsigned one', async () => {
  const plain = Recommender.fromBytesSync(unsigned);
  const rec = await Recommender.fromUrl('https://cdn.example/model.erm', {
    fetch: serving(signed),
    publicKey: key.base64,
    integrity: await integrity(signed),
  });
  assert.deepEqual(top(rec), top(plain));
  const v = rec.info().verified;
  assert.equal(v.integrity, await integrity(signed));
  assert.match(v.keyId, /^[0-9a-f]{16}$/);
  // Raw key bytes work too, and so does fromBytes.
  const again = await Recommender.fromBytes(signed, { publicKey: key.raw });
  assert.equal(again.info().verified.keyId, v.keyId);
  assert.equal(plain.info().verified, null);
  for (const r of [plain, rec, again]) r.free();
});

test('tampered (one catalogue byte flipped, CRCs recomputed): the decoder accepts it, integrity and publicKey refuse it', async () => {
  const bad = tamper(signed);
  assert.notDeepEqual(bad, signed);
  // Without checks the file decodes: the checksums alone cannot tell.
  Recommender.fromBytesSync(bad).free();
  const want = await integrity(signed);
  await refused(Recommender.fromUrl('https://cdn.example/model.erm', { fetch: serving(bad), integrity: want }), 'ModelIntegrityError', 'mismatch');
  await refused(Recommender.fromUrl('https://cdn.example/model.erm', { fetch: serving(bad), publicKey: key.base64 }), 'ModelSignatureError', 'invalid');
  await refused(Recommender.fromBytes(bad, { publicKey: key.base64 }), 'ModelSignatureError', 'invalid');
  await refused(Recommender.fromBytes(bad, { integrity: want }), 'ModelIntegrityError', 'mismatch');
  // Tampering with the unsigned file is caught by integrity too.
  await refused(Recommender.fromBytes(tamper(unsigned), { integrity: await integrity(unsigned) }), 'ModelIntegrityError', 'mismatch');
  // A flipped byte in the signature itself, in the key id, in the header.
  const flip = (i) => {
    const b = Uint8Array.from(signed);
    b[i] ^= 1;
    return b;
  };
  await refused(Recommender.fromBytes(flip(signed.length - 1), { publicKey: key.base64 }), 'ModelSignatureError', 'invalid');
  await refused(Recommender.fromBytes(flip(signed.length - 70), { publicKey: key.base64 }), 'ModelSignatureError', 'unknown-key');
  await refused(Recommender.fromBytes(flip(20), { publicKey: key.base64 }), 'ModelSignatureError', 'invalid');
});

test('unsigned, signed by another key, or a forged key id: refused, naming why', async () => {
  await refused(Recommender.fromBytes(unsigned, { publicKey: key.base64 }), 'ModelSignatureError', 'unsigned');
  const other = await newKey();
  const byOther = await sign(unsigned, other);
  await refused(Recommender.fromBytes(byOther, { publicKey: key.base64 }), 'ModelSignatureError', 'unknown-key');
  // The other key signs, but the file claims the trusted key's id.
  const forged = await sign(unsigned, other, { keyIdOf: key.raw });
  await refused(Recommender.fromBytes(forged, { publicKey: key.base64 }), 'ModelSignatureError', 'invalid');
  // A rotation: both keys trusted.
  const rec = await Recommender.fromBytes(byOther, { publicKey: [key.base64, other.base64] });
  rec.free();
  // The error names the key ids.
  await assert.rejects(Recommender.fromBytes(byOther, { publicKey: key.base64 }), /signed by key id [0-9a-f]{16}, which is not a trusted publicKey/);
});

test('refused before decoding: bytes that are no model get the verification error, not a format error', async () => {
  const junk = new TextEncoder().encode('<html>not found</html>');
  const f = serving(junk);
  await refused(Recommender.fromUrl('https://cdn.example/model.erm', { fetch: f, integrity: await integrity(signed) }), 'ModelIntegrityError', 'mismatch');
  await refused(Recommender.fromUrl('https://cdn.example/model.erm', { fetch: f, publicKey: key.base64 }), 'ModelSignatureError', 'malformed');
  // Without checks the same bytes are a format error from the decoder.
  await assert.rejects(Recommender.fromUrl('https://cdn.example/model.erm', { fetch: f }), (e) => e.code === 'ModelFormatError');
  // A signed file cut short or extended.
  await refused(Recommender.fromBytes(signed.subarray(0, signed.length - 1), { publicKey: key.base64 }), 'ModelSignatureError', 'malformed');
  await refused(Recommender.fromBytes(Uint8Array.from([...signed, 0]), { publicKey: key.base64 }), 'ModelSignatureError', 'malformed');
});

test('integrity strings: sha256/384/512, the strongest listed is the one checked', async () => {
  for (const alg of ['SHA-256', 'SHA-384', 'SHA-512']) {
    (await Recommender.fromBytes(signed, { integrity: await integrity(signed, alg) })).free();
  }
  // A wrong sha256 next to a right sha512: sha512 decides (as browsers do).
  const wrong256 = await integrity(unsigned);
  (await Recommender.fromBytes(signed, { integrity: `${wrong256} ${await integrity(signed, 'SHA-512')}` })).free();
  await refused(Recommender.fromBytes(signed, { integrity: `${await integrity(signed)} ${await integrity(unsigned, 'SHA-384')}` }), 'ModelIntegrityError', 'mismatch');
  // Any of several hashes of the strongest algorithm.
  (await Recommender.fromBytes(signed, { integrity: `${wrong256} ${await integrity(signed)}` })).free();
});

test('bad options are InvalidInputException, before any download', async () => {
  const f = serving(signed);
  const bad = [
    [{ integrity: 'md5-abc' }, /integrity: no sha256-/],
    [{ integrity: 'sha256-AAAA' }, /integrity: sha256-AAAA is not a base64 SHA256 hash/],
    [{ integrity: 42 }, /integrity: must be a string/],
    [{ publicKey: 'not base64!' }, /publicKey: must be the base64 of a 32-byte Ed25519 public key/],
    [{ publicKey: new Uint8Array(31) }, /publicKey: .*31 bytes/],
    [{ publicKey: [] }, /publicKey: an empty list/],
    [{ publicKey: [key.base64, 7] }, /publicKey\[1\]: must be/],
  ];
  for (const [options, message] of bad) {
    await assert.rejects(Recommender.fromUrl('https://cdn.example/model.erm', { fetch: f, ...options }), (e) => {
      assert.equal(e.code, 'InvalidInputException');
      assert.match(e.message, message);
      return true;
    });
  }
  assert.equal(f.calls, 0, 'nothing was downloaded');
  assert.throws(() => Recommender.fromBytesSync(signed, { publicKey: key.base64 }), (e) => e.code === 'InvalidInputException' && /use await Recommender.fromBytes/.test(e.message));
});

test('the bytes checked are the bytes decoded, whatever the caller does with its buffer meanwhile', async () => {
  const buf = Uint8Array.from(signed);
  const pending = Recommender.fromBytes(buf, { publicKey: key.base64 });
  buf.set(tamper(signed)); // after the call, before the check finished
  const rec = await pending;
  assert.deepEqual(top(rec), top(Recommender.fromBytesSync(unsigned)));
  rec.free();
});

const rustSigned = process.env.EDGEREC_SIGNED_MODEL;
test('a model signed by `edgerec sign` verifies here with the key `edgerec keygen` printed', { skip: rustSigned ? false : 'EDGEREC_SIGNED_MODEL is not set (cargo xtask wasm test sets it)' }, async () => {
  const bytes = new Uint8Array(fs.readFileSync(rustSigned));
  const publicKey = fs.readFileSync(process.env.EDGEREC_SIGNED_MODEL_PUBLIC_KEY, 'utf8').trim();
  const rec = await Recommender.fromBytes(bytes, { publicKey });
  assert.deepEqual(top(rec), top(Recommender.fromBytesSync(unsigned)));
  rec.free();
  await refused(Recommender.fromBytes(tamper(bytes), { publicKey }), 'ModelSignatureError', 'invalid');
  await refused(Recommender.fromBytes(bytes, { publicKey: key.base64 }), 'ModelSignatureError', 'unknown-key');
  // The JS signer and the Rust signer write the same layout: signing the same bytes with the
  // same key id gives the same file up to the signature.
  const js = await sign(unsigned, key);
  assert.equal(js.length, bytes.length);
  assert.deepEqual(js.subarray(0, js.length - 72), bytes.subarray(0, bytes.length - 72));
});
