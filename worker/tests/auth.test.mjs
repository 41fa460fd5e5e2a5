// Who may read what: READ_AUTH (sigv4 | bearer | none), PUBLIC_READS, per-user tokens, filters by
// name only, Interactions/CurrentUser filters that see only the request's own user, the
// exfiltration request of issue 19 under every mode, and reads for unknown users that create no
// Durable Object. The model is trained here from a small dataset where alice and bob interact
// with disjoint items, so any leak of bob's history into alice's answers shows.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { READ, VARS, anonymous, auth, call, ids, reader, signedFetch, startWorker, userToken, USER_SECRET } from './support.mjs';

const ALICE_BOUGHT = ['a01', 'a02', 'a03'];
const ALICE_SEEN = ['a01', 'a02', 'a03', 'a04', 'a05', 'a06'];
const BOB_ITEMS = ['b01', 'b02', 'b03', 'b04', 'b05', 'b06'];

let dir;
let model;
before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edgerec-worker-auth-'));
  const items = ['ITEM_ID,CATEGORY'];
  for (const [p, cat] of [['a', 'alpha'], ['b', 'beta'], ['c', 'gamma']]) {
    for (let i = 1; i <= 10; i++) items.push(`${p}${String(i).padStart(2, '0')},${cat}`);
  }
  const users = ['USER_ID,TIER', 'alice,gold', 'bob,silver'];
  const rows = ['USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE'];
  let t = 1_700_000_000;
  const add = (u, item, type) => rows.push(`${u},${item},${t++},${type}`);
  for (const i of ALICE_SEEN) add('alice', i, 'view');
  for (const i of ALICE_BOUGHT) add('alice', i, 'purchase');
  for (const i of BOB_ITEMS) add('bob', i, 'view');
  for (const i of BOB_ITEMS.slice(0, 3)) add('bob', i, 'purchase');
  // Filler users over every category, so every recommender has something to learn.
  for (let u = 0; u < 40; u++) {
    users.push(`f${u},${u % 2 ? 'gold' : 'silver'}`);
    const p = 'abc'[u % 3];
    for (let k = 0; k < 8; k++) add(`f${u}`, `${p}${String(1 + ((u + k * 3) % 10)).padStart(2, '0')}`, k % 4 === 3 ? 'purchase' : 'view');
  }
  fs.writeFileSync(path.join(dir, 'items.csv'), `${items.join('\n')}\n`);
  fs.writeFileSync(path.join(dir, 'users.csv'), `${users.join('\n')}\n`);
  fs.writeFileSync(path.join(dir, 'interactions.csv'), `${rows.join('\n')}\n`);
  fs.writeFileSync(path.join(dir, 'edgerec.toml'), `
[recommenders]
recommended-for-you = "user-personalization (factors=8, iterations=5)"
ranking = "personalized-ranking (factors=8, iterations=5)"
also-viewed = "sims (minCointeractionCount=1)"
best-sellers = "popularity-count"

[filters]
bought = 'INCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("purchase")'
seen = 'INCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ($TYPES)'
not-for-silver = 'EXCLUDE ItemID WHERE Items.CATEGORY IN ("gamma") IF CurrentUser.TIER IN ("silver")'
beta = 'INCLUDE ItemID WHERE Items.CATEGORY IN ("beta")'
`);
  execFileSync(process.env.EDGEREC_BIN, [
    'train', '--interactions', path.join(dir, 'interactions.csv'), '--items', path.join(dir, 'items.csv'),
    '--users', path.join(dir, 'users.csv'), '--config', path.join(dir, 'edgerec.toml'), '--output', path.join(dir, 'auth.erm'),
  ], { stdio: 'pipe' });
  model = fs.readFileSync(path.join(dir, 'auth.erm'));
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Runs `fn(worker)` against a Worker with these settings. */
async function withWorker(vars, fn, options = {}) {
  const mf = await startWorker({ model, vars: { ...VARS, USER_TOKEN_SECRET: USER_SECRET, ...vars }, ...options });
  try {
    return await fn(mf);
  } finally {
    await mf.dispose();
  }
}

function assertError(r, status, type) {
  assert.equal(r.status, status, JSON.stringify(r.body));
  assert.equal(r.headers.get('x-amzn-errortype'), type);
  assert.equal(r.body.__type, type);
  assert.equal(typeof r.body.message, 'string');
}

