// User profiles through the package: a model without anyone's personal data plus one user's
// profile answers that user exactly as the private model does (every user of the golden
// fixture, every factor and neighbour recommender, top-25 with scores, filters, ranking); bad,
// truncated and mismatched profiles are refused with typed errors and change nothing; a profile
// survives an engine restart; the token helper mints the documented layout.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Recommender } from 'edgerec';
import { mintUserToken } from 'edgerec/user-token';
import { golden, goldenDir } from './helpers.mjs';

// Not an entry point of the package: the module behind them, for what only tests may do.
const { rawForTests } = await import(new URL('./api.js', import.meta.resolve('edgerec')).href);

const dir = path.join(goldenDir, 'profiles');
const fixture = JSON.parse(fs.readFileSync(path.join(dir, 'profiles.json'), 'utf8'));
const publicBytes = new Uint8Array(fs.readFileSync(path.join(dir, 'public.erm')));
const profile = (userId) => Uint8Array.from(Buffer.from(fixture.profiles[userId], 'hex'));
const items = Array.from({ length: 30 }, (_, i) => `i${String(i).padStart(2, '0')}`);

/** Everything compared for one user: each personal recommender's top 25 (plain and filtered) and ranking. */
function answers(rec, userId) {
  const out = [];
  for (const r of rec.info().recommenders) {
    if (r.recipe === 'popularity-count') continue;
    const base = { recommender: r.name, userId, numResults: 25, recommendationId: 'rid' };
    out.push(rec.getRecommendations(base));
    out.push(rec.getRecommendations({ ...base, filter: 'EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("purchase")' }));
    out.push(rec.getRecommendations({ ...base, filter: 'INCLUDE ItemID WHERE Items.CATEGORY IN ("garden")' }));
    if (r.recipe === 'user-personalization' || r.recipe === 'personalized-ranking') {
      out.push(rec.getPersonalizedRanking({ recommender: r.name, userId, inputList: items, recommendationId: 'rid' }));
    }
  }
  return out;
}

test('every user: the public model plus their profile answers as the private model', () => {
  const priv = Recommender.fromBytesSync(golden().bytes);
  const pub = Recommender.fromBytesSync(publicBytes);
  assert.equal(pub.info().users, 0);
  const users = Object.keys(fixture.profiles);
  assert.equal(users.length, 60);
  let differed = 0;
  for (const userId of users) {
    const want = answers(priv, userId);
    assert.ok(want.some((a) => typeof a.itemList?.[0]?.score === 'number'), 'scores are compared');
    try {
      assert.deepEqual(answers(pub, userId), want);
    } catch {
      differed += 1;
    }
    assert.equal(pub.loadUserProfile(profile(userId)), userId);
    assert.deepEqual(answers(pub, userId), want, userId);
  }
  assert.ok(differed >= 55, `only ${differed} users differed before their profile was loaded`);
  assert.equal(pub.info().users, 60);
  priv.free();
  pub.free();
});

test('bad, truncated and mismatched profiles are refused with typed errors and change nothing', () => {
  const pub = Recommender.fromBytesSync(publicBytes);
  const good = profile('u7');
  const refused = (bytes, code, says) =>
    assert.throws(() => pub.loadUserProfile(bytes), (e) => {
      assert.equal(e.code, code);
      assert.equal(e.name, code);
      if (says) assert.match(e.message, says);
      return true;
    });
  for (let n = 0; n < good.length; n += 7) refused(good.subarray(0, n), 'UserProfileFormatError');
  const flipped = good.slice();
  flipped[40] ^= 0xff;
  refused(flipped, 'UserProfileFormatError', /checksum/);
  refused(publicBytes, 'UserProfileFormatError', /not an edgerec user profile/);
  assert.throws(() => pub.loadUserProfile('u7'), { code: 'InvalidInputException' });
  // The same user's profile for another model (another training run).
  const other = Recommender.fromBytesSync(new Uint8Array(fs.readFileSync(path.join(goldenDir, 'content-v1.erm'))));
  const otherUsers = other.info().users;
  assert.throws(() => other.loadUserProfile(good), (e) => {
    assert.equal(e.code, 'UserProfileMismatchError');
    assert.match(e.message, /fetch the profile again/);
    return true;
  });
  assert.equal(pub.info().users, 0);
  assert.equal(other.info().users, otherUsers);
  // An ArrayBuffer works too.
  assert.equal(pub.loadUserProfile(good.slice().buffer), 'u7');
  other.free();
  pub.free();
});

test('a loaded profile survives an engine restart', () => {
  const priv = Recommender.fromBytesSync(golden().bytes);
  const pub = Recommender.fromBytesSync(publicBytes);
  pub.loadUserProfile(profile('u12'));
  const want = answers(priv, 'u12');
  // A real trap (the engine object pointed outside wasm memory) restarts the module, and every
  // engine is rebuilt from its model bytes, this one with the profile loaded into it.
  rawForTests(priv).__wbg_ptr = 0xfffffff0;
  assert.throws(() => priv.info(), { code: 'InternalError' });
  assert.deepEqual(answers(pub, 'u12'), want, 'rebuilt with the profile');
  priv.free();
  pub.free();
});

test('mintUserToken: the documented layout, signed with HMAC-SHA256', async () => {
  const secret = 'storefront-secret-0123456789';
  const token = await mintUserToken({ secret, userId: 'ann@example.com', ttlSeconds: 60, now: 1_700_000_000_000 });
  const [v, user, expiry, tag] = token.split('.');
  assert.equal(v, 'v1');
  assert.equal(Buffer.from(user, 'base64url').toString('utf8'), 'ann@example.com');
  assert.equal(expiry, '1700000060');
  const mac = crypto.createHmac('sha256', secret).update('edgerec-user-token\nv1\nann@example.com\n1700000060').digest('base64url');
  assert.equal(tag, mac);
  assert.equal((await mintUserToken({ secret, userId: 'u1', expiresAt: 42 })).split('.')[2], '42');
  await assert.rejects(mintUserToken({ secret: 'short', userId: 'u1' }), { code: 'InvalidInputException' });
  await assert.rejects(mintUserToken({ secret, userId: '' }), { code: 'InvalidInputException' });
  await assert.rejects(mintUserToken({ secret, userId: 'u1', ttlSeconds: -5 }), { code: 'InvalidInputException' });
});
