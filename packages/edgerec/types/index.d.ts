// Type declarations of the npm package `edgerec` (hand-written; no `any` in the public surface).
// Shapes follow Amazon Personalize's runtime and events APIs, in camelCase.

/** A map of string keys to string values (context, filterValues, metadata). */
export type StringMap = Record<string, string>;

/** Stable error codes carried by every error the package throws (`error.code`, also `error.name`). */
export type ErrorCode =
  | 'InvalidInputException'
  | 'ResourceNotFoundException'
  | 'ModelFormatError'
  | 'ModelFetchError'
  | 'ModelIntegrityError'
  | 'ModelSignatureError'
  /** `loadUserProfile`: the bytes are not a readable user profile. */
  | 'UserProfileFormatError'
  /** `loadUserProfile`: the profile was cut from another model; fetch it again for this one. */
  | 'UserProfileMismatchError'
  | 'InvalidStateException'
  | 'NotInitialized'
  | 'InternalError';

/** The errors the package throws: a JS `Error` whose message names the field. */
export interface EdgerecError extends Error {
  readonly code: ErrorCode;
}

/**
 * Why `integrity` or `publicKey` refused a model (nothing was decoded):
 * `mismatch` (ModelIntegrityError: the bytes hash to something else), `unsigned`, `unknown-key`
 * (signed by a key that is not trusted), `invalid` (the signature does not match the bytes),
 * `malformed` (ModelSignatureError), `unavailable` (no WebCrypto, e.g. a page not served over
 * https).
 */
export type VerificationFailure = 'mismatch' | 'unsigned' | 'unknown-key' | 'invalid' | 'malformed' | 'unavailable';

/** The error of a refused model: `code` is `ModelIntegrityError` or `ModelSignatureError`. */
export interface ModelVerificationError extends EdgerecError {
  readonly code: 'ModelIntegrityError' | 'ModelSignatureError';
  readonly reason: VerificationFailure;
}

/** A promotion: a share of the slots filled from the promotion's own filter. At most one. */
export interface Promotion {
  name: string;
  /** 1–100. */
  percentPromotedItems: number;
  filter?: string;
  filterArn?: string;
  filterValues?: StringMap;
}

/** `metadataColumns`: item columns to return with each item (≤ 10). */
export interface MetadataColumns {
  ITEMS?: string[];
}

/** `GetRecommendations`. One of `recommender`, `campaignArn` or `recommenderArn` selects the recommender. */
export interface GetRecommendationsRequest {
  recommender?: string;
  campaignArn?: string;
  recommenderArn?: string;
  userId?: string;
  itemId?: string;
  /** Default 25, at most 500 (50 with metadataColumns). */
  numResults?: number;
  context?: StringMap;
  /** A filter expression, or the name of a filter defined in the model. */
  filter?: string;
  filterArn?: string;
  filterValues?: StringMap;
  promotions?: Promotion[];
  metadataColumns?: MetadataColumns;
  /** Filled with a random id when absent. */
  recommendationId?: string;
  /** edgerec: the visitor's session, the experiment key of a read without a `userId`. */
  sessionId?: string;
}

/** One recommended or ranked item. */
export interface PredictedItem {
  itemId: string;
  score?: number;
  promotionName?: string;
  metadata?: StringMap;
  /** E.g. `["Popular item"]` for back-filled items, `["Promoted item"]`, `["Exploration"]` for items placed by `explorationWeight`. */
  reason?: string[];
}

/** Set on an answer that an experiment assigned (see `Recommender.setExperiments`). */
export interface Assigned {
  /** The experiment's name. */
  experiment?: string;
  /** The variant of the request's `userId` (else `sessionId`). */
  variant?: string;
  /** The recommender that answered (the variant's). */
  recommender?: string;
}

export interface GetRecommendationsResponse extends Assigned {
  itemList: PredictedItem[];
  recommendationId: string;
}

/** One variant of an experiment: a share of the traffic answered by its recommender and/or filter. */
export interface ExperimentVariant {
  name: string;
  /** The recommender answering in this variant (default: the experiment's own). */
  recommender?: string;
  /** Replaces the request's filter. */
  filter?: string;
  /** A positive weight, normalised over the variants (default: equal). */
  share?: number;
}

/** An A/B experiment over one recommender, assigned by `fnv1a64(name + ":" + key) mod 10000`. */
export interface Experiment {
  name: string;
  /** The recommender whose reads it applies to. */
  recommender: string;
  /** Default true; a disabled experiment assigns nothing. */
  enabled?: boolean;
  /** 2–10 variants. */
  variants: ExperimentVariant[];
}

