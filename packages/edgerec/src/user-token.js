// "edgerec/user-token": mints the per-user tokens that `edgerec serve` and the edgerec Worker
// accept on GET /users/{userId}/profile. For a storefront's backend (Node ≥ 20, workerd, Deno,
// Bun: anything with WebCrypto); the secret must never reach a browser. No wasm is loaded.
//
//   v1.<base64url(userId)>.<expiry>.<base64url(HMAC-SHA256(secret, "edgerec-user-token\nv1\n" + userId + "\n" + expiry))>

const PREFIX = 'edgerec-user-token\nv1\n';
const MIN_SECRET_BYTES = 16;
const MAX_ID_CHARS = 256;

function invalid(message) {
  const e = new Error(message);
  e.name = 'InvalidInputException';
  e.code = 'InvalidInputException';
  return e;
}

function base64url(bytes) {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function secretBytes(secret) {
  const bytes = typeof secret === 'string' ? new TextEncoder().encode(secret) : secret;
  if (!(bytes instanceof Uint8Array)) throw invalid('secret: must be a string or a Uint8Array');
  if (bytes.length < MIN_SECRET_BYTES) throw invalid(`secret: must be at least ${MIN_SECRET_BYTES} bytes`);
  return bytes;
}

/**
 * A token for `userId`, valid until `expiresAt` (Unix seconds) or for `ttlSeconds` (default
 * 3600) from `now` (milliseconds, default `Date.now()`).
 */
export async function mintUserToken({ secret, userId, ttlSeconds = 3600, expiresAt, now = Date.now() } = {}) {
  const key = secretBytes(secret);
  if (typeof userId !== 'string' || userId.length === 0 || [...userId].length > MAX_ID_CHARS) {
    throw invalid(`userId: must be 1 to ${MAX_ID_CHARS} characters`);
  }
  let expiry = expiresAt;
  if (expiry === undefined) {
    if (!Number.isSafeInteger(ttlSeconds) || ttlSeconds <= 0) throw invalid('ttlSeconds: must be a positive whole number');
    expiry = Math.floor(now / 1000) + ttlSeconds;
  }
  if (!Number.isSafeInteger(expiry) || expiry < 0) throw invalid('expiresAt: must be Unix seconds (a non-negative whole number)');
  const hmac = await crypto.subtle.importKey('raw', key, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const tag = await crypto.subtle.sign('HMAC', hmac, new TextEncoder().encode(`${PREFIX}${userId}\n${expiry}`));
  return `v1.${base64url(new TextEncoder().encode(userId))}.${expiry}.${base64url(new Uint8Array(tag))}`;
}
