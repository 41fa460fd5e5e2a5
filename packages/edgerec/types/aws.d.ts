// "edgerec/aws": the AWS SDK v3 Personalize clients' surface (@aws-sdk/client-personalize-runtime
// and -events), answered on the device by a Recommender. Shapes follow the SDK's declarations.
import type { Recommender, StringMap } from './index.js';

/** The SDK's `$metadata`: the HTTP status Personalize would give, and a fresh request id. */
export interface ResponseMetadata {
  httpStatusCode?: number;
  requestId?: string;
  extendedRequestId?: string;
  cfId?: string;
  attempts?: number;
  totalRetryDelay?: number;
}

export interface MetadataBearer {
  $metadata: ResponseMetadata;
}

/** What the clients take: the model that answers, or a promise of it (`Recommender.fromUrl(...)`). */
export interface PersonalizeClientConfig {
  recommender: Recommender | Promise<Recommender>;
}

/** The SDK's `send` options; an aborted signal rejects the call. */
export interface SendOptions {
  abortSignal?: AbortSignal;
}

/** The SDK's base exception. */
export declare class PersonalizeServiceException extends Error implements MetadataBearer {
  readonly $fault: 'client' | 'server';
  $metadata: ResponseMetadata;
  constructor(options: { name: string; message?: string; $fault: 'client' | 'server'; $metadata: ResponseMetadata; cause?: unknown });
}
export { PersonalizeServiceException as PersonalizeRuntimeServiceException };
export { PersonalizeServiceException as PersonalizeEventsServiceException };

/** A field is missing, malformed or out of Personalize's limits (HTTP 400). */
export declare class InvalidInputException extends PersonalizeServiceException {
  readonly name: 'InvalidInputException';
  readonly $fault: 'client';
  constructor(options: { message?: string; $metadata: ResponseMetadata; cause?: unknown });
}

/** The recommender (campaign, recommender ARN) or named filter is not in the model (HTTP 404). */
export declare class ResourceNotFoundException extends PersonalizeServiceException {
  readonly name: 'ResourceNotFoundException';
  readonly $fault: 'client';
  constructor(options: { message?: string; $metadata: ResponseMetadata; cause?: unknown });
}

export interface Promotion {
  name?: string | undefined;
  percentPromotedItems?: number | undefined;
  filterArn?: string | undefined;
  filterValues?: Record<string, string> | undefined;
}

/** `GetRecommendations`: `campaignArn` or `recommenderArn` names the recommender by its last path segment. */
export interface GetRecommendationsCommandInput {
  campaignArn?: string | undefined;
  recommenderArn?: string | undefined;
  itemId?: string | undefined;
  userId?: string | undefined;
  numResults?: number | undefined;
  context?: Record<string, string> | undefined;
  /** A named filter of the model, by the ARN's last path segment. */
  filterArn?: string | undefined;
  filterValues?: Record<string, string> | undefined;
  promotions?: Promotion[] | undefined;
  metadataColumns?: Record<string, string[]> | undefined;
}

export interface PredictedItem {
  itemId?: string | undefined;
  score?: number | undefined;
  promotionName?: string | undefined;
  metadata?: StringMap | undefined;
  reason?: string[] | undefined;
}

export interface GetRecommendationsCommandOutput extends MetadataBearer {
  itemList?: PredictedItem[] | undefined;
  recommendationId?: string | undefined;
}

export interface GetPersonalizedRankingCommandInput {
  campaignArn: string | undefined;
  inputList: string[] | undefined;
  userId: string | undefined;
  context?: Record<string, string> | undefined;
  filterArn?: string | undefined;
  filterValues?: Record<string, string> | undefined;
  metadataColumns?: Record<string, string[]> | undefined;
}

export interface GetPersonalizedRankingCommandOutput extends MetadataBearer {
  personalizedRanking?: PredictedItem[] | undefined;
  recommendationId?: string | undefined;
}

/** A JSON object, sent as its string (the SDK's automatic JSON string conversion). */
export type JsonProperties = string | Record<string, unknown>;

export interface Event {
  eventId?: string | undefined;
  eventType: string | undefined;
  eventValue?: number | undefined;
  itemId?: string | undefined;
  properties?: JsonProperties | undefined;
  sentAt: Date | undefined;
  recommendationId?: string | undefined;
  impression?: string[] | undefined;
  metricAttribution?: { eventAttributionSource: string | undefined } | undefined;
}

