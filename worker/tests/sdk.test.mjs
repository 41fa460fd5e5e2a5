// The official AWS SDK v3 clients, configured only with an endpoint and credentials, against
// the Worker over real HTTP on loopback; the Worker verifies their SigV4 signatures.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { KEY_ID, SECRET, VARS, goldenCases, goldenModel, startWorker, tool, withoutRid } from './support.mjs';

let mf;
let endpoint;
before(async () => {
  mf = await startWorker({ model: goldenModel(), vars: VARS });
  endpoint = (await mf.ready).href.replace(/\/$/, '');
});
after(() => mf?.dispose());

const config = (secretAccessKey = SECRET) => ({
  endpoint: () => endpoint,
  region: 'eu-west-1',
  credentials: { accessKeyId: KEY_ID, secretAccessKey },
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
  const items = await events.send(new ev.PutItemsCommand({
    datasetArn: 'arn:aws:personalize:eu-west-1:123456789012:dataset/store/ITEMS',
    items: [{ itemId: 'sdk-item-1', properties: JSON.stringify({ category: 'books' }) }],
  }));
  assert.equal(items.$metadata.httpStatusCode, 200);
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
