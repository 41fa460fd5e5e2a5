// "edgerec/aws" is a drop-in for the AWS SDK v3 Personalize clients: one app function, written
// once against the SDK's classes, runs against @aws-sdk/client-personalize-runtime and -events
// pointed at the local Worker (SigV4-signed, in Miniflare) and against edgerec/aws over the same
// model on the device, and both give equal answers: item lists, scores, output shapes,
// $metadata, error classes and messages.
//
// Environment (set by `cargo xtask wasm test`): EDGEREC_WORKER_DIR (the repository's worker/),
// EDGEREC_WORKER_BUILD (its build), EDGEREC_TOOLS (node_modules with miniflare and the SDK).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Recommender } from 'edgerec';
import * as device from 'edgerec/aws';
import { golden } from './helpers.mjs';

const { bytes } = golden();
const workerDir = process.env.EDGEREC_WORKER_DIR;
const needsWorker = workerDir && process.env.EDGEREC_WORKER_BUILD && process.env.EDGEREC_TOOLS && process.env.EDGEREC_BIN
  ? false
  : 'EDGEREC_WORKER_DIR, EDGEREC_WORKER_BUILD, EDGEREC_TOOLS and EDGEREC_BIN are not set (cargo xtask wasm test sets them)';

const campaign = (name) => `arn:aws:personalize:eu-west-1:123456789012:campaign/${name}`;
const recommenderArn = (name) => `arn:aws:personalize:eu-west-1:123456789012:recommender/${name}`;
const at = (s) => new Date(Date.UTC(2026, 0, 1) + s * 1000);
/** edgerec/aws stands for both SDK packages. */
const onDevice = { runtime: device, events: device };

/**
 * An app's Personalize calls, written once: `aws` holds the modules it imports from (`runtime`:
 * @aws-sdk/client-personalize-runtime or edgerec/aws, `events`: @aws-sdk/client-personalize-events
 * or edgerec/aws), `config` the clients' configuration. Returns what each call gave: the output
 * or the error, and which client made it.
 */
async function storefront(aws, config) {
  const { PersonalizeRuntimeClient, GetRecommendationsCommand, GetPersonalizedRankingCommand } = aws.runtime;
  const { PersonalizeEventsClient, PutEventsCommand, PutItemsCommand, PutUsersCommand } = aws.events;
  const clients = { runtime: new PersonalizeRuntimeClient(config), events: new PersonalizeEventsClient(config) };
  const log = [];
  const call = async (label, client, command) => {
    try {
      log.push({ label, client, output: await clients[client].send(command) });
    } catch (error) {
      log.push({ label, client, error });
    }
  };
  const [runtime, events] = ['runtime', 'events'];
  const forYou = (userId, numResults = 8) => new GetRecommendationsCommand({ campaignArn: campaign('recommended-for-you'), userId, numResults });

  await call('recommended for a known user', runtime, forYou('u1', 5));
  await call('related items by recommenderArn', runtime, new GetRecommendationsCommand({ recommenderArn: recommenderArn('also-viewed'), itemId: 'i03', numResults: 5 }));
  await call('best sellers with metadata', runtime, new GetRecommendationsCommand({ recommenderArn: recommenderArn('best-sellers'), numResults: 5, metadataColumns: { ITEMS: ['CATEGORY', 'PRICE'] } }));
  await call('personalized ranking', runtime, new GetPersonalizedRankingCommand({ campaignArn: campaign('ranking'), userId: 'u2', inputList: ['i01', 'i15', 'i25', 'nope'] }));
  // A new visitor views three garden items: the next answer follows at once.
  await call('a new visitor', runtime, forYou('visitor-1'));
  await call('the visitor views garden items', events, new PutEventsCommand({
    trackingId: 'tracking-1',
    sessionId: 'visitor-1',
    eventList: [
      { eventType: 'view', itemId: 'i11', sentAt: at(1) },
      { eventType: 'view', itemId: 'i12', sentAt: at(2), properties: { source: 'search' } },
      { eventId: 'visit-1-e3', eventType: 'view', itemId: 'i13', sentAt: at(3), properties: '{"source":"home"}' },
    ],
  }));
  await call('the visitor after the views', runtime, forYou('visitor-1'));
  // The visitor signs in as u7: the anonymous session joins u7's history.
  await call('the visitor signs in and buys', events, new PutEventsCommand({
    trackingId: 'tracking-1',
    sessionId: 'visitor-1',
    userId: 'u7',
    eventList: [{ eventType: 'purchase', itemId: 'i14', sentAt: at(4) }],
  }));
  await call('u7 after signing in', runtime, forYou('u7'));
  await call('put items', events, new PutItemsCommand({
    datasetArn: 'arn:aws:personalize:eu-west-1:123456789012:dataset/store/ITEMS',
    items: [{ itemId: 'sdk-item-1', properties: { category: 'books' } }, { itemId: 'sdk-item-2', properties: '{"category":"toys"}' }],
  }));
  await call('put users', events, new PutUsersCommand({
    datasetArn: 'arn:aws:personalize:eu-west-1:123456789012:dataset/store/USERS',
    users: [{ userId: 'sdk-user-1' }],
  }));
  // Bad requests.
  await call('numResults above 500', runtime, new GetRecommendationsCommand({ campaignArn: campaign('recommended-for-you'), userId: 'u1', numResults: 501 }));
  await call('an unknown campaign', runtime, new GetRecommendationsCommand({ campaignArn: campaign('nope'), userId: 'u1' }));
  await call('ranking without inputList', runtime, new GetPersonalizedRankingCommand({ campaignArn: campaign('ranking'), userId: 'u2' }));
  await call('eleven events', events, new PutEventsCommand({
    trackingId: 'tracking-1',
    sessionId: 'visitor-2',
    eventList: Array.from({ length: 11 }, (_, k) => ({ eventType: 'view', itemId: 'i01', sentAt: at(k) })),
  }));
  await call('an item with an unknown field', events, new PutItemsCommand({ datasetArn: 'arn:aws:personalize:eu-west-1:123456789012:dataset/store/ITEMS', items: [{ itemId: 'x', properties: { colour: 'red' } }] }));
  return log;
}

