// CORS: the ALLOWED_ORIGINS allowlist, preflights with the headers the npm package and the AWS
// SDK send, Vary: Origin, exposed headers, and nothing for a refused origin.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BEARER_READS, call, goldenModel, startWorker } from './support.mjs';

const SHOP = 'https://shop.example.com';
const EVIL = 'https://shop.example.com.evil.test';

async function withWorker(vars, fn) {
  const mf = await startWorker({ model: goldenModel(), vars: { ...BEARER_READS, ...vars } });
  try {
    return await fn(mf);
  } finally {
    await mf.dispose();
  }
}

const preflight = (mf, route, origin, method = 'POST', headers = 'authorization, content-type, x-amz-date, x-amz-security-token, x-amz-user-agent, amz-sdk-invocation-id, amz-sdk-request, if-none-match') =>
  mf.dispatchFetch(`http://localhost${route}`, {
    method: 'OPTIONS',
    headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': headers },
  });

const CORS_HEADERS = ['access-control-allow-origin', 'access-control-allow-methods', 'access-control-allow-headers', 'access-control-expose-headers'];

test('preflight from an allowed origin: the SDK\'s and the package\'s methods and headers', async () => {
  await withWorker({ ALLOWED_ORIGINS: `${SHOP}, https://m.example.com` }, async (mf) => {
    for (const route of ['/recommendations', '/personalize-ranking', '/events', '/items', '/model']) {
      const r = await preflight(mf, route, SHOP);
      assert.equal(r.status, 204, `${route}: ${await r.text()}`);
      assert.equal(r.headers.get('access-control-allow-origin'), SHOP);
      assert.match(r.headers.get('access-control-allow-methods'), /\bPOST\b/);
      assert.match(r.headers.get('access-control-allow-methods'), /\bGET\b/);
      const allowed = r.headers.get('access-control-allow-headers').split(',').map((s) => s.trim());
      for (const h of ['authorization', 'content-type', 'if-none-match', 'x-amz-date', 'x-amz-security-token', 'x-amz-content-sha256', 'x-amz-user-agent', 'amz-sdk-invocation-id', 'amz-sdk-request']) {
        assert.ok(allowed.includes(h), `${h} in ${allowed}`);
      }
      assert.match(r.headers.get('vary'), /Origin/);
      assert.ok(Number(r.headers.get('access-control-max-age')) > 0);
      assert.equal(r.headers.get('access-control-allow-credentials'), null, 'no cookies');
    }
    // Every path answers preflights, so routes added later need nothing of their own.
    assert.equal((await preflight(mf, '/users/alice/profile', SHOP, 'GET', 'authorization')).status, 204);
    // Any x-amz-* header the SDK may add is allowed too.
    const extra = await preflight(mf, '/recommendations', SHOP, 'POST', 'x-amz-checksum-crc32');
    assert.equal(extra.status, 204);
    assert.match(extra.headers.get('access-control-allow-headers'), /x-amz-checksum-crc32/);
  });
});

test('a refused origin gets no CORS headers, and its preflight a 403', async () => {
  await withWorker({ ALLOWED_ORIGINS: SHOP }, async (mf) => {
    for (const origin of [EVIL, 'http://shop.example.com', 'null', 'https://example.com']) {
      const r = await preflight(mf, '/recommendations', origin);
      assert.equal(r.status, 403, origin);
      for (const h of CORS_HEADERS) assert.equal(r.headers.get(h), null, `${origin}: ${h}`);
      const a = await call(mf, '/recommendations', { recommender: 'best-sellers', numResults: 3 }, { origin });
      assert.equal(a.status, 200, 'the request itself is answered (servers are not browsers)');
      for (const h of CORS_HEADERS) assert.equal(a.headers.get(h), null, `${origin}: ${h}`);
      assert.match(a.headers.get('vary'), /Origin/, 'caches key on Origin');
    }
    // A header the Worker does not take, or a method it does not serve.
    assert.equal((await preflight(mf, '/recommendations', SHOP, 'POST', 'authorization, cookie')).status, 403);
    assert.equal((await preflight(mf, '/recommendations', SHOP, 'DELETE')).status, 403);
  });
});

test('answers to an allowed origin carry the CORS headers, errors and 304s included', async () => {
  await withWorker({ ALLOWED_ORIGINS: SHOP }, async (mf) => {
    const body = { recommender: 'best-sellers', numResults: 3 };
    const ok = await call(mf, '/recommendations', body, { origin: SHOP });
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.get('access-control-allow-origin'), SHOP);
    const exposed = ok.headers.get('access-control-expose-headers').split(',').map((s) => s.trim());
    for (const h of ['etag', 'x-amzn-errortype', 'x-amzn-requestid', 'x-edgerec-experiment', 'x-edgerec-variant']) assert.ok(exposed.includes(h), h);
    assert.match(ok.headers.get('vary'), /Origin/);
    const notModified = await call(mf, '/recommendations', body, { origin: SHOP, 'if-none-match': ok.headers.get('etag') });
    assert.equal(notModified.status, 304);
    assert.equal(notModified.headers.get('access-control-allow-origin'), SHOP);
    const denied = await call(mf, '/recommendations', { recommender: 'recommended-for-you', userId: 'u1' }, { origin: SHOP, authorization: undefined });
    assert.equal(denied.status, 403);
    assert.equal(denied.headers.get('access-control-allow-origin'), SHOP, 'the page can read the error');
    assert.equal(denied.headers.get('x-amzn-errortype'), 'MissingAuthenticationTokenException');
    const model = await mf.dispatchFetch('http://localhost/model', { headers: { origin: SHOP } });
    assert.equal(model.headers.get('access-control-allow-origin'), SHOP);
    await model.arrayBuffer();
  });
});

test('no ALLOWED_ORIGINS: no CORS at all; "*" only when set explicitly', async () => {
  await withWorker({}, async (mf) => {
    const r = await preflight(mf, '/recommendations', SHOP);
    assert.equal(r.status, 403);
    const a = await call(mf, '/recommendations', { recommender: 'best-sellers' }, { origin: SHOP });
    for (const h of CORS_HEADERS) assert.equal(a.headers.get(h), null, h);
    assert.doesNotMatch(a.headers.get('vary') ?? '', /Origin/);
  });
  await withWorker({ ALLOWED_ORIGINS: '*' }, async (mf) => {
    const r = await preflight(mf, '/recommendations', EVIL);
    assert.equal(r.status, 204);
    assert.equal(r.headers.get('access-control-allow-origin'), '*');
    const a = await call(mf, '/recommendations', { recommender: 'best-sellers' }, { origin: EVIL });
    assert.equal(a.headers.get('access-control-allow-origin'), '*');
  });
});
