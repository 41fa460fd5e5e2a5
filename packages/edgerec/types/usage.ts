// A typed usage example: `tsc --noEmit` over this file checks the declarations (the package
// tests run it against the installed package). It is type-checked, not run.
import {
  Recommender,
  simdSupported,
  type EdgerecError,
  type ModelVerificationError,
  type VerificationFailure,
  type GetRecommendationsResponse,
  type ModelInfo,
  type PutEventsBatch,
  type RecommendationLogEntry,
  type PredictedItem,
} from 'edgerec';
import { init, initSync, isReady } from 'edgerec/slim';
import {
  GetPersonalizedRankingCommand,
  GetRecommendationsCommand,
  InvalidInputException,
  PersonalizeEventsClient,
  PersonalizeRuntime,
  PersonalizeRuntimeClient,
  PersonalizeServiceException,
  PutEventsCommand,
  PutItemsCommand,
  PutUsersCommand,
  ResourceNotFoundException,
  type GetRecommendationsCommandOutput,
  type ResponseMetadata,
} from 'edgerec/aws';
import { mintUserToken } from 'edgerec/user-token';

export async function storefront(modelUrl: string, bytes: Uint8Array): Promise<string[]> {
  const rec: Recommender = await Recommender.fromUrl(modelUrl, {
    onProgress: (loaded: number, total: number | undefined) => void [loaded, total],
    retainSource: true,
  });
  const other = await Recommender.fromBytes(bytes);
  // A signed model from a CDN: its SRI hash and the publisher's key are checked before decoding.
  try {
    const checked = await Recommender.fromUrl(modelUrl, {
      integrity: 'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=',
      publicKey: ['11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=', new Uint8Array(32)],
    });
    const keyId: string | null | undefined = checked.info().verified?.keyId;
    void keyId;
  } catch (e) {
    const err = e as ModelVerificationError;
    const why: VerificationFailure = err.reason;
    void [err.code === 'ModelSignatureError', why];
  }
  const sync = Recommender.fromBytesSync(bytes.buffer as ArrayBuffer, { retainSource: false });
  sync.free();

  const resp: GetRecommendationsResponse = rec.getRecommendations({
    recommender: 'recommended-for-you',
    userId: 'u-42',
    numResults: 12,
    filter: 'EXCLUDE ItemID WHERE Items.CATEGORY IN ($CATS)',
    filterValues: { CATS: '"books"' },
    context: { DEVICE: 'mobile' },
    promotions: [{ name: 'deals', percentPromotedItems: 20, filter: 'INCLUDE ItemID WHERE Items.ON_SALE IN ("true")' }],
    metadataColumns: { ITEMS: ['NAME', 'PRICE'] },
  });
  const first: PredictedItem | undefined = resp.itemList[0];
  const score: number | undefined = first?.score;
  const name: string | undefined = first?.metadata?.NAME;
  const why: string[] | undefined = first?.reason;
  void [score, name, why, first?.promotionName];

  const ranked = other.getPersonalizedRanking({ recommender: 'ranking', userId: 'u-42', inputList: ['a', 'b'] });
  const rankedIds: string[] = ranked.personalizedRanking.map((p) => p.itemId);

  rec.putEvents({
    sessionId: 's-1',
    userId: 'u-42',
    eventList: [
      { eventType: 'click', itemId: 'i-7', sentAt: new Date(), impression: ['i-7', 'i-8'], recommendationId: resp.recommendationId },
      { eventId: 'e-2', eventType: 'purchase', itemId: 'i-7', sentAt: Date.now() / 1000, eventValue: 19.9, properties: '{"q":1}' },
    ],
  });
  rec.putItems([{ itemId: 'new-1', properties: '{"category":"garden"}' }]);
  rec.putItems({ datasetArn: 'arn', items: [{ itemId: 'new-2' }] });
  rec.putUsers([{ userId: 'u-43', properties: '{"tier":"gold"}' }]);
  rec.putUsers({ users: [{ userId: 'u-44' }] });

  const batches: PutEventsBatch[] = rec.takeOutbox(100);
  const declared: number = rec.setExperiments([{ name: 'home', recommender: 'top-picks', variants: [{ name: 'control' }, { name: 'pop', recommender: 'popular', share: 0.5 }] }]);
  const shown: RecommendationLogEntry[] = rec.takeRecommendationLog();
  const variant: string | undefined = rec.getRecommendations({ recommender: 'top-picks', sessionId: 's1' }).variant;
  void declared;
  void shown;
  void variant;
  const eventIds: string[] = batches.flatMap((b) => b.eventList.map((e) => e.eventId));
  const seconds: number[] = batches.flatMap((b) => b.eventList.map((e) => e.sentAt));
  void seconds;

  const saved: Uint8Array = rec.exportSessions();
  const restored: number = other.importSessions(saved);
  const info: ModelInfo = rec.info();
  const summary = `${info.items} items, format ${info.formatVersion}, ${info.fileBytes} B, simd ${info.simd}, ${restored}`;

  try {
    rec.getRecommendations({ recommender: 'nope' });
  } catch (e) {
    const err = e as EdgerecError;
    if (err.code === 'ResourceNotFoundException') console.log(err.message);
  }
  rec.free();
  return [...rankedIds, ...eventIds, summary, String(simdSupported())];
}