const rec = (extra) => ({ recommender: 'recommended-for-you', numResults: 25, ...extra });
/** The request of issue 19: someone else's whole history through an ad-hoc Interactions filter. */
// (best-sellers: a list that keeps the user's own items, so the filter leaves exactly bob's.)
const EXFILTRATION = { campaignArn: 'arn:aws:personalize:::campaign/best-sellers', userId: 'bob', filter: 'INCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("*")', numResults: 500 };

test('the exfiltration request under each READ_AUTH mode', async () => {
  const as = { alice: { authorization: `Bearer ${userToken('alice')}` }, bob: { authorization: `Bearer ${userToken('bob')}` } };
  // Default settings (READ_AUTH=sigv4, filters by name only).
  await withWorker({}, async (mf) => {
    assertError(await call(mf, '/recommendations', EXFILTRATION, anonymous), 403, 'MissingAuthenticationTokenException');
    assertError(await call(mf, '/recommendations', EXFILTRATION, reader), 403, 'UnrecognizedClientException');
    assertError(await call(mf, '/recommendations', EXFILTRATION, as.alice), 403, 'AccessDeniedException');
    // Even the service's own signature cannot send an ad-hoc expression.
    assertError(await signedFetch(mf, '/recommendations', EXFILTRATION), 400, 'InvalidInputException');
    // The same through GET.
    const q = `/recommendations?campaignArn=${encodeURIComponent(EXFILTRATION.campaignArn)}&userId=bob&numResults=500&filter=${encodeURIComponent(EXFILTRATION.filter)}`;
    assertError(await call(mf, q, undefined, anonymous), 403, 'MissingAuthenticationTokenException');
    assertError(await signedFetch(mf, q), 400, 'InvalidInputException');
  });
  await withWorker({ PUBLIC_READS: 'true' }, async (mf) => {
    assertError(await call(mf, '/recommendations', EXFILTRATION, anonymous), 403, 'MissingAuthenticationTokenException');
  });
  await withWorker({ READ_AUTH: 'bearer' }, async (mf) => {
    assertError(await call(mf, '/recommendations', EXFILTRATION, anonymous), 403, 'MissingAuthenticationTokenException');
    assertError(await call(mf, '/recommendations', EXFILTRATION, { authorization: 'Bearer guess' }), 403, 'UnrecognizedClientException');
    // The write token does not read.
    assertError(await call(mf, '/recommendations', EXFILTRATION, auth), 403, 'UnrecognizedClientException');
    assertError(await call(mf, '/recommendations', EXFILTRATION, as.alice), 403, 'AccessDeniedException');
    assertError(await call(mf, '/recommendations', EXFILTRATION, reader), 400, 'InvalidInputException');
  });
  await withWorker({ READ_AUTH: 'none', ALLOW_FILTER_EXPRESSIONS: 'true' }, async (mf) => {
    assertError(await call(mf, '/recommendations', EXFILTRATION, anonymous), 403, 'MissingAuthenticationTokenException');
    assertError(await call(mf, '/recommendations', EXFILTRATION, as.alice), 403, 'AccessDeniedException');
    // Bob himself may see his own history.
    const own = await call(mf, '/recommendations', EXFILTRATION, as.bob);
    assert.equal(own.status, 200, JSON.stringify(own.body));
    assert.deepEqual(new Set(ids(own.body)), new Set(BOB_ITEMS));
  });
  // With ad-hoc expressions allowed, the only caller that gets bob's items is one with service
  // credentials (trusted as Personalize trusts an IAM principal) or bob's own token.
  await withWorker({ ALLOW_FILTER_EXPRESSIONS: 'true' }, async (mf) => {
    assertError(await call(mf, '/recommendations', EXFILTRATION, anonymous), 403, 'MissingAuthenticationTokenException');
    assertError(await call(mf, '/recommendations', EXFILTRATION, as.alice), 403, 'AccessDeniedException');
    const service = await signedFetch(mf, '/recommendations', EXFILTRATION);
    assert.equal(service.status, 200, JSON.stringify(service.body));
    assert.deepEqual(new Set(ids(service.body)), new Set(BOB_ITEMS));
  });
});

