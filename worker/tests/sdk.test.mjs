// The official AWS SDK v3 clients, configured only with an endpoint and credentials, against
// the Worker over real HTTP on loopback; the Worker verifies their SigV4 signatures.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { KEY_ID, SECRET, VARS, call, goldenCases, goldenModel, signedFetch, startWorker, tool, withoutRid } from './support.mjs';

const SESSION_SECRET = 'test-sigv4-session-secret';
const { mintSessionCredentials } = await import(pathToFileURL(path.join(import.meta.dirname, '../js/credentials.mjs')).href);

let mf;
let endpoint;
before(async () => {
  mf = await startWorker({ model: goldenModel(), vars: { ...VARS, SIGV4_SESSION_SECRET: SESSION_SECRET } });
  endpoint = (await mf.ready).href.replace(/\/$/, '');
});
after(() => mf?.dispose());

const config = (secretAccessKey = SECRET, credentials = { accessKeyId: KEY_ID, secretAccessKey }) => ({
  endpoint: () => endpoint,
  region: 'eu-west-1',
  credentials,
  maxAttempts: 1,
});
const arn = (name) => `arn:aws:personalize:eu-west-1:123456789012:campaign/${name}`;

test('GetRecommendations and GetPersonalizedRanking through @aws-sdk/client-personalize-runtime', async () => {
  const rt = await tool('@aws-sdk/client-personalize-runtime');
  const client = new rt.PersonalizeRuntimeClient(config());
  const cases = goldenCases();
  const rec = cases.find((c) => c.op === 'getRecommendations' && c.request.userId === 'u1');
  const out = await client.send(new rt.GetRecommendationsCommand({ campaignArn: arn(rec.request.recommender), userId: 'u1', numResults: rec.request.numResults }));
  assert.deepEqual(out.itemList, rec.response.itemList);
  assert.match(out.recommendationId, /^RID-/);
  const rank = cases.find((c) => c.op === 'getPersonalizedRanking');
  const { recommender, ...rq } = rank.request;
  const ranked = await client.send(new rt.GetPersonalizedRankingCommand({ ...rq, campaignArn: arn(recommender) }));
  assert.deepEqual(ranked.personalizedRanking, rank.response.personalizedRanking);
  await assert.rejects(
    client.send(new rt.GetRecommendationsCommand({ campaignArn: arn('nope'), userId: 'u1' })),
    (e) => e.name === 'ResourceNotFoundException' && e.$metadata.httpStatusCode === 404 && /nope/.test(e.message),
  );
  await assert.rejects(
    client.send(new rt.GetRecommendationsCommand({ campaignArn: arn('recommended-for-you'), userId: 'u1', numResults: 501 })),
    (e) => e instanceof rt.InvalidInputException && e.$metadata.httpStatusCode === 400 && /numResults/.test(e.message),
  );
});

test('PutEvents and PutItems through @aws-sdk/client-personalize-events, signed with SigV4', async () => {
  const ev = await tool('@aws-sdk/client-personalize-events');
  const rt = await tool('@aws-sdk/client-personalize-runtime');
  const events = new ev.PersonalizeEventsClient(config());
  const runtime = new rt.PersonalizeRuntimeClient(config());
  const c = goldenCases().find((x) => x.events);
  const ask = () => runtime.send(new rt.GetRecommendationsCommand({ campaignArn: arn(c.request.recommender), userId: c.request.userId, numResults: c.request.numResults }));
  const before = await ask();
  const out = await events.send(new ev.PutEventsCommand({
    trackingId: 'tracking-1',
    sessionId: c.events.sessionId,
    eventList: c.events.eventList.map((e) => ({ ...e, sentAt: new Date(e.sentAt * 1000) })),
  }));
  assert.equal(out.$metadata.httpStatusCode, 200);
  const after = await ask();
  assert.deepEqual(after.itemList, c.response.itemList);
  assert.notDeepEqual(after.itemList, before.itemList);
  // This Worker has no sync server: PutItems is refused, not dropped (the SDK sees a 501).
  await assert.rejects(
    events.send(new ev.PutItemsCommand({
      datasetArn: 'arn:aws:personalize:eu-west-1:123456789012:dataset/store/ITEMS',
      items: [{ itemId: 'sdk-item-1', properties: JSON.stringify({ category: 'books' }) }],
    })),
    (e) => e.name === 'NotImplementedException' && e.$metadata.httpStatusCode === 501 && /SYNC_URL/.test(e.message),
  );
  // A wrong secret: the signature does not verify.
  const forged = new ev.PersonalizeEventsClient(config('not-the-secret'));
  await assert.rejects(
    forged.send(new ev.PutEventsCommand({ trackingId: 't', sessionId: 's-forged', eventList: [{ eventType: 'view', itemId: 'i01', sentAt: new Date() }] })),
    (e) => e.name === 'InvalidSignatureException' && e.$metadata.httpStatusCode === 403,
  );
  // An unknown access key.
  const stranger = new ev.PersonalizeEventsClient({ ...config(), credentials: { accessKeyId: 'AKIDOTHER', secretAccessKey: SECRET } });
  await assert.rejects(
    stranger.send(new ev.PutEventsCommand({ trackingId: 't', sessionId: 's-x', eventList: [{ eventType: 'view', itemId: 'i01', sentAt: new Date() }] })),
    (e) => e.name === 'UnrecognizedClientException',
  );
  assert.deepEqual(withoutRid({ a: 1, recommendationId: 'x' }), { a: 1 });
});