/** What must be equal everywhere: the output without its random ids, or the error's shape. */
function comparable(aws, entry) {
  if (entry.error) {
    const e = entry.error;
    const cls = aws[entry.client][e.name];
    return {
      label: entry.label,
      error: { name: e.name, message: e.message, $fault: e.$fault, httpStatusCode: e.$metadata?.httpStatusCode, isItsClass: typeof cls === 'function' && e instanceof cls },
    };
  }
  const { $metadata, recommendationId, ...answer } = entry.output;
  // A fresh id per call on the device; the Worker sends no x-amzn-requestid, so the SDK has none.
  const { requestId, ...meta } = $metadata;
  if (aws === onDevice) assert.match(requestId, /^[0-9a-f-]{36}$/, `${entry.label}: $metadata.requestId`);
  if ('itemList' in answer || 'personalizedRanking' in answer) assert.equal(typeof recommendationId, 'string', `${entry.label}: recommendationId`);
  return { label: entry.label, output: { ...answer, $metadata: meta } };
}

let mf;
let sync;
let syncDir;
let sdk;
let sdkConfig;
before(async () => {
  if (needsWorker) return;
  const support = await import(pathToFileURL(path.join(workerDir, 'tests/support.mjs')).href);
  // The Worker forwards PutItems / PutUsers to a sync server (without one it answers 501): a real
  // `edgerec serve`, as on the device the records wait in the outbox for one.
  syncDir = fs.mkdtempSync(path.join(os.tmpdir(), 'edgerec-aws-sync-'));
  sync = await support.startSyncServer(syncDir, 'aws-sync-token');
  mf = await support.startWorker({ model: bytes, vars: { ...support.VARS, SYNC_URL: sync.url, SYNC_TOKEN: 'aws-sync-token' } });
  const endpoint = (await mf.ready).href.replace(/\/$/, '');
  const runtime = await support.tool('@aws-sdk/client-personalize-runtime');
  const events = await support.tool('@aws-sdk/client-personalize-events');
  sdk = { runtime, events };
  sdkConfig = {
    endpoint: () => endpoint,
    region: 'eu-west-1',
    credentials: { accessKeyId: support.KEY_ID, secretAccessKey: support.SECRET },
    maxAttempts: 1,
  };
});
after(async () => {
  await mf?.dispose();
  await sync?.stop();
  if (syncDir) fs.rmSync(syncDir, { recursive: true, force: true });
});

test('the same app code: AWS SDK against the Worker = edgerec/aws on the device', { skip: needsWorker }, async () => {
  const cloud = (await storefront(sdk, sdkConfig)).map((e) => comparable(sdk, e));
  const rec = Recommender.fromBytesSync(bytes);
  const localLog = await storefront(onDevice, { recommender: rec });
  rec.free();
  const local = localLog.map((e) => comparable(onDevice, e));
  assert.deepEqual(local, cloud);
  // Code that still tests errors against the SDK's classes recognises the device's errors.
  const invalid = localLog.find((e) => e.label === 'numResults above 500').error;
  assert.ok(invalid instanceof sdk.runtime.InvalidInputException);
  assert.ok(!(invalid instanceof sdk.runtime.ResourceNotFoundException));

  // The answers are the ones the app needs to see, not equal failures.
  const by = (label) => cloud.find((e) => e.label === label);
  assert.equal(by('recommended for a known user').output.itemList.length, 5);
  assert.equal(by('recommended for a known user').output.$metadata.httpStatusCode, 200);
  assert.equal(typeof by('recommended for a known user').output.itemList[0].score, 'number');
  assert.equal(by('best sellers with metadata').output.itemList[0].metadata.CATEGORY, 'books');
  assert.equal(by('personalized ranking').output.personalizedRanking.length, 4);
  assert.notDeepEqual(by('the visitor after the views').output.itemList, by('a new visitor').output.itemList);
  for (const label of ['the visitor views garden items', 'put items', 'put users']) {
    assert.deepEqual(by(label).output, { $metadata: by('recommended for a known user').output.$metadata }, label);
  }
  const errors = cloud.filter((e) => e.error).map((e) => [e.label, e.error.name, e.error.httpStatusCode, e.error.isItsClass]);
  assert.deepEqual(errors, [
    ['numResults above 500', 'InvalidInputException', 400, true],
    ['an unknown campaign', 'ResourceNotFoundException', 404, true],
    ['ranking without inputList', 'InvalidInputException', 400, true],
    ['eleven events', 'InvalidInputException', 400, true],
    ['an item with an unknown field', 'InvalidInputException', 400, true],
  ]);
});