test('PUBLIC_READS opens reads that name no user, and only those', async () => {
  const anon = { recommender: 'best-sellers', numResults: 5 };
  const related = { recommender: 'also-viewed', itemId: 'a01', numResults: 5 };
  await withWorker({}, async (mf) => {
    assertError(await call(mf, '/recommendations', anon, anonymous), 403, 'MissingAuthenticationTokenException');
    assertError(await call(mf, '/recommendations?recommender=best-sellers', undefined, anonymous), 403, 'MissingAuthenticationTokenException');
    assert.equal((await signedFetch(mf, '/recommendations', anon)).status, 200);
  });
  await withWorker({ PUBLIC_READS: 'true' }, async (mf) => {
    for (const body of [anon, related]) {
      const r = await call(mf, '/recommendations', body, anonymous);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.match(r.headers.get('cache-control'), /^public/);
    }
    assert.equal((await call(mf, '/recommendations?recommender=best-sellers&numResults=3', undefined, anonymous)).status, 200);
    assertError(await call(mf, '/recommendations', rec({ userId: 'alice' }), anonymous), 403, 'MissingAuthenticationTokenException');
    assertError(await call(mf, '/personalize-ranking', { recommender: 'ranking', userId: 'alice', inputList: ['a01'] }, anonymous), 403, 'MissingAuthenticationTokenException');
    // A presented credential is checked even where none is needed.
    assertError(await call(mf, '/recommendations', anon, { authorization: 'Bearer wrong' }), 403, 'UnrecognizedClientException');
  });
  await withWorker({ READ_AUTH: 'none' }, async (mf) => {
    assert.equal((await call(mf, '/recommendations', anon, anonymous)).status, 200);
    assertError(await call(mf, '/recommendations', rec({ userId: 'alice' }), anonymous), 403, 'MissingAuthenticationTokenException');
    assert.equal((await call(mf, '/recommendations', rec({ userId: 'alice' }), reader)).status, 200);
  });
  await withWorker({ PUBLIC_READS: 'yes' }, async (mf) => {
    const r = await call(mf, '/recommendations', anon, anonymous);
    assertError(r, 500, 'InternalFailure');
    assert.match(r.body.message, /PUBLIC_READS/);
  });
  await withWorker({ READ_AUTH: 'open' }, async (mf) => {
    const r = await signedFetch(mf, '/recommendations', anon);
    assertError(r, 500, 'InternalFailure');
    assert.match(r.body.message, /READ_AUTH/);
  });
});

test('user tokens read their own user only; expired and forged ones are refused', async () => {
  await withWorker({}, async (mf) => {
    const alice = { authorization: `Bearer ${userToken('alice')}` };
    const own = await call(mf, '/recommendations', rec({ userId: 'alice' }), alice);
    assert.equal(own.status, 200, JSON.stringify(own.body));
    assert.equal(own.headers.get('cache-control'), 'private, no-store');
    assert.equal((await call(mf, '/recommendations', { recommender: 'best-sellers' }, alice)).status, 200);
    assertError(await call(mf, '/recommendations', rec({ userId: 'bob' }), alice), 403, 'AccessDeniedException');
    assertError(await call(mf, '/personalize-ranking', { recommender: 'ranking', userId: 'bob', inputList: ['b01'] }, alice), 403, 'AccessDeniedException');
    assertError(await call(mf, '/recommendations', rec({ userId: 'alice' }), { authorization: `Bearer ${userToken('alice', { expiry: 1000 })}` }), 403, 'ExpiredTokenException');
    assertError(await call(mf, '/recommendations', rec({ userId: 'alice' }), { authorization: `Bearer ${userToken('alice', { secret: 'not-the-secret' })}` }), 403, 'UnrecognizedClientException');
    // A user token does not write.
    assertError(await call(mf, '/events', { sessionId: 's', userId: 'alice', eventList: [{ eventType: 'view', itemId: 'a01', sentAt: 1 }] }, alice), 403, 'UnrecognizedClientException');
  });
});

test('filters by name only, unless ALLOW_FILTER_EXPRESSIONS=true', async () => {
  await withWorker({ READ_AUTH: 'bearer' }, async (mf) => {
    const named = await call(mf, '/recommendations', rec({ userId: 'alice', filterArn: 'arn:aws:personalize:::filter/beta' }));
    assert.equal(named.status, 200, JSON.stringify(named.body));
    assert.ok(ids(named.body).every((i) => i.startsWith('b')));
    assert.equal((await call(mf, '/recommendations', rec({ userId: 'alice', filter: 'beta' }))).status, 200, 'a name in `filter` is a named filter');
    const adhoc = await call(mf, '/recommendations', rec({ userId: 'alice', filter: 'INCLUDE ItemID WHERE Items.CATEGORY IN ("beta")' }));
    assertError(adhoc, 400, 'InvalidInputException');
    assert.match(adhoc.body.message, /^filter: .*ALLOW_FILTER_EXPRESSIONS/);
    const promo = { name: 'p', percentPromotedItems: 20, filter: 'INCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("*")' };
    const p = await call(mf, '/recommendations', rec({ userId: 'alice', promotions: [promo] }));
    assertError(p, 400, 'InvalidInputException');
    assert.match(p.body.message, /^promotions\[0\]\.filter/);
    assertError(await call(mf, '/personalize-ranking', { recommender: 'ranking', userId: 'alice', inputList: ['a01'], filter: 'EXCLUDE ItemID WHERE Items.CATEGORY IN ("alpha")' }), 400, 'InvalidInputException');
    assertError(await call(mf, '/recommendations', rec({ userId: 'alice', filterArn: 'arn:aws:personalize:::filter/nope' })), 404, 'ResourceNotFoundException');
  });
  await withWorker({ ALLOW_FILTER_EXPRESSIONS: 'true', READ_AUTH: 'bearer' }, async (mf) => {
    const r = await call(mf, '/recommendations', rec({ userId: 'alice', filter: 'INCLUDE ItemID WHERE Items.CATEGORY IN ("beta")' }), reader);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.ok(ids(r.body).every((i) => i.startsWith('b')));
  });
});