// An app written for @aws-sdk/client-personalize-runtime and -events, on the device.
export async function personalizeOnDevice(modelUrl: string): Promise<string[]> {
  const recommender = Recommender.fromUrl(modelUrl);
  const runtime = new PersonalizeRuntimeClient({ recommender });
  const events = new PersonalizeEventsClient({ recommender: await recommender });
  const out: GetRecommendationsCommandOutput = await runtime.send(
    new GetRecommendationsCommand({
      recommenderArn: 'arn:aws:personalize:eu-west-1:123456789012:recommender/recommended-for-you',
      userId: 'u-42',
      numResults: 10,
      filterArn: 'arn:aws:personalize:eu-west-1:123456789012:filter/exclude-purchased',
      metadataColumns: { ITEMS: ['NAME'] },
    }),
  );
  const meta: ResponseMetadata = out.$metadata;
  const ids: string[] = (out.itemList ?? []).map((p) => p.itemId ?? '');
  const ranked = await runtime.send(new GetPersonalizedRankingCommand({ campaignArn: 'arn:aws:personalize:::campaign/ranking', userId: 'u-42', inputList: ids }));
  const top: string | undefined = ranked.personalizedRanking?.[0]?.itemId;
  const put = await events.send(
    new PutEventsCommand({
      trackingId: 'tracking-1',
      sessionId: 's-1',
      eventList: [{ eventType: 'click', itemId: 'i-7', sentAt: new Date(), properties: { query: 'shoes' }, recommendationId: out.recommendationId }],
    }),
  );
  const status: number | undefined = put.$metadata.httpStatusCode;
  await events.send(new PutItemsCommand({ datasetArn: 'arn:items', items: [{ itemId: 'new-1', properties: '{"category":"garden"}' }] }));
  await events.send(new PutUsersCommand({ datasetArn: 'arn:users', users: [{ userId: 'u-43' }] }));
  events.send(new PutUsersCommand({ datasetArn: 'arn:users', users: [{ userId: 'u-44' }] }), (err: unknown, data) => void [err, data?.$metadata]);
  const aggregated = new PersonalizeRuntime({ recommender });
  const again: GetRecommendationsCommandOutput = await aggregated.getRecommendations({ campaignArn: 'arn:::campaign/best-sellers' });
  try {
    await runtime.send(new GetRecommendationsCommand({ campaignArn: 'arn:::campaign/nope' }));
  } catch (e) {
    if (e instanceof ResourceNotFoundException || e instanceof InvalidInputException) console.log(e.name, e.$fault, e.$metadata.httpStatusCode);
    else if (e instanceof PersonalizeServiceException) console.log(e.name);
  }
  // @ts-expect-error the events client takes only the events commands
  void events.send(new GetRecommendationsCommand({ userId: 'u-42' }));
  // @ts-expect-error the runtime client takes only the runtime commands
  void runtime.send(new PutEventsCommand({ trackingId: 't', sessionId: 's', userId: 'u', eventList: [] }));
  // @ts-expect-error the clients need the model
  void new PersonalizeRuntimeClient({ region: 'eu-west-1' });
  return [...ids, top ?? '', String(status), String(meta.requestId), String(again.itemList?.length)];
}

/** A signed-in shopper: the backend mints their token, the page loads their profile. */
export async function signIn(rec: Recommender, secret: string, userId: string): Promise<string> {
  const token: string = await mintUserToken({ secret, userId, ttlSeconds: 600 });
  const res = await fetch(`/users/${encodeURIComponent(userId)}/profile`, { headers: { authorization: `Bearer ${token}` } });
  try {
    return rec.loadUserProfile(new Uint8Array(await res.arrayBuffer()));
  } catch (e) {
    const err = e as EdgerecError;
    // A newer model was published meanwhile: load it, then the profile again.
    if (err.code === 'UserProfileMismatchError') return 'reload';
    throw err;
  }
}

export async function serviceWorkerInstall(): Promise<void> {
  if (!isReady()) await init({ baseline: '/edgerec_wasm_bg.wasm', simd: new URL('/edgerec_wasm_simd_bg.wasm', 'https://x.invalid') });
}

export function syncInit(wasm: Uint8Array): void {
  initSync({ baseline: wasm });
}

// @ts-expect-error numResults must be a number
void ({ recommender: 'x', numResults: 'ten' } satisfies Parameters<Recommender['getRecommendations']>[0]);
// @ts-expect-error the constructor is private
void new Recommender();