/** What a Recommender answered: an entry of the sync server's `POST /recommendations-log`. */
export interface RecommendationLogEntry {
  recommendationId: string;
  recommender: string;
  experiment?: string;
  variant?: string;
  userId?: string;
  sessionId?: string;
  itemList: string[];
  /** Unix seconds. */
  createdAt: number;
}

/** `GetPersonalizedRanking`. */
export interface GetPersonalizedRankingRequest {
  recommender?: string;
  campaignArn?: string;
  userId: string;
  /** edgerec: ignored here (ranking reads have a userId, the experiment key). */
  sessionId?: string;
  /** 1–500 item ids (50 with metadataColumns). */
  inputList: string[];
  context?: StringMap;
  filter?: string;
  filterArn?: string;
  filterValues?: StringMap;
  metadataColumns?: MetadataColumns;
  recommendationId?: string;
}

export interface GetPersonalizedRankingResponse extends Assigned {
  personalizedRanking: PredictedItem[];
  recommendationId: string;
}

/** One event of `PutEvents`. */
export interface Event {
  /** Filled with a random UUID when absent. */
  eventId?: string;
  eventType: string;
  itemId?: string;
  /** Unix time in seconds, or a `Date` (as the AWS SDK sends). */
  sentAt: number | Date;
  eventValue?: number;
  /** A JSON object as a string, at most 1024 characters. */
  properties?: string;
  /** Item ids shown with the event, at most 25. */
  impression?: string[];
  recommendationId?: string;
  /** Where the event is attributed: 1–1024 printable ASCII characters. */
  metricAttribution?: { eventAttributionSource: string };
  /** edgerec: the recommender that produced `recommendationId` (for the sync server's attribution). */
  recommender?: string;
}

/** `PutEvents`: 1–10 events of one session. */
export interface PutEventsRequest {
  trackingId?: string;
  sessionId: string;
  userId?: string;
  eventList: Event[];
}

/**
 * An event as the outbox returns it: `eventId` is always set and `sentAt` is in seconds; absent
 * fields and an empty `impression` are left out, so a batch is a sync server's `POST /events`
 * body as it is.
 */
export interface QueuedEvent extends Omit<Event, 'eventId' | 'sentAt'> {
  eventId: string;
  sentAt: number;
}

/** A `PutEvents`-shaped batch from the outbox (1–10 events of one session). */
export interface PutEventsBatch {
  trackingId?: string;
  sessionId: string;
  userId?: string;
  eventList: QueuedEvent[];
}

/** One record of `PutItems`. */
export interface ItemRecord {
  itemId: string;
  /** A JSON object as a string; keys are the schema's fields in camelCase. */
  properties?: string;
}

/** One record of `PutUsers`. */
export interface UserRecord {
  userId: string;
  properties?: string;
}

/** `PutItems` as the AWS SDK shapes it (`datasetArn` is ignored). */
export interface PutItemsRequest {
  datasetArn?: string;
  items: ItemRecord[];
}

/** `PutUsers` as the AWS SDK shapes it (`datasetArn` is ignored). */
export interface PutUsersRequest {
  datasetArn?: string;
  users: UserRecord[];
}

export interface RecommenderInfo {
  name: string;
  recipe: string;
  eventType?: string | null;
}

export interface SectionInfo {
  name: string;
  bytes: number;
}

/** What `info()` reports. */
export interface ModelInfo {
  modelVersion: number;
  dataset: string;
  items: number;
  users: number;
  eventTypes: string[];
  recommenders: RecommenderInfo[];
  /** Live sessions. */
  sessions: number;
  /** Model format version of the file, `"major.minor"`. */
  formatVersion: string;
  fileBytes: number;
  sections: SectionInfo[];
  /** Accepted events waiting in the outbox. */
  outboxPending: number;
  /** Events dropped from a full outbox (oldest first). */
  outboxDropped: number;
  /** Answers waiting in the recommendation log (`takeRecommendationLog`). */
  recommendationLogPending: number;
  /** Log entries dropped from a full log (1000 entries, oldest first). */
  recommendationLogDropped: number;
  /** Size of the wasm linear memory. */
  memoryBytes: number;
  /** Whether the simd128 build is running. */
  simd: boolean;
  /** What was checked before the model was decoded (null: nothing was asked). */
  verified: VerifiedModel | null;
}

/** What `integrity` / `publicKey` verified. */
export interface VerifiedModel {
  /** The matching `<alg>-<base64>` hash, or null when no integrity was asked. */
  integrity: string | null;
  /** The key id (16 hex digits) of the trusted key that signed the model, or null. */
  keyId: string | null;
}

/** A trusted Ed25519 public key: the base64 of its 32 raw bytes (what `edgerec keygen` prints), or the bytes. */
export type PublicKey = string | Uint8Array | ArrayBuffer;