test('Interactions and CurrentUser filters see only the request\'s own user, whatever the parameters', async () => {
  await withWorker({ ALLOW_FILTER_EXPRESSIONS: 'true', READ_AUTH: 'bearer' }, async (mf) => {
    // Bob's live session gains an item that is in no trained history.
    const put = await call(mf, '/events', { sessionId: 'bob-visit', userId: 'bob', eventList: [{ eventType: 'purchase', itemId: 'b07', sentAt: 1_800_000_000 }] }, auth);
    assert.equal(put.status, 200, JSON.stringify(put.body));
    const bobItems = new Set([...BOB_ITEMS, 'b07']);
    // best-sellers keeps a user's own items, so an Interactions filter shows what it sees.
    const rec = (extra) => ({ recommender: 'best-sellers', numResults: 25, ...extra });
    const bobNow = await call(mf, '/recommendations', rec({ userId: 'bob', filterArn: 'arn:aws:personalize:::filter/bought' }));
    assert.deepEqual(new Set(ids(bobNow.body)), new Set(['b01', 'b02', 'b03', 'b07']), 'bob\'s own purchases, the live one included');
    const aliceOwn = await call(mf, '/recommendations', rec({ userId: 'alice', filterArn: 'arn:aws:personalize:::filter/bought' }));
    assert.deepEqual(new Set(ids(aliceOwn.body)), new Set(ALICE_BOUGHT), 'the filter sees alice\'s own purchases');
    // Every way to name bob, his session or his items in a request for alice (or for no one).
    const attempts = [
      rec({ userId: 'alice', filterArn: 'bought' }),
      rec({ userId: 'alice', filter: 'bought', filterValues: { USER: '"bob"', userId: '"bob"' } }),
      rec({ userId: 'alice', filter: 'seen', filterValues: { TYPES: '"view","purchase"' } }),
      rec({ userId: 'alice', filter: 'INCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("*")', numResults: 500 }),
      rec({ userId: 'alice', filter: 'INCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ($T)', filterValues: { T: '"*"' } }),
      rec({ userId: 'alice', filter: 'bought', context: { userId: 'bob', sessionId: 'bob-visit' } }),
      rec({ userId: 'alice', filter: 'bought', promotions: [{ name: 'p', percentPromotedItems: 50, filter: 'INCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("*")' }] }),
      { recommender: 'also-viewed', userId: 'alice', itemId: 'b01', filter: 'bought', numResults: 25 },
      { recommender: 'also-viewed', itemId: 'b01', filter: 'INCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("*")', numResults: 25 },
      rec({ filter: 'INCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("*")' }),
      rec({ userId: 'Alice', filter: 'INCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("*")' }),
      rec({ userId: 'alice ', filter: 'INCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("*")' }),
      rec({ userId: 'bob-visit', filter: 'INCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("*")' }),
    ];
    for (const a of attempts) {
      for (const [route, body] of [['/recommendations', a], ['/personalize-ranking', { ...a, recommender: 'ranking', itemId: undefined, promotions: undefined, numResults: undefined, userId: a.userId ?? 'alice', inputList: [...bobItems, ...ALICE_SEEN] }]]) {
        const r = await call(mf, route, body);
        assert.equal(r.status, 200, `${route} ${JSON.stringify(body)} → ${JSON.stringify(r.body)}`);
        const got = ids(r.body);
        assert.deepEqual(got.filter((i) => bobItems.has(i)), [], `${route} ${JSON.stringify(body)} returned bob's items: ${got}`);
        if (body.userId === 'alice') assert.ok(got.every((i) => ALICE_SEEN.includes(i)), `${route} ${JSON.stringify(body)}: ${got}`);
      }
    }
    // Ranking bob's items for alice under an Interactions filter: none of them survive.
    const rank = await call(mf, '/personalize-ranking', { recommender: 'ranking', userId: 'alice', inputList: [...BOB_ITEMS, 'b07', 'a01'], filter: 'bought' });
    assert.equal(rank.status, 200, JSON.stringify(rank.body));
    assert.deepEqual(ids(rank.body), ['a01']);
    // CurrentUser: bob (silver) never gets gamma items under not-for-silver; alice (gold) may.
    const silver = await call(mf, '/recommendations', rec({ userId: 'bob', filter: 'not-for-silver', numResults: 30 }));
    assert.equal(silver.status, 200);
    assert.ok(ids(silver.body).length > 0 && ids(silver.body).every((i) => !i.startsWith('c')), ids(silver.body).join());
    const gold = await call(mf, '/recommendations', rec({ userId: 'alice', filter: 'not-for-silver', numResults: 30 }));
    assert.ok(ids(gold.body).some((i) => i.startsWith('c')), `alice's own tier applies: ${ids(gold.body)}`);
  });
});