/** A client whose signed requests are captured (after signing) into `into`. */
function capturing(client, into) {
  client.middlewareStack.add((next) => async (args) => {
    into.push({ path: args.request.path, headers: { ...args.request.headers }, body: args.request.body });
    return next(args);
  }, { step: 'deserialize', priority: 'low', name: 'capture' });
  return client;
}

test('temporary credentials (sessionToken) work with both clients; expired or forged ones do not', async () => {
  const rt = await tool('@aws-sdk/client-personalize-runtime');
  const ev = await tool('@aws-sdk/client-personalize-events');
  const creds = await mintSessionCredentials(SESSION_SECRET, { ttlSeconds: 900 });
  assert.match(creds.accessKeyId, /^ASIA[A-Z2-7]{16}$/);
  const sent = [];
  const runtime = capturing(new rt.PersonalizeRuntimeClient(config(undefined, creds)), sent);
  const out = await runtime.send(new rt.GetRecommendationsCommand({ campaignArn: arn('recommended-for-you'), userId: 'u1', numResults: 5 }));
  assert.equal(out.itemList.length, 5);
  assert.equal(sent[0].headers['x-amz-security-token'], creds.sessionToken, 'the SDK sent the token');
  const events = new ev.PersonalizeEventsClient(config(undefined, creds));
  const put = await events.send(new ev.PutEventsCommand({ trackingId: 't', sessionId: 's-temp', eventList: [{ eventType: 'view', itemId: 'i01', sentAt: new Date() }] }));
  assert.equal(put.$metadata.httpStatusCode, 200);

  const expired = await mintSessionCredentials(SESSION_SECRET, { ttlSeconds: 60, now: Date.now() / 1000 - 3600 });
  await assert.rejects(
    new rt.PersonalizeRuntimeClient(config(undefined, expired)).send(new rt.GetRecommendationsCommand({ campaignArn: arn('recommended-for-you'), userId: 'u1' })),
    (e) => e.name === 'ExpiredTokenException' && e.$metadata.httpStatusCode === 403,
  );
  const tooLong = await mintSessionCredentials(SESSION_SECRET, { ttlSeconds: 48 * 3600 });
  await assert.rejects(
    new rt.PersonalizeRuntimeClient(config(undefined, tooLong)).send(new rt.GetRecommendationsCommand({ campaignArn: arn('recommended-for-you'), userId: 'u1' })),
    (e) => e.name === 'UnrecognizedClientException',
  );
  const foreign = await mintSessionCredentials('another deployment\'s secret');
  await assert.rejects(
    new rt.PersonalizeRuntimeClient(config(undefined, foreign)).send(new rt.GetRecommendationsCommand({ campaignArn: arn('recommended-for-you'), userId: 'u1' })),
    (e) => e.name === 'UnrecognizedClientException' && e.$metadata.httpStatusCode === 403,
  );
  // The token of one credential with the key of another.
  const other = await mintSessionCredentials(SESSION_SECRET);
  await assert.rejects(
    new rt.PersonalizeRuntimeClient(config(undefined, { ...creds, sessionToken: other.sessionToken })).send(new rt.GetRecommendationsCommand({ campaignArn: arn('recommended-for-you'), userId: 'u1' })),
    (e) => e.name === 'UnrecognizedClientException',
  );
  // A Worker without SIGV4_SESSION_SECRET refuses temporary credentials.
  const plain = await startWorker({ model: goldenModel(), vars: VARS });
  try {
    const url = (await plain.ready).href.replace(/\/$/, '');
    await assert.rejects(
      new rt.PersonalizeRuntimeClient({ ...config(undefined, creds), endpoint: () => url }).send(new rt.GetRecommendationsCommand({ campaignArn: arn('recommended-for-you'), userId: 'u1' })),
      (e) => e.name === 'UnrecognizedClientException' && /SIGV4_SESSION_SECRET/.test(e.message),
    );
  } finally {
    await plain.dispose();
  }
});