/** `PutEvents`: the session adapts at once; the events are queued in the Recommender's outbox. */
export interface PutEventsCommandInput {
  trackingId: string | undefined;
  userId?: string | undefined;
  sessionId: string | undefined;
  eventList: Event[] | undefined;
}

export interface Item {
  itemId: string | undefined;
  properties?: JsonProperties | undefined;
}

export interface PutItemsCommandInput {
  datasetArn: string | undefined;
  items: Item[] | undefined;
}

export interface User {
  userId: string | undefined;
  properties?: JsonProperties | undefined;
}

export interface PutUsersCommandInput {
  datasetArn: string | undefined;
  users: User[] | undefined;
}

export interface PutEventsCommandOutput extends MetadataBearer {}
export interface PutItemsCommandOutput extends MetadataBearer {}
export interface PutUsersCommandOutput extends MetadataBearer {}

/** A command of one operation: `new GetRecommendationsCommand(input)`. */
declare abstract class Command<Input, Output extends MetadataBearer> {
  readonly input: Input;
  /** Carries the output type for `send`; never set. */
  protected readonly __output?: Output;
  constructor(input: Input);
}

// Each command class has a private member of its own, so that one command is not taken for another.
export declare class GetRecommendationsCommand extends Command<GetRecommendationsCommandInput, GetRecommendationsCommandOutput> {
  private readonly __getRecommendations;
}
export declare class GetPersonalizedRankingCommand extends Command<GetPersonalizedRankingCommandInput, GetPersonalizedRankingCommandOutput> {
  private readonly __getPersonalizedRanking;
}
export declare class PutEventsCommand extends Command<PutEventsCommandInput, PutEventsCommandOutput> {
  private readonly __putEvents;
}
export declare class PutItemsCommand extends Command<PutItemsCommandInput, PutItemsCommandOutput> {
  private readonly __putItems;
}
export declare class PutUsersCommand extends Command<PutUsersCommandInput, PutUsersCommandOutput> {
  private readonly __putUsers;
}

type RuntimeCommand = GetRecommendationsCommand | GetPersonalizedRankingCommand;
type EventsCommand = PutEventsCommand | PutItemsCommand | PutUsersCommand;
type OutputOf<C> = C extends Command<unknown, infer O> ? O : never;

declare abstract class Client<Commands> {
  readonly config: PersonalizeClientConfig;
  constructor(config: PersonalizeClientConfig);
  send<C extends Commands>(command: C, options?: SendOptions): Promise<OutputOf<C>>;
  send<C extends Commands>(command: C, callback: (err: unknown, data?: OutputOf<C>) => void): void;
  send<C extends Commands>(command: C, options: SendOptions, callback: (err: unknown, data?: OutputOf<C>) => void): void;
  /** Nothing to release; the Recommender stays the caller's. */
  destroy(): void;
}

/** `GetRecommendations` and `GetPersonalizedRanking`, answered by the configured Recommender. */
export declare class PersonalizeRuntimeClient extends Client<RuntimeCommand> {}

/** `PutEvents`, `PutItems` and `PutUsers` into the configured Recommender. */
export declare class PersonalizeEventsClient extends Client<EventsCommand> {}

/** The SDK's aggregated runtime client: one method per operation. */
export declare class PersonalizeRuntime extends PersonalizeRuntimeClient {
  getRecommendations(input: GetRecommendationsCommandInput, options?: SendOptions): Promise<GetRecommendationsCommandOutput>;
  getPersonalizedRanking(input: GetPersonalizedRankingCommandInput, options?: SendOptions): Promise<GetPersonalizedRankingCommandOutput>;
}

/** The SDK's aggregated events client: one method per operation. */
export declare class PersonalizeEvents extends PersonalizeEventsClient {
  putEvents(input: PutEventsCommandInput, options?: SendOptions): Promise<PutEventsCommandOutput>;
  putItems(input: PutItemsCommandInput, options?: SendOptions): Promise<PutItemsCommandOutput>;
  putUsers(input: PutUsersCommandInput, options?: SendOptions): Promise<PutUsersCommandOutput>;
}
