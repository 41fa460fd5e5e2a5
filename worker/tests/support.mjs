// What the Worker tests share: the golden fixture, a Worker in Miniflare, JSON calls.
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import { tool } from '../js/local.mjs';

export { startWorker, publish, tool } from '../js/local.mjs';

export const goldenDir = process.env.EDGEREC_GOLDEN_DIR;
export const goldenModel = () => fs.readFileSync(path.join(goldenDir, 'model-v1.erm'));
/** The golden model's public profile (`edgerec export --profile public`, made by `cargo xtask worker test`). */
export const goldenPublicModel = () => fs.readFileSync(process.env.EDGEREC_GOLDEN_PUBLIC_MODEL);
export const goldenCases = () => JSON.parse(fs.readFileSync(path.join(goldenDir, 'model-v1.expected.json'), 'utf8'));

export const TOKEN = 'test-write-token';
export const READ = 'test-read-token';
export const ADMIN = 'test-admin-token';
export const KEY_ID = 'AKIDEDGERECTEST';
export const SECRET = 'edgerec-test-secret-key';
/** The credentials of every test Worker; reads are signed with SigV4 (the default READ_AUTH). */
export const VARS = {
  API_TOKEN: TOKEN,
  READ_TOKEN: READ,
  ADMIN_TOKEN: ADMIN,
  SIGV4_ACCESS_KEY_ID: KEY_ID,
  SIGV4_SECRET_ACCESS_KEY: SECRET,
};
/** VARS for tests that read with the service bearer token (`call` sends it on read routes). */
export const BEARER_READS = { ...VARS, READ_AUTH: 'bearer' };

export const auth = { authorization: `Bearer ${TOKEN}` };
export const reader = { authorization: `Bearer ${READ}` };
/** Headers for a request without credentials (`call` adds none). */
export const anonymous = { authorization: undefined };

const READ_ROUTES = /^\/(recommendations|personalize-ranking)(\?|$)/;

/**
 * POSTs JSON (or a string as is), or GETs when `body` is undefined; returns { status, headers,
 * body (parsed JSON or null) }. Read routes carry the service read token unless `headers` sets
 * `authorization` (`undefined` sends none).
 */
export async function call(mf, route, body, headers = {}) {
  const h = { ...(READ_ROUTES.test(route) && !('authorization' in headers) ? reader : {}), ...headers };
  for (const k of Object.keys(h)) if (h[k] === undefined) delete h[k];
  headers = h;
  const init = body === undefined
    ? { method: 'GET', headers }
    : { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) };
  const res = await mf.dispatchFetch(`http://localhost${route}`, init);
  const text = await res.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = text;
  }
  return { status: res.status, headers: res.headers, body: json };
}

/** The secret per-user tokens are signed with in the tests (`USER_TOKEN_SECRET`). */
export const USER_SECRET = 'test-user-token-secret';

/**
 * A per-user token as a storefront backend mints it:
 * `v1.<base64url(userId)>.<expiry>.<base64url(HMAC-SHA256(secret, "edgerec-user-token\nv1\n" + userId + "\n" + expiry))>`.
 */
export function userToken(userId, { secret = USER_SECRET, ttl = 3600, expiry } = {}) {
  const exp = String(expiry ?? Math.floor(Date.now() / 1000) + ttl);
  const mac = crypto.createHmac('sha256', secret).update(`edgerec-user-token\nv1\n${userId}\n${exp}`).digest('base64url');
  return `v1.${Buffer.from(userId, 'utf8').toString('base64url')}.${exp}.${mac}`;
}

/** SHA-256 in the shape @smithy/signature-v4 takes (HMAC when constructed with a secret). */
class NodeSha256 {
  constructor(secret) {
    this.h = secret ? crypto.createHmac('sha256', secret) : crypto.createHash('sha256');
  }
  update(data) {
    this.h.update(typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
  }
  async digest() {
    return new Uint8Array(this.h.digest());
  }
}

/**
 * Signs a request with AWS's own SigV4 signer (@smithy/signature-v4, what the SDK clients use)
 * and sends it over real HTTP; POSTs JSON when `body` is given, GETs otherwise. `credentials`
 * defaults to the test key; `sign` is passed to `signer.sign` (e.g. `unsignableHeaders`);
 * `tamper(headers)` may change the signed request before it is sent. Returns what `call` does.
 */
export async function signedFetch(mf, route, body, { credentials = { accessKeyId: KEY_ID, secretAccessKey: SECRET }, sign = {}, headers = {}, tamper, sendBody } = {}) {
  const { SignatureV4 } = await tool('@smithy/signature-v4');
  const url = new URL(route, (await mf.ready).href);
  const text = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
  const request = {
    method: body === undefined ? 'GET' : 'POST',
    protocol: url.protocol,
    hostname: url.hostname,
    port: Number(url.port),
    path: url.pathname,
    query: Object.fromEntries(url.searchParams),
    headers: { host: url.host, ...(text === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    body: text,
  };
  const signer = new SignatureV4({ credentials, region: 'eu-west-1', service: 'personalize', sha256: NodeSha256 });
  const out = await signer.sign(request, sign);
  const sent = { ...out.headers };
  delete sent.host;
  if (tamper) tamper(sent);
  const res = await fetch(url, { method: request.method, headers: sent, body: sendBody ?? text });
  const textOut = await res.text();
  let json = null;
  try {
    json = textOut ? JSON.parse(textOut) : null;
  } catch {
    json = textOut;
  }
  return { status: res.status, headers: res.headers, body: json };
}

/** The item ids of a GetRecommendations / GetPersonalizedRanking answer. */
export const ids = (resp) => (resp.itemList ?? resp.personalizedRanking).map((p) => p.itemId);

/** Drops `recommendationId`, which is random per request. */
export function withoutRid(resp) {
  const { recommendationId: _, ...rest } = resp;
  return rest;
}

/** The admin token of the sync servers the tests start (`/health` details need it). */
export const SYNC_ADMIN = 'sync-admin-token';

/** Starts `edgerec serve` (on a free port unless `listen` is given); resolves to { url, child, stop }. */
export async function startSyncServer(dataDir, token, listen = '127.0.0.1:0') {
  const child = spawn(process.env.EDGEREC_BIN, ['serve', '--data-dir', dataDir, '--listen', listen, '--write-token', token, '--admin-token', SYNC_ADMIN], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  const url = await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/listening on (\S+)/);
      if (m) resolve(`http://${m[1]}`);
    });
    child.on('exit', (code) => reject(new Error(`edgerec serve exited (${code}): ${err}`)));
  });
  return {
    url,
    child,
    stop: () => new Promise((r) => { child.once('exit', r); child.kill('SIGTERM'); }),
  };
}

/** Polls `fn` until it returns a truthy value or `ms` pass. */
export async function eventually(fn, ms = 10000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
}