test('reads for users without live state create no Durable Object; a read after PutEvents sees the event', async () => {
  const persist = fs.mkdtempSync(path.join(os.tmpdir(), 'edgerec-worker-do-'));
  try {
    await withWorker({ READ_AUTH: 'bearer' }, async (mf) => {
      // workerd keeps each Durable Object's storage in `<object id>.sqlite`.
      const objects = () => fs.readdirSync(persist, { recursive: true }).filter((f) => /(^|\/)do\/.*\/[0-9a-f]{64}\.sqlite$/.test(f)).length;
      const markers = async () => (await (await mf.getR2Bucket('MODELS')).list({ prefix: 'sessions/' })).objects.length;
      const cold = await call(mf, '/recommendations', rec({ userId: 'nobody-0', numResults: 10 }));
      assert.equal(cold.status, 200);
      for (let i = 0; i < 20; i++) {
        const r = await call(mf, '/recommendations', rec({ userId: `nobody-${i}`, numResults: 10 }));
        assert.equal(r.status, 200);
        assert.equal(r.headers.get('cache-control'), 'private, no-store');
        assert.deepEqual(ids(r.body), ids(cold.body), 'an unknown user gets the new-user answer');
        assert.equal((await call(mf, '/personalize-ranking', { recommender: 'ranking', userId: `nobody-${i}`, inputList: ['a01', 'b01'] })).status, 200);
      }
      assert.equal(objects(), 0, 'no Durable Object for reads of unknown users');
      assert.equal(await markers(), 0);
      // A user of the model without live state is answered from the model too: no object.
      assert.equal((await call(mf, '/recommendations', rec({ userId: 'alice' }))).status, 200);
      assert.equal(objects(), 0, 'no Durable Object for reads of known users without live state');
      // A write creates one and marks the key.
      const put = await call(mf, '/events', { sessionId: 'nobody-3', eventList: [{ eventType: 'view', itemId: 'c01', sentAt: 1 }, { eventType: 'view', itemId: 'c02', sentAt: 2 }] }, auth);
      assert.equal(put.status, 200);
      assert.equal(await markers(), 1);
      assert.equal(objects(), 1, 'the write created the session\'s object');
      const after = await call(mf, '/recommendations', rec({ userId: 'nobody-3', numResults: 10 }));
      assert.notDeepEqual(ids(after.body), ids(cold.body), 'the read right after the write sees the session');
      // A refused write creates nothing.
      const before = objects();
      assert.equal((await call(mf, '/events', { sessionId: 'nobody-9', eventList: [] }, auth)).status, 400);
      assert.equal((await call(mf, '/events', { sessionId: 'nobody-9', eventList: [{ eventType: 'view', sentAt: 1 }] })).status, 403);
      // A logged-in user naming a session id that never had events absorbs nothing and
      // creates no object for it.
      assert.equal((await call(mf, '/events', { sessionId: 'never-seen', userId: 'nobody-4', eventList: [{ eventType: 'view', itemId: 'a01', sentAt: 3 }] }, auth)).status, 200);
      assert.equal(objects(), before + 1);
      assert.equal(await markers(), 2);
    }, { persist });
  } finally {
    fs.rmSync(persist, { recursive: true, force: true });
  }
});
