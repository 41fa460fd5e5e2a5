// Model integrity (Subresource Integrity hashes) and signatures (Ed25519), checked with WebCrypto
// before any byte reaches the engine: the wasm carries no cryptography. Browsers (secure
// contexts), Node 20+ and workerd all have SHA-256/384/512 and Ed25519 in crypto.subtle.
//
// A signed model file lists a signature section (kind 32) last in its section table; the
// section is the last 76 bytes of the file: algorithm u16 (1 = Ed25519), flags u16 (0), key id
// (8 bytes: the first 8 bytes of the SHA-256 of the raw public key), signature (64 bytes) over
// every byte of the file before the signature. docs/format.md describes it byte by byte.

const MAGIC = [0x89, 0x45, 0x52, 0x4d, 0x0d, 0x0a, 0x1a, 0x0a];
const SIGNATURE_KIND = 32;
const SIGNATURE_SECTION_LEN = 76;
const SIGNATURE_LEN = 64;
const KEY_ID_LEN = 8;
const ED25519 = 1;
const MAX_SECTIONS = 64;

/** An Error with a stable `code` (its `name` too) and, for refusals, a `reason`. */
function failure(code, message, reason) {
  const e = new Error(message);
  e.name = code;
  e.code = code;
  if (reason !== undefined) e.reason = reason;
  return e;
}

const invalid = (field, message) => failure('InvalidInputException', `${field}: ${message}`);
const refuse = (reason, message) => failure('ModelSignatureError', `model signature: ${message}`, reason);

function subtle(what) {
  const s = globalThis.crypto?.subtle;
  if (s === undefined) {
    throw failure(
      what === 'integrity' ? 'ModelIntegrityError' : 'ModelSignatureError',
      `${what}: this runtime has no WebCrypto (crypto.subtle); browsers offer it only in secure contexts (https, localhost)`,
      'unavailable',
    );
  }
  return s;
}

const hex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');

