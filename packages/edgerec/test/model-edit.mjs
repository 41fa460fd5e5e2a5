// Byte-level edits of model files for the verification tests (the package's and the Worker's):
// CRC-32, a one-byte tamper whose checksums are recomputed (so the decoder alone accepts it),
// and an Ed25519 signer written from the format's description of the signature section, with
// WebCrypto keys. Independent of the Rust signer on purpose: both must agree with the format.

const TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 (IEEE, as zlib) of bytes. */
export function crc32(bytes) {
  let c = 0xffffffff;
  for (const b of bytes) c = TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

const view = (b) => new DataView(b.buffer, b.byteOffset, b.byteLength);

/** The section table: [{ index, kind, at (table offset), crc, offset, length }]. */
export function sections(bytes) {
  const dv = view(bytes);
  const n = dv.getUint32(12, true);
  return Array.from({ length: n }, (_, index) => {
    const at = 32 + 24 * index;
    return {
      index,
      at,
      kind: dv.getUint16(at, true),
      crc: dv.getUint32(at + 4, true),
      offset: Number(dv.getBigUint64(at + 8, true)),
      length: Number(dv.getBigUint64(at + 16, true)),
    };
  });
}

function fixHeaderCrc(bytes) {
  const dv = view(bytes);
  const end = 32 + 24 * dv.getUint32(12, true);
  dv.setUint32(end, crc32(bytes.subarray(0, end)), true);
}

/**
 * A copy of a model with one byte flipped inside the catalogue section (kind 2), that
 * section's CRC and the header CRC recomputed: a file the decoder accepts as valid.
 */
export function tamper(bytes, { kind = 2, at = 0.5 } = {}) {
  const out = Uint8Array.from(bytes);
  const s = sections(out).find((x) => x.kind === kind);
  if (!s || s.length === 0) throw new Error(`no section of kind ${kind} to tamper with`);
  const i = s.offset + Math.floor(s.length * at);
  out[i] ^= 0x20;
  view(out).setUint32(s.at + 4, crc32(out.subarray(s.offset, s.offset + s.length)), true);
  fixHeaderCrc(out);
  return out;
}

/** A new Ed25519 key pair (WebCrypto) and its raw public key and base64. */
export async function newKey() {
  const pair = await crypto.subtle.generateKey({ name: 'Ed25519' }, true, ['sign', 'verify']);
  const raw = new Uint8Array(await crypto.subtle.exportKey('raw', pair.publicKey));
  return { privateKey: pair.privateKey, raw, base64: Buffer.from(raw).toString('base64') };
}

/**
 * Signs an unsigned model as docs/format.md describes: one more table entry (kind 32, CRC 0)
 * after the others, every section moved by 24 bytes, the 76-byte section appended (algorithm 1,
 * flags 0, key id, signature over every byte before the signature). `keyIdOf` overrides the
 * key id written (to forge one).
 */
export async function sign(bytes, key, { keyIdOf = key.raw } = {}) {
  const dv = view(bytes);
  const n = dv.getUint32(12, true);
  const oldHeader = 32 + 24 * n + 4;
  const newHeader = oldHeader + 24;
  const body = bytes.subarray(oldHeader);
  const total = newHeader + body.length + 76;
  const out = new Uint8Array(total);
  out.set(bytes.subarray(0, 32));
  const odv = view(out);
  odv.setUint32(12, n + 1, true);
  odv.setBigUint64(24, BigInt(total), true);
  for (const s of sections(bytes)) {
    out.set(bytes.subarray(s.at, s.at + 24), s.at);
    odv.setBigUint64(s.at + 8, BigInt(s.offset + 24), true);
  }
  const sig = 32 + 24 * n;
  odv.setUint16(sig, 32, true);
  odv.setBigUint64(sig + 8, BigInt(newHeader + body.length), true);
  odv.setBigUint64(sig + 16, 76n, true);
  fixHeaderCrc(out);
  out.set(body, newHeader);
  const section = newHeader + body.length;
  odv.setUint16(section, 1, true);
  const id = new Uint8Array(await crypto.subtle.digest('SHA-256', keyIdOf)).subarray(0, 8);
  out.set(id, section + 4);
  const signature = new Uint8Array(await crypto.subtle.sign({ name: 'Ed25519' }, key.privateKey, out.subarray(0, total - 64)));
  out.set(signature, total - 64);
  return out;
}

/** The SRI string of bytes. */
export async function integrity(bytes, alg = 'SHA-256') {
  const d = new Uint8Array(await crypto.subtle.digest(alg, bytes));
  return `${alg.replace('-', '').toLowerCase()}-${Buffer.from(d).toString('base64')}`;
}