test('edgerec/aws: a promise of a Recommender, callbacks, aggregated clients, the outbox', async () => {
  const rec = Recommender.fromBytes(bytes);
  const runtime = new device.PersonalizeRuntime({ recommender: rec });
  const events = new device.PersonalizeEvents({ recommender: rec });
  const out = await runtime.getRecommendations({ campaignArn: campaign('recommended-for-you'), userId: 'u1', numResults: 3 });
  assert.equal(out.itemList.length, 3);
  assert.equal(out.$metadata.httpStatusCode, 200);
  assert.equal(out.$metadata.attempts, 1);
  assert.match(out.$metadata.requestId, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  const sentAt = new Date('2026-03-01T10:00:00Z');
  await events.putEvents({ trackingId: 't', sessionId: 's-outbox', eventList: [{ eventType: 'view', itemId: 'i05', sentAt, properties: { q: 1 } }] });
  // Accepted events are queued for sync, with the Date as seconds and the properties as JSON.
  const [batch] = (await rec).takeOutbox();
  assert.equal(batch.sessionId, 's-outbox');
  assert.equal(batch.eventList[0].sentAt, sentAt.getTime() / 1000);
  assert.equal(batch.eventList[0].properties, '{"q":1}');
  // The SDK's callback form.
  const viaCallback = await new Promise((resolve) => {
    runtime.send(new device.GetPersonalizedRankingCommand({ campaignArn: campaign('ranking'), userId: 'u2', inputList: ['i01', 'i02'] }), (err, data) => resolve({ err, data }));
  });
  assert.equal(viaCallback.err, null);
  assert.equal(viaCallback.data.personalizedRanking.length, 2);
  const failed = await new Promise((resolve) => {
    runtime.send(new device.GetRecommendationsCommand({ campaignArn: campaign('nope') }), {}, (err) => resolve(err));
  });
  assert.ok(failed instanceof device.ResourceNotFoundException);
  assert.ok(failed instanceof device.PersonalizeRuntimeServiceException);
  assert.equal(failed.$fault, 'client');
  assert.equal(failed.$metadata.httpStatusCode, 404);
  assert.equal(failed.cause.code, 'ResourceNotFoundException', 'the Recommender\'s error is the cause');
  (await rec).free();
});

test('edgerec/aws: wrong commands, aborted calls, a model that failed to load, a bad config', async () => {
  const rec = Recommender.fromBytesSync(bytes);
  const runtime = new device.PersonalizeRuntimeClient({ recommender: rec });
  await assert.rejects(runtime.send(new device.PutEventsCommand({ sessionId: 's', eventList: [] })), (e) => e instanceof TypeError && /PersonalizeRuntimeClient takes GetRecommendationsCommand, GetPersonalizedRankingCommand \(got PutEventsCommand\)/.test(e.message));
  await assert.rejects(runtime.send({ input: {} }), TypeError);
  const aborted = AbortSignal.abort();
  await assert.rejects(runtime.send(new device.GetRecommendationsCommand({ campaignArn: campaign('best-sellers') }), { abortSignal: aborted }), (e) => e.name === 'AbortError');
  await assert.rejects(
    new device.PersonalizeEventsClient({ recommender: rec }).send(new device.PutEventsCommand({ sessionId: 's', eventList: [] })),
    (e) => e instanceof device.InvalidInputException && e.$metadata.httpStatusCode === 400 && /eventList/.test(e.message),
  );
  rec.free();
  // A model URL that is not there: every call fails with the service's error for it.
  const missing = Recommender.fromUrl('https://models.invalid/store.erm', { fetch: async () => new Response('no', { status: 404 }) });
  const lost = new device.PersonalizeRuntimeClient({ recommender: missing });
  await assert.rejects(lost.send(new device.GetRecommendationsCommand({ campaignArn: campaign('best-sellers') })), (e) => e instanceof device.ResourceNotFoundException && /store\.erm/.test(e.message));
  const broken = new device.PersonalizeRuntimeClient({ recommender: Recommender.fromBytes(new Uint8Array([1, 2, 3])) });
  // The first call comes later (after a click, say): the failed load waits for it, unreported.
  await new Promise((r) => setTimeout(r, 20));
  await assert.rejects(broken.send(new device.GetRecommendationsCommand({ campaignArn: campaign('best-sellers') })), (e) => e instanceof device.PersonalizeServiceException && e.$fault === 'server' && e.name === 'ModelFormatError' && e.$metadata.httpStatusCode === 500);
  assert.throws(() => new device.PersonalizeRuntimeClient({ region: 'eu-west-1' }), (e) => e instanceof TypeError && /recommender/.test(e.message));
});