export interface SyncLoadOptions {
  /**
   * Keep a reference to the bytes (no copy) so the engine can be rebuilt after a crash.
   * Default true; with false, a Recommender is unusable after a crash and must be loaded again.
   */
  retainSource?: boolean;
  /** A/B experiments to declare at once (see `Recommender.setExperiments`). */
  experiments?: string | Experiment | Experiment[];
}

/** Checks made with WebCrypto before any byte is decoded; a failure rejects with a {@link ModelVerificationError}. */
export interface VerifyOptions {
  /** Subresource Integrity of the file: `sha256-<base64>` (also sha384/sha512; several separated by spaces). */
  integrity?: string;
  /** The model must be signed (Ed25519) by this key, or by one of these keys (during a rotation). */
  publicKey?: PublicKey | PublicKey[];
}

export interface FromBytesOptions extends SyncLoadOptions, VerifyOptions {}

export interface FromUrlOptions extends FromBytesOptions {
  /** The fetch to use (default: the global one). */
  fetch?: (input: string | URL | Request, init?: RequestInit) => Promise<Response>;
  signal?: AbortSignal;
  /** Called after each downloaded chunk. */
  onProgress?: (loadedBytes: number, totalBytes: number | undefined) => void;
}

/** A model loaded into an engine, with its live sessions and its outbox. */
export declare class Recommender {
  private constructor();
  /** Decodes `.erm` bytes (loads the wasm module first when needed), after the checks the options ask for. */
  static fromBytes(bytes: Uint8Array | ArrayBuffer, options?: FromBytesOptions): Promise<Recommender>;
  /** Decodes `.erm` bytes synchronously; the module must be ready (always in Node and workerd). No checks: use `fromBytes` for those. */
  static fromBytesSync(bytes: Uint8Array | ArrayBuffer, options?: SyncLoadOptions): Recommender;
  /** Downloads a model (streamed into one buffer), checks it as the options ask, and decodes it. */
  static fromUrl(url: string | URL, options?: FromUrlOptions): Promise<Recommender>;

  getRecommendations(request: GetRecommendationsRequest): GetRecommendationsResponse;
  getPersonalizedRanking(request: GetPersonalizedRankingRequest): GetPersonalizedRankingResponse;
  /** Records the events in the session (which adapts at once) and queues them for sync. */
  putEvents(request: PutEventsRequest): void;
  /** Adds items to the catalogue or replaces their metadata; usable at once. 1–10 records. */
  putItems(items: ItemRecord[] | PutItemsRequest): void;
  /** Adds users or replaces their metadata. 1–10 records. */
  putUsers(users: UserRecord[] | PutUsersRequest): void;
  /** Removes and returns up to `maxEvents` (default 1000) queued events, oldest first, each exactly once. */
  takeOutbox(maxEvents?: number): PutEventsBatch[];
  /**
   * Declares A/B experiments (`null` clears them): reads of an experiment's recommender are
   * answered by the variant of their `userId` (else `sessionId`), as the edgerec Worker and
   * `edgerec serve` assign it. Returns how many were declared; throws `InvalidInputException`
   * naming the field of a bad declaration.
   */
  setExperiments(experiments: string | Experiment | Experiment[] | null): number;
  /**
   * Removes and returns up to `max` (default 1000) entries of what this Recommender answered,
   * oldest first, each once: POST `{ recommendations: entries }` to the sync server's
   * `/recommendations-log` so that events carrying a `recommendationId` are attributed.
   */
  takeRecommendationLog(max?: number): RecommendationLogEntry[];
  /** Every live session as versioned, checksummed bytes. */
  exportSessions(): Uint8Array;
  /** Imports exported sessions; returns how many were imported. */
  importSessions(bytes: Uint8Array | ArrayBuffer): number;
  /**
   * Loads a signed-in user's profile (their slice of the private model, from
   * `GET /users/{userId}/profile` with their token); that user is a known user from then on.
   * Returns the user id. Throws `UserProfileFormatError` or `UserProfileMismatchError`.
   */
  loadUserProfile(bytes: Uint8Array | ArrayBuffer): string;
  info(): ModelInfo;
  /** Releases the engine's memory; the object is unusable afterwards. */
  free(): void;
}

/** Whether this runtime supports wasm simd128 (the faster build is then used). */
export declare function simdSupported(): boolean;

export interface RuntimeInfo {
  ready: boolean;
  simd: boolean;
  /** How often the engine was restarted after a trap. */
  restarts: number;
  /** Size of the wasm linear memory in bytes (0 before the module is ready). */
  memoryBytes: number;
}

export declare function runtimeInfo(): RuntimeInfo;
