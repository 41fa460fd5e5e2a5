// "edgerec/aws": the clients, commands and exceptions of the AWS SDK v3 for Amazon Personalize
// (@aws-sdk/client-personalize-runtime and -events), answered on the device by a Recommender.
// An app that calls Personalize switches to its on-device model by changing the import and
// naming the model in the client's configuration. A thin adapter: it converts the SDK's inputs
// (Dates, JSON properties), wraps answers in the SDK's output shape ($metadata) and maps errors
// to the SDK's exception classes; every answer comes from the Recommender.

const object = (x) => x !== null && typeof x === 'object';

/** The SDK's base exception: `name`, `message`, `$fault` and `$metadata` (the HTTP status Personalize would give). */
export class PersonalizeServiceException extends Error {
  constructor(options) {
    super(options.message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = options.name;
    this.$fault = options.$fault;
    this.$metadata = options.$metadata;
  }
}

/** A request field is missing, malformed or out of Personalize's limits (HTTP 400). */
export class InvalidInputException extends PersonalizeServiceException {
  constructor(options) {
    super({ ...options, name: 'InvalidInputException', $fault: 'client' });
  }
}

/** The recommender (campaign, recommender ARN) or named filter is not in the model (HTTP 404). */
export class ResourceNotFoundException extends PersonalizeServiceException {
  constructor(options) {
    super({ ...options, name: 'ResourceNotFoundException', $fault: 'client' });
  }
}

// The two SDK packages each name their base class; here one class serves both clients.
export { PersonalizeServiceException as PersonalizeRuntimeServiceException };
export { PersonalizeServiceException as PersonalizeEventsServiceException };

/** A version-4 UUID from the platform's random source (`$metadata.requestId`). */
function uuid() {
  const c = globalThis.crypto;
  if (typeof c?.randomUUID === 'function') return c.randomUUID();
  const b = c.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** The SDK's `$metadata` of one call answered at once, without retries. */
function metadata(httpStatusCode) {
  return {
    httpStatusCode,
    requestId: uuid(),
    extendedRequestId: undefined,
    cfId: undefined,
    attempts: 1,
    totalRetryDelay: 0,
  };
}

/** The Recommender's error (a `code`, a message naming the field) as the SDK would throw it. */
function toException(e) {
  // Errors without a code (a TypeError of a wrong configuration) are the caller's, kept as they are.
  if (e instanceof PersonalizeServiceException || !object(e) || typeof e.code !== 'string') return e;
  const cause = e;
  const message = typeof e.message === 'string' ? e.message : String(e);
  switch (e.code) {
    case 'InvalidInputException':
      return new InvalidInputException({ message, $metadata: metadata(400), cause });
    case 'ResourceNotFoundException':
      return new ResourceNotFoundException({ message, $metadata: metadata(404), cause });
    default:
      // A model or engine failure: the service's fault, under the Recommender's code.
      return new PersonalizeServiceException({
        name: e.code,
        message,
        $fault: 'server',
        $metadata: metadata(500),
        cause,
      });
  }
}

/** `properties` as the SDK sends it: a JSON object is serialised, a string kept. */
function jsonString(v) {
  return v === undefined || v === null || typeof v === 'string' ? v : JSON.stringify(v);
}

function withProperties(records) {
  return Array.isArray(records)
    ? records.map((r) => (object(r) && r.properties !== undefined ? { ...r, properties: jsonString(r.properties) } : r))
    : records;
}

/** A command: its input, as `new GetRecommendationsCommand(input)` makes it. */
class Command {
  constructor(input) {
    this.input = input;
  }
}

export class GetRecommendationsCommand extends Command {}
export class GetPersonalizedRankingCommand extends Command {}
export class PutEventsCommand extends Command {}
export class PutItemsCommand extends Command {}
export class PutUsersCommand extends Command {}

/** What each command asks of the Recommender; the events commands answer nothing but `$metadata`. */
const RUNTIME = new Map([
  [GetRecommendationsCommand, (rec, input) => rec.getRecommendations(input)],
  [GetPersonalizedRankingCommand, (rec, input) => rec.getPersonalizedRanking(input)],
]);
const EVENTS = new Map([
  [
    PutEventsCommand,
    // A Date `sentAt`, as the SDK takes it, is converted by the Recommender.
    (rec, input) => void rec.putEvents(object(input) ? { ...input, eventList: withProperties(input.eventList) } : input),
  ],
  [PutItemsCommand, (rec, input) => void rec.putItems(object(input) ? { ...input, items: withProperties(input.items) } : input)],
  [PutUsersCommand, (rec, input) => void rec.putUsers(object(input) ? { ...input, users: withProperties(input.users) } : input)],
]);

function isRecommender(r) {
  return object(r) && typeof r.getRecommendations === 'function' && typeof r.putEvents === 'function';
}

/** What both clients share: the configured Recommender (or a promise of one) and `send`. */
class Client {
  #recommender;
  #commands;

  constructor(config, commands, what) {
    const r = config?.recommender;
    if (!isRecommender(r) && typeof r?.then !== 'function') {
      throw new TypeError(`${what}: pass { recommender }, a Recommender from 'edgerec' or a promise of one (Recommender.fromUrl(...))`);
    }
    // A model that fails to load is reported by every call; until one is made, its rejection
    // counts as handled here (Node would otherwise stop the process).
    if (!isRecommender(r)) r.then(undefined, () => {});
    this.config = { ...config };
    this.#recommender = r;
    this.#commands = commands;
  }

  /**
   * Runs a command on the device: resolves to the SDK's output (the answer and `$metadata`), or
   * rejects with the SDK's exception. With a callback `(err, data)`, calls it instead.
   */
  send(command, optionsOrCb, cb) {
    const callback = typeof optionsOrCb === 'function' ? optionsOrCb : cb;
    const options = typeof optionsOrCb === 'function' ? undefined : optionsOrCb;
    const promise = this.#send(command, options);
    if (typeof callback !== 'function') return promise;
    promise.then((data) => callback(null, data), (err) => callback(err));
    return undefined;
  }

  async #send(command, options) {
    const run = command instanceof Command ? this.#commands.get(command.constructor) : undefined;
    if (run === undefined) {
      const names = [...this.#commands.keys()].map((c) => c.name).join(', ');
      throw new TypeError(`send: ${this.constructor.name} takes ${names} (got ${command?.constructor?.name ?? typeof command})`);
    }
    const signal = options?.abortSignal;
    if (signal?.aborted) {
      const e = new Error('Request aborted');
      e.name = 'AbortError';
      throw e;
    }
    let out;
    try {
      // A model still loading is awaited; one that failed to load fails every call.
      const rec = await this.#recommender;
      if (!isRecommender(rec)) throw new TypeError('recommender: the configured promise did not resolve to a Recommender');
      out = run(rec, command.input);
    } catch (e) {
      throw toException(e);
    }
    return { $metadata: metadata(200), ...out };
  }

  /** The SDK's clients release their HTTP agents here; the Recommender stays the caller's. */
  destroy() {}
}

/** `GetRecommendations` and `GetPersonalizedRanking` on the device: `new PersonalizeRuntimeClient({ recommender })`. */
export class PersonalizeRuntimeClient extends Client {
  constructor(config) {
    super(config, RUNTIME, 'PersonalizeRuntimeClient');
  }
}

/**
 * `PutEvents`, `PutItems` and `PutUsers` on the device: the session adapts at once (the next
 * answer of a runtime client over the same Recommender follows the events) and the events are
 * queued in the Recommender's outbox for sync.
 */
export class PersonalizeEventsClient extends Client {
  constructor(config) {
    super(config, EVENTS, 'PersonalizeEventsClient');
  }
}

/** The SDK's aggregated clients: one method per operation. */
export class PersonalizeRuntime extends PersonalizeRuntimeClient {
  getRecommendations(input, options) {
    return this.send(new GetRecommendationsCommand(input), options);
  }

  getPersonalizedRanking(input, options) {
    return this.send(new GetPersonalizedRankingCommand(input), options);
  }
}

export class PersonalizeEvents extends PersonalizeEventsClient {
  putEvents(input, options) {
    return this.send(new PutEventsCommand(input), options);
  }

  putItems(input, options) {
    return this.send(new PutItemsCommand(input), options);
  }

  putUsers(input, options) {
    return this.send(new PutUsersCommand(input), options);
  }
}