function base64(bytes) {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

/** Standard or URL-safe base64, padded or not; null when the text is not base64. */
function unbase64(text) {
  const std = text.replace(/-/g, '+').replace(/_/g, '/').replace(/=+$/, '');
  if (!/^[A-Za-z0-9+/]*$/.test(std) || std.length % 4 === 1) return null;
  try {
    return Uint8Array.from(atob(std + '='.repeat((4 - (std.length % 4)) % 4)), (c) => c.charCodeAt(0));
  } catch {
    return null;
  }
}

const HASHES = { sha256: 'SHA-256', sha384: 'SHA-384', sha512: 'SHA-512' };
const STRENGTH = ['sha256', 'sha384', 'sha512'];

/**
 * Parses a Subresource Integrity string (`sha256-<base64>`, also sha384 and sha512; several may
 * be given, separated by spaces): the strongest algorithm present and its expected hashes, as
 * browsers use them for <script integrity>.
 */
function parseIntegrity(integrity) {
  if (typeof integrity !== 'string') throw invalid('integrity', 'must be a string like "sha256-<base64>"');
  const entries = [];
  for (const token of integrity.trim().split(/\s+/)) {
    const m = /^(sha256|sha384|sha512)-([A-Za-z0-9+/_-]+={0,2})(\?.*)?$/i.exec(token);
    if (m) entries.push({ alg: m[1].toLowerCase(), digest: m[2] });
  }
  if (entries.length === 0) {
    throw invalid('integrity', `no sha256-, sha384- or sha512- hash in ${JSON.stringify(integrity)}`);
  }
  const alg = STRENGTH.filter((a) => entries.some((e) => e.alg === a)).at(-1);
  const want = entries.filter((e) => e.alg === alg);
  for (const e of want) {
    const raw = unbase64(e.digest);
    if (raw === null || raw.length * 8 !== Number(alg.slice(3))) {
      throw invalid('integrity', `${alg}-${e.digest} is not a base64 ${alg.toUpperCase()} hash`);
    }
    e.hex = hex(raw);
  }
  return { alg, want };
}

/** Checks `bytes` against a parsed integrity string; returns the matching `<alg>-<base64>`. */
async function checkIntegrity(bytes, { alg, want }) {
  const got = new Uint8Array(await subtle('integrity').digest(HASHES[alg], bytes));
  const gotHex = hex(got);
  if (!want.some((e) => e.hex === gotHex)) {
    throw failure(
      'ModelIntegrityError',
      `model integrity: the ${bytes.length} bytes hash to ${alg}-${base64(got)}, not to ${want.map((e) => `${alg}-${e.digest}`).join(' or ')}`,
      'mismatch',
    );
  }
  return `${alg}-${base64(got)}`;
}

/** The raw 32-byte Ed25519 public keys of a `publicKey` option: base64 text, bytes, or a list of those. */
function publicKeys(option) {
  const list = Array.isArray(option) ? option : [option];
  if (list.length === 0) throw invalid('publicKey', 'an empty list trusts no key');
  return list.map((k, i) => {
    const field = Array.isArray(option) ? `publicKey[${i}]` : 'publicKey';
    let raw = null;
    if (typeof k === 'string') raw = unbase64(k.trim());
    else if (k instanceof Uint8Array) raw = k;
    else if (k instanceof ArrayBuffer) raw = new Uint8Array(k);
    else if (ArrayBuffer.isView(k)) raw = new Uint8Array(k.buffer, k.byteOffset, k.byteLength);
    else throw invalid(field, 'must be the base64 of a 32-byte Ed25519 public key, or its bytes');
    if (raw === null || raw.length !== 32) {
      throw invalid(field, `must be the base64 of a 32-byte Ed25519 public key (${raw === null ? 'not base64' : `${raw.length} bytes`})`);
    }
    return raw;
  });
}

/**
 * The signature section of a model file as stored (not verified): null when the file lists
 * none; a ModelSignatureError ('malformed') when it is not where the format puts it.
 */
export function readSignature(bytes) {
  const malformed = (m) => refuse('malformed', m);
  if (bytes.length < 36 || MAGIC.some((b, i) => bytes[i] !== b)) throw malformed('not an edgerec model file (no .erm header)');
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = dv.getUint32(12, true);
  if (n > MAX_SECTIONS || bytes.length < 36 + 24 * n) throw malformed('the section table does not fit the file');
  const declared = dv.getBigUint64(24, true);
  if (declared !== BigInt(bytes.length)) {
    throw malformed(`the header declares ${declared} bytes but ${bytes.length} were received`);
  }
  const found = [];
  for (let i = 0; i < n; i++) if (dv.getUint16(32 + 24 * i, true) === SIGNATURE_KIND) found.push(i);
  if (found.length === 0) return null;
  if (found.length > 1) throw malformed('the file has more than one signature section');
  const at = 32 + 24 * found[0];
  const offset = dv.getBigUint64(at + 8, true);
  const length = dv.getBigUint64(at + 16, true);
  if (found[0] !== n - 1 || length !== BigInt(SIGNATURE_SECTION_LEN) || offset + length !== BigInt(bytes.length)) {
    throw malformed(`the signature section must be the last entry of the table and the last ${SIGNATURE_SECTION_LEN} bytes of the file`);
  }
  const start = bytes.length - SIGNATURE_SECTION_LEN;
  return {
    algorithm: dv.getUint16(start, true),
    flags: dv.getUint16(start + 2, true),
    keyId: hex(bytes.subarray(start + 4, start + 4 + KEY_ID_LEN)),
    signature: bytes.subarray(bytes.length - SIGNATURE_LEN),
    signedLength: bytes.length - SIGNATURE_LEN,
  };
}

/** The key id of a raw public key: the first 8 bytes of its SHA-256, in hex. */
export async function keyId(raw) {
  return hex(new Uint8Array(await subtle('publicKey').digest('SHA-256', raw)).subarray(0, KEY_ID_LEN));
}

/**
 * Checks that `bytes` are signed by one of the trusted raw public keys (the one the file's key
 * id names) and that the signature covers them as they are. Returns the signer's key id.
 */
async function checkSignature(bytes, keys) {
  const s = readSignature(bytes);
  if (s === null) throw refuse('unsigned', 'the model is not signed, and a publicKey requires a signature');
  if (s.algorithm !== ED25519) throw refuse('malformed', `the model is signed with algorithm ${s.algorithm}; only 1 (Ed25519) is known`);
  if (s.flags !== 0) throw refuse('malformed', `the signature section has unknown flags 0x${s.flags.toString(16)}`);
  const ids = await Promise.all(keys.map(keyId));
  const i = ids.indexOf(s.keyId);
  if (i < 0) throw refuse('unknown-key', `the model is signed by key id ${s.keyId}, which is not a trusted publicKey (key ids ${ids.join(', ')})`);
  const webcrypto = subtle('publicKey');
  const key = await webcrypto.importKey('raw', keys[i], { name: 'Ed25519' }, false, ['verify']);
  const ok = await webcrypto.verify({ name: 'Ed25519' }, key, s.signature, bytes.subarray(0, s.signedLength));
  if (!ok) {
    throw refuse('invalid', `the signature by key id ${s.keyId} does not match the model's bytes: the file was changed after it was signed`);
  }
  return s.keyId;
}

/**
 * The checks `fromUrl`/`fromBytes` options ask for, validated before anything is downloaded:
 * null when there are none.
 */
export function verification(options) {
  const integrity = options.integrity ?? undefined;
  const publicKey = options.publicKey ?? undefined;
  if (integrity === undefined && publicKey === undefined) return null;
  return {
    integrity: integrity === undefined ? null : parseIntegrity(integrity),
    keys: publicKey === undefined ? null : publicKeys(publicKey),
  };
}

/**
 * Runs the checks of `verification(options)`: the integrity hash first (it covers the bytes as
 * downloaded), then the signature. Resolves to what was verified; rejects with a
 * ModelIntegrityError or ModelSignatureError, and then nothing must be decoded.
 */
export async function verifyModel(bytes, plan) {
  return {
    integrity: plan.integrity === null ? null : await checkIntegrity(bytes, plan.integrity),
    keyId: plan.keys === null ? null : await checkSignature(bytes, plan.keys),
  };
}