test('a captured SDK request replayed with another body is InvalidSignatureException', async () => {
  const ev = await tool('@aws-sdk/client-personalize-events');
  const rt = await tool('@aws-sdk/client-personalize-runtime');
  const sent = [];
  const events = capturing(new ev.PersonalizeEventsClient(config()), sent);
  await events.send(new ev.PutEventsCommand({ trackingId: 't', sessionId: 's-replay', eventList: [{ eventType: 'view', itemId: 'i02', sentAt: new Date() }] }));
  const runtime = capturing(new rt.PersonalizeRuntimeClient(config()), sent);
  await runtime.send(new rt.GetRecommendationsCommand({ campaignArn: arn('recommended-for-you'), userId: 'u3', numResults: 3 }));
  const replay = async ({ path: p, headers, body }, newBody) => {
    const h = { ...headers };
    delete h.host;
    delete h['content-length'];
    const res = await fetch(`${endpoint}${p}`, { method: 'POST', headers: h, body: newBody });
    return { status: res.status, type: res.headers.get('x-amzn-errortype'), body: await res.json().catch(() => null) };
  };
  // The same bytes again are accepted (SigV4 allows replays within its 15 minutes; the
  // deterministic eventIds make a replayed PutEvents a duplicate the sync server drops).
  assert.equal((await replay(sent[0], sent[0].body)).status, 200);
  const forged = [
    [sent[0], sent[0].body.replace('i02', 'i03')],
    [sent[0], JSON.stringify({ trackingId: 't', sessionId: 's-replay', userId: 'u1', eventList: [{ eventType: 'purchase', itemId: 'i09', sentAt: 1 }] })],
    [sent[1], sent[1].body.replace('"u3"', '"u4"')],
    [sent[1], JSON.stringify({ userId: 'u4', filter: 'INCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("*")', numResults: 500 })],
  ];
  for (const [req, body] of forged) {
    const r = await replay(req, body);
    assert.equal(r.status, 403, body);
    assert.equal(r.type, 'InvalidSignatureException', body);
    assert.equal(r.body.__type, 'InvalidSignatureException');
  }
  // The forged body with a matching x-amz-content-sha256 claim: the claim is not what was signed.
  const claimed = { ...sent[0], headers: { ...sent[0].headers, 'x-amz-content-sha256': crypto.createHash('sha256').update(forged[0][1]).digest('hex') } };
  assert.equal((await replay(claimed, forged[0][1])).type, 'InvalidSignatureException');
});

test('unsigned host, unsigned payload and unsigned reads are refused with Personalize\'s error shape', async () => {
  const body = { campaignArn: arn('recommended-for-you'), userId: 'u1', numResults: 3 };
  const ok = await signedFetch(mf, '/recommendations', body);
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  const noHost = await signedFetch(mf, '/recommendations', body, { sign: { unsignableHeaders: new Set(['host']) } });
  assert.equal(noHost.status, 403);
  assert.equal(noHost.headers.get('x-amzn-errortype'), 'IncompleteSignatureException');
  assert.match(noHost.body.message, /'host' must be a SignedHeader/);
  const unsignedPayload = await signedFetch(mf, '/recommendations', body, { headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } });
  assert.equal(unsignedPayload.status, 403);
  assert.equal(unsignedPayload.body.__type, 'InvalidSignatureException');
  // Signed for one body, sent with another.
  const swapped = await signedFetch(mf, '/recommendations', body, { sendBody: JSON.stringify({ ...body, userId: 'u2' }) });
  assert.equal(swapped.body.__type, 'InvalidSignatureException');
  // Old signatures.
  const old = await signedFetch(mf, '/recommendations', body, { sign: { signingDate: new Date(Date.now() - 16 * 60 * 1000) } });
  assert.equal(old.body.__type, 'InvalidSignatureException');
  assert.match(old.body.message, /expired/i);
  // No signature at all: the raw answer and what the SDK makes of it.
  const raw = await call(mf, '/recommendations', body, { authorization: undefined });
  assert.equal(raw.status, 403);
  assert.equal(raw.headers.get('x-amzn-errortype'), 'MissingAuthenticationTokenException');
  assert.deepEqual(Object.keys(raw.body).sort(), ['__type', 'message']);
  const rt = await tool('@aws-sdk/client-personalize-runtime');
  const unsigned = new rt.PersonalizeRuntimeClient(config());
  unsigned.middlewareStack.add((next) => async (args) => {
    for (const h of Object.keys(args.request.headers)) if (/^(authorization|x-amz-)/i.test(h)) delete args.request.headers[h];
    return next(args);
  }, { step: 'deserialize', priority: 'low', name: 'unsign' });
  await assert.rejects(
    unsigned.send(new rt.GetRecommendationsCommand(body)),
    (e) => e.name === 'MissingAuthenticationTokenException' && e.$metadata.httpStatusCode === 403 && typeof e.message === 'string',
  );
});
