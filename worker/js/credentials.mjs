// Temporary AWS credentials for the Worker's SigV4 check, minted by a backend that holds the
// Worker's SIGV4_SESSION_SECRET (the scheme is described in worker/README.md and in
// worker/src/sigv4.rs). WebCrypto only: runs in Node 20+, workerd and Deno.
//
//   import { mintSessionCredentials } from './credentials.mjs';
//   const creds = await mintSessionCredentials(process.env.SIGV4_SESSION_SECRET, { ttlSeconds: 900 });
//   new PersonalizeRuntimeClient({ endpoint, region, credentials: creds });
//
// The result has the AWS SDK's credential shape: { accessKeyId, secretAccessKey, sessionToken,
// expiration }.

const TOKEN_PREFIX = 'edgerec-sts1.';
const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

function base64url(bytes) {
  let s = '';
  for (const b of new Uint8Array(bytes)) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

async function hmac(secret, text) {
  const enc = new TextEncoder();
  const key = await crypto.subtle.importKey('raw', enc.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  return base64url(await crypto.subtle.sign('HMAC', key, enc.encode(text)));
}

/**
 * Mints temporary credentials valid for `ttlSeconds` (default 900; the Worker refuses
 * lifetimes above SIGV4_SESSION_MAX_SECONDS, default 12 h). `now` (Unix seconds) is for tests.
 */
export async function mintSessionCredentials(secret, { ttlSeconds = 900, now = Date.now() / 1000 } = {}) {
  if (typeof secret !== 'string' || secret.length === 0) throw new TypeError('secret: the Worker\'s SIGV4_SESSION_SECRET is required');
  if (!Number.isFinite(ttlSeconds) || ttlSeconds <= 0) throw new TypeError('ttlSeconds: must be a positive number');
  const random = crypto.getRandomValues(new Uint8Array(16));
  const accessKeyId = `ASIA${Array.from(random, (b) => BASE32[b & 31]).join('')}`;
  const expiry = String(Math.floor(now + ttlSeconds));
  const mac = await hmac(secret, `edgerec-sigv4-session-token\n${accessKeyId}\n${expiry}`);
  return {
    accessKeyId,
    secretAccessKey: await hmac(secret, `edgerec-sigv4-session-secret\n${accessKeyId}\n${expiry}`),
    sessionToken: `${TOKEN_PREFIX}${accessKeyId}.${expiry}.${mac}`,
    expiration: new Date(Number(expiry) * 1000),
  };
}
