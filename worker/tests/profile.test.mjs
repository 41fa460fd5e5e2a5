// GET /users/{userId}/profile in workerd: 401 without a token; 403 for a forged, expired,
// malformed or another user's token (and while USER_TOKEN_SECRET is unset); 404 for a user the
// model does not know; else that user's profile — the same bytes as the native engine cuts,
// which make the public model answer the user as the private one does in the npm package.
// Tokens are minted with the package's server-side helper (WebCrypto), checked by the Rust one.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { VARS, goldenDir, goldenModel, startWorker } from './support.mjs';

const USER_SECRET = 'worker-user-token-secret-0123';
const pkg = process.env.EDGEREC_NPM_PACKAGE;
const fixture = JSON.parse(fs.readFileSync(path.join(goldenDir, 'profiles/profiles.json'), 'utf8'));

let mf;
let closed;
let mintUserToken;
let Recommender;
before(async () => {
  ({ mintUserToken } = await import(pathToFileURL(path.join(pkg, 'dist/user-token.js')).href));
  ({ Recommender } = await import(pathToFileURL(path.join(pkg, 'dist/node.js')).href));
  mf = await startWorker({ model: goldenModel(), vars: { ...VARS, USER_TOKEN_SECRET: USER_SECRET } });
  closed = await startWorker({ model: goldenModel(), vars: VARS });
});
after(async () => {
  await mf?.dispose();
  await closed?.dispose();
});

async function get(worker, route, token, method = 'GET') {
  const headers = token === undefined ? {} : { authorization: `Bearer ${token}` };
  const res = await worker.dispatchFetch(`http://localhost${route}`, { method, headers });
  const body = new Uint8Array(await res.arrayBuffer());
  let json = null;
  try {
    json = JSON.parse(new TextDecoder().decode(body));
  } catch {
    json = null;
  }
  return { status: res.status, headers: res.headers, body, json };
}

const token = (userId, ttlSeconds = 600, secret = USER_SECRET) => mintUserToken({ secret, userId, ttlSeconds });

test('no token is 401; a wrong, expired, forged or malformed one is 403', async () => {
  const r = await get(mf, '/users/u1/profile');
  assert.equal(r.status, 401);
  assert.equal(r.json.__type, 'UnauthorizedException');
  assert.equal(r.headers.get('x-amzn-errortype'), 'UnauthorizedException');
  assert.equal(r.headers.get('www-authenticate'), 'Bearer');
  const refused = [
    [await token('u2'), /another user/],
    [await mintUserToken({ secret: USER_SECRET, userId: 'u1', expiresAt: Math.floor(Date.now() / 1000) - 1 }), /expired/],
    [await token('u1', 600, 'another-secret-0123456789'), /signature/],
    [(await token('u1')).replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')), /signature/],
    [VARS.API_TOKEN, /malformed/],
  ];
  for (const [t, says] of refused) {
    const r = await get(mf, '/users/u1/profile', t);
    assert.equal(r.status, 403, t);
    assert.equal(r.json.__type, 'AccessDeniedException');
    assert.match(r.json.message, says);
  }
  const off = await get(closed, '/users/u1/profile', await token('u1'));
  assert.equal(off.status, 403);
  assert.match(off.json.message, /USER_TOKEN_SECRET is not set/);
  assert.equal((await get(mf, '/users/u1/profile', await token('u1'), 'POST')).status, 405);
});

test('a valid token for an unknown user is 404', async () => {
  const r = await get(mf, '/users/stranger/profile', await token('stranger'));
  assert.equal(r.status, 404);
  assert.equal(r.json.__type, 'ResourceNotFoundException');
});

test('the profile: the native engine\'s bytes, private and uncached, and the private answers in the package', async () => {
  const priv = Recommender.fromBytesSync(goldenModel());
  const pub = Recommender.fromBytesSync(fs.readFileSync(path.join(goldenDir, 'profiles/public.erm')));
  for (const userId of ['u0', 'u1', 'u42']) {
    // %75 is "u": the id is percent-decoded
    const r = await get(mf, `/users/%75${userId.slice(1)}/profile`, await token(userId));
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.equal(r.headers.get('content-type'), 'application/octet-stream');
    assert.equal(r.headers.get('cache-control'), 'private, no-store');
    assert.equal(r.headers.get('x-edgerec-model-version'), '1');
    assert.equal(Buffer.from(r.body).toString('hex'), fixture.profiles[userId]);
    assert.equal(pub.loadUserProfile(r.body), userId);
    for (const recommender of ['recommended-for-you', 'ranking', 'also-viewed']) {
      const req = { recommender, userId, numResults: 25, recommendationId: 'rid' };
      assert.deepEqual(pub.getRecommendations(req), priv.getRecommendations(req), `${userId} ${recommender}`);
    }
  }
  priv.free();
  pub.free();
});
