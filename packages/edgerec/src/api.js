// The JS face of the package: the Recommender class over the wasm bindings, module loading with
// SIMD selection, input normalisation (Dates, PutItems shapes), and recovery after a trap.
// Environment entries (node.js, browser.js, workerd.js, slim.js) only say how to get the wasm.
import * as glue from './wasm/edgerec_wasm.js';
import { verification, verifyModel } from './verify.js';

// A minimal module using i8x16.popcnt: validates only where wasm simd128 is supported.
const SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15,
  253, 98, 11,
]);

/** Whether this runtime validates wasm simd128 (the faster build is used then). */
export function simdSupported() {
  try {
    return typeof WebAssembly === 'object' && WebAssembly.validate(SIMD_PROBE);
  } catch {
    return false;
  }
}

const state = { module: null, exports: null, simd: false, generation: 0, pending: null, loader: null };
/** Raw engine objects of the current instance (weakly held), detached on reset. */
const live = new Set();

export function codeError(code, message, cause) {
  const e = new Error(message, cause === undefined ? undefined : { cause });
  e.name = code;
  e.code = code;
  return e;
}

/** Instantiates the bindings from a compiled module (synchronous). */
export function initWithModule(module, simd) {
  if (!(module instanceof WebAssembly.Module)) {
    throw codeError('InvalidInputException', 'module: must be a WebAssembly.Module');
  }
  if (state.module !== null) return;
  state.exports = glue.initSync({ module });
  state.module = module;
  state.simd = Boolean(simd);
}

/** Sets how the default entries load the module on first use: `async () => ({ module, simd })`. */
export function setLoader(loader) {
  state.loader = loader;
}

export function isReady() {
  return state.module !== null;
}

export async function ready() {
  if (state.module !== null) return;
  if (state.pending === null) {
    if (state.loader === null) {
      throw codeError('NotInitialized', 'edgerec is not initialised: call init() from "edgerec/slim" first');
    }
    state.pending = state.loader().then(
      ({ module, simd }) => initWithModule(module, simd),
      (e) => {
        state.pending = null;
        throw e;
      },
    );
  }
  await state.pending;
}

function requireReady() {
  if (state.module === null) {
    throw codeError(
      'NotInitialized',
      'edgerec is not initialised: await Recommender.fromBytes()/fromUrl(), or call init()/initSync() from "edgerec/slim"',
    );
  }
}

/** After a trap the instance may be corrupt: drop it and instantiate the same module again. */
function restart() {
  for (const ref of live) {
    const raw = ref.deref();
    // Detach without calling into wasm, so no finalizer reaches the new instance.
    if (raw !== undefined) raw.__destroy_into_raw();
  }
  live.clear();
  glue.__edgerecReset();
  state.exports = glue.initSync({ module: state.module });
  state.generation += 1;
}

function isTrap(e) {
  return typeof WebAssembly === 'object' && e instanceof WebAssembly.RuntimeError;
}

function toBytes(what, bytes) {
  if (bytes instanceof Uint8Array) return bytes;
  if (bytes instanceof ArrayBuffer) return new Uint8Array(bytes);
  if (ArrayBuffer.isView(bytes)) return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  throw codeError('InvalidInputException', `${what}: must be a Uint8Array or ArrayBuffer`);
}

function seconds(t) {
  return t instanceof Date ? t.getTime() / 1000 : t;
}

function normaliseEvents(req) {
  if (req === null || typeof req !== 'object' || !Array.isArray(req.eventList)) return req;
  return { ...req, eventList: req.eventList.map((e) => (e && e.sentAt instanceof Date ? { ...e, sentAt: seconds(e.sentAt) } : e)) };
}

function records(arg, key) {
  return arg !== null && typeof arg === 'object' && !Array.isArray(arg) && Array.isArray(arg[key]) ? arg[key] : arg;
}

/**
 * Hands the model to the engine section by section (each copied into wasm memory once and kept
 * there as the decoded model's storage), so the file is never resident in wasm memory twice.
 */
function decodeSections(bytes) {
  const prefix = bytes.subarray(0, Math.min(bytes.length, glue.ModelLoader.headerPrefixLength()));
  const loader = new glue.ModelLoader(prefix, bytes.length);
  let done = false;
  try {
    for (let next = loader.nextSection(); next !== undefined; next = loader.nextSection()) {
      const [offset, length] = next;
      loader.push(bytes.subarray(offset, offset + length));
    }
    done = true;
    return loader.finish();
  } catch (e) {
    // After a trap the instance is discarded as a whole; otherwise release the loader.
    if (!done && !isTrap(e)) loader.free();
    throw e;
  }
}

function makeRaw(bytes) {
  const raw = decodeSections(bytes);
  live.add(new WeakRef(raw));
  return raw;
}

let rawOf;

/**
 * For the package's own tests only (no entry point exports it): the wasm-bindgen object behind
 * a Recommender, so a test can make a real trap happen (see test/recovery.test.mjs). The
 * published wasm has no trap hook.
 */
export function rawForTests(rec) {
  return rawOf(rec);
}

/** A model loaded into an engine: recommendations, ranking, live sessions and an outbox. */
export class Recommender {
  #raw;
  #generation;
  #source;
  #verified;
  /** Loaded user profiles by user id (copies), loaded again when the engine is rebuilt. */
  #profiles = new Map();
  /** The declared experiments (read by `readExperiments`). */
  #experiments = [];
  /** What this Recommender answered, for the sync server's /recommendations-log. */
  #log = [];
  #logDropped = 0;

  constructor(token, raw, source, verified) {
    if (token !== CONSTRUCT) throw new TypeError('use Recommender.fromBytes() or Recommender.fromUrl()');
    this.#raw = raw;
    this.#generation = state.generation;
    this.#source = source;
    this.#verified = verified;
  }

  /**
   * Decodes `.erm` bytes; loads the wasm module first when needed. With `integrity` and/or
   * `publicKey`, a copy of the bytes is checked first (WebCrypto) and nothing is decoded
   * unless the checks pass.
   */
  static async fromBytes(bytes, options = {}) {
    const plan = verification(options);
    if (plan === null) {
      await ready();
      return Recommender.fromBytesSync(bytes, options);
    }
    // The bytes checked are the bytes decoded, whatever the caller does with its buffer.
    const copy = toBytes('bytes', bytes).slice();
    const [verified] = await Promise.all([verifyModel(copy, plan), ready()]);
    return Recommender.#decode(copy, options, verified);
  }

  /** Decodes `.erm` bytes; the module must be ready (always in Node and workerd). */
  static fromBytesSync(bytes, options = {}) {
    if (verification(options) !== null) {
      throw codeError('InvalidInputException', 'integrity/publicKey: checking them is asynchronous; use await Recommender.fromBytes()');
    }
    return Recommender.#decode(toBytes('bytes', bytes), options, null);
  }

  static #decode(view, options, verified) {
    requireReady();
    const experiments = readExperiments(options.experiments);
    let raw;
    try {
      raw = makeRaw(view);
    } catch (e) {
      if (isTrap(e)) {
        restart();
        throw codeError('InternalError', 'the engine trapped while decoding; it was restarted', e);
      }
      throw e;
    }
    const rec = new Recommender(CONSTRUCT, raw, options.retainSource === false ? null : view, verified);
    rec.#experiments = experiments;
    return rec;
  }

  /**
   * Fetches a model with a streamed download into one buffer, then decodes it. With
   * `integrity` ('sha256-<base64>', as in SRI) and/or `publicKey` (a trusted Ed25519 key), the
   * bytes are checked first and nothing is decoded unless the checks pass.
   */
  static async fromUrl(url, options = {}) {
    const plan = verification(options);
    const doFetch = options.fetch ?? globalThis.fetch;
    const [bytes] = await Promise.all([download(doFetch, url, options), ready()]);
    const verified = plan === null ? null : await verifyModel(bytes, plan);
    return Recommender.#decode(bytes, options, verified);
  }

  static {
    rawOf = (rec) => rec.#raw;
  }

  #call(name, f) {
    if (this.#raw === null) throw codeError('InvalidStateException', `${name}: this Recommender was freed`);
    if (this.#generation !== state.generation) this.#rebuild(name);
    try {
      return f(this.#raw);
    } catch (e) {
      if (!isTrap(e)) throw e;
      restart();
      this.#rebuild(name);
      throw codeError(
        'InternalError',
        `${name}: the engine trapped and was restarted from its model; live sessions and queued events were lost`,
        e,
      );
    }
  }

  #rebuild(name) {
    if (this.#source === null) {
      this.#raw = null;
      throw codeError('InvalidStateException', `${name}: the engine was restarted and this Recommender kept no model bytes (retainSource: false); load it again`);
    }
    this.#raw = makeRaw(this.#source);
    this.#generation = state.generation;
    for (const profile of this.#profiles.values()) this.#raw.loadUserProfile(profile);
  }

  /**
   * Declares A/B experiments (JSON text, an experiment object or an array of them; `null`
   * clears them): a read of an experiment's recommender is answered by the variant of its
   * `userId` (else `sessionId`), as the edgerec Worker and `edgerec serve` assign it. Returns
   * how many experiments were declared.
   */
  setExperiments(experiments) {
    this.#experiments = readExperiments(experiments);
    return this.#experiments.length;
  }

  getRecommendations(request) {
    checkSession(request);
    const a = assignVariant(this.#experiments, request);
    const res = this.#call('getRecommendations', (r) => r.getRecommendations(a === null ? request : a.request));
    return this.#record(request, res, res.itemList, a);
  }

  getPersonalizedRanking(request) {
    checkSession(request);
    const a = assignVariant(this.#experiments, request);
    const res = this.#call('getPersonalizedRanking', (r) => r.getPersonalizedRanking(a === null ? request : a.request));
    return this.#record(request, res, res.personalizedRanking, a);
  }

  /** Marks an assigned answer, and notes what it recommended for the sync server (`takeRecommendationLog`). */
  #record(request, res, list, a) {
    if (a !== null) Object.assign(res, { experiment: a.experiment, variant: a.variant, recommender: a.recommender });
    const entry = { recommendationId: res.recommendationId, recommender: a === null ? named(request) : a.recommender };
    if (a !== null) Object.assign(entry, { experiment: a.experiment, variant: a.variant });
    if (typeof request.userId === 'string') entry.userId = request.userId;
    if (typeof request.sessionId === 'string') entry.sessionId = request.sessionId;
    entry.itemList = list.map((p) => p.itemId);
    entry.createdAt = Math.floor(Date.now() / 1000);
    if (this.#log.length >= LOG_CAPACITY) {
      this.#log.shift();
      this.#logDropped += 1;
    }
    this.#log.push(entry);
    return res;
  }

  /**
   * Removes and returns up to `max` entries of what this Recommender answered (oldest first,
   * each once): `{ recommendationId, recommender, experiment?, variant?, userId?, sessionId?,
   * itemList, createdAt }`, the entries of the sync server's `POST /recommendations-log` body
   * `{ "recommendations": [...] }`, which attributes later events carrying the id.
   */
  takeRecommendationLog(max = LOG_CAPACITY) {
    if (!Number.isInteger(max) || max < 0) {
      throw codeError('InvalidInputException', 'max: must be a non-negative integer');
    }
    return this.#log.splice(0, max);
  }

  putEvents(request) {
    const req = normaliseEvents(request);
    this.#call('putEvents', (r) => r.putEvents(req));
  }

  putItems(items) {
    const list = records(items, 'items');
    this.#call('putItems', (r) => r.putItems(list));
  }

  putUsers(users) {
    const list = records(users, 'users');
    this.#call('putUsers', (r) => r.putUsers(list));
  }

  takeOutbox(maxEvents = 1000) {
    if (!Number.isInteger(maxEvents) || maxEvents < 0 || maxEvents > 0xffffffff) {
      throw codeError('InvalidInputException', 'maxEvents: must be a non-negative integer');
    }
    return this.#call('takeOutbox', (r) => r.takeOutbox(maxEvents));
  }

  exportSessions() {
    return this.#call('exportSessions', (r) => r.exportSessions());
  }

  importSessions(bytes) {
    const view = toBytes('sessions', bytes);
    return this.#call('importSessions', (r) => r.importSessions(view));
  }

  /**
   * Loads a signed-in user's profile (their slice of the private model, from
   * GET /users/{userId}/profile with their token): from then on that user is a known user of
   * this model. Returns the user id.
   */
  loadUserProfile(bytes) {
    const view = toBytes('profile', bytes);
    const userId = this.#call('loadUserProfile', (r) => r.loadUserProfile(view));
    if (this.#source !== null) this.#profiles.set(userId, view.slice());
    return userId;
  }

  info() {
    const info = this.#call('info', (r) => r.info());
    return { ...info, simd: state.simd, verified: this.#verified, recommendationLogPending: this.#log.length, recommendationLogDropped: this.#logDropped };
  }

  free() {
    if (this.#raw !== null) {
      this.#raw.free();
      this.#raw = null;
      this.#source = null;
      this.#profiles.clear();
    }
  }
}

const CONSTRUCT = Symbol('construct');

/** Recommendation-log entries held before the oldest are dropped (and counted). */
const LOG_CAPACITY = 1000;

const MAX_EXPERIMENTS = 20;
const MAX_VARIANTS = 10;

function invalidAt(field, message) {
  return codeError('InvalidInputException', `${field}: ${message}`);
}

function kindOf(v) {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return { boolean: 'a boolean', number: 'a number', string: 'a string', object: 'an object' }[typeof v] ?? typeof v;
}

function checkName(field, v) {
  if (typeof v !== 'string') throw invalidAt(field, v === undefined || v === null ? 'must not be empty' : `expected a string, found ${kindOf(v)}`);
  if (v.length === 0) throw invalidAt(field, 'must not be empty');
  const n = [...v].length;
  if (n > 256) throw invalidAt(field, `length ${n} exceeds the maximum of 256 characters`);
  return v;
}

function optName(field, v) {
  return v === undefined || v === null ? undefined : checkName(field, v);
}

function onlyFields(o, at, names) {
  if (o === null || typeof o !== 'object' || Array.isArray(o)) throw invalidAt(at, `expected an object, found ${kindOf(o)}`);
  for (const k of Object.keys(o)) {
    if (!names.includes(k)) throw invalidAt(`${at}.${k}`, `is not a field; expected one of ${names.join(', ')}`);
  }
  return o;
}

/**
 * Reads an experiments declaration (docs/experiments.md) with the rules and messages of the
 * core's parser (`edgerec_core::experiment::parse`, which the Worker runs). The assignment itself
 * is the core's, in the wasm (`experimentVariant`); the parser stays out of the wasm's size budget.
 */
function readExperiments(decl) {
  if (decl === undefined || decl === null) return [];
  let value = decl;
  if (typeof decl === 'string') {
    if (decl.trim() === '') return [];
    try {
      value = JSON.parse(decl);
    } catch (e) {
      throw invalidAt('experiments', `not valid JSON: ${e.message}`);
    }
  } else if (typeof decl !== 'object') {
    throw codeError('InvalidInputException', 'experiments: must be a JSON string, an experiment object or an array of them');
  }
  const list = Array.isArray(value) ? value : value !== null && typeof value === 'object' ? [value] : null;
  if (list === null) throw invalidAt('experiments', `expected an experiment object or an array of them, found ${kindOf(value)}`);
  if (list.length > MAX_EXPERIMENTS) throw invalidAt('experiments', `holds ${list.length} experiments; the maximum is ${MAX_EXPERIMENTS}`);
  const out = [];
  list.forEach((raw, i) => {
    const at = `experiments[${i}]`;
    const e = onlyFields(raw, at, ['name', 'recommender', 'enabled', 'variants']);
    if (e.recommender === undefined || e.recommender === null) throw invalidAt(`${at}.recommender`, 'is required (the recommender the experiment applies to)');
    if (e.enabled !== undefined && e.enabled !== null && typeof e.enabled !== 'boolean') throw invalidAt(`${at}.enabled`, `expected a boolean, found ${kindOf(e.enabled)}`);
    if (e.variants !== undefined && e.variants !== null && !Array.isArray(e.variants)) throw invalidAt(`${at}.variants`, `expected an array, found ${kindOf(e.variants)}`);
    const raws = e.variants ?? [];
    const variants = raws.map((rv, k) => {
      const vat = `${at}.variants[${k}]`;
      const v = onlyFields(rv, vat, ['name', 'recommender', 'filter', 'share']);
      if (v.share !== undefined && v.share !== null && typeof v.share !== 'number') throw invalidAt(`${vat}.share`, `expected a number, found ${kindOf(v.share)}`);
      for (const f of ['name', 'recommender', 'filter']) {
        if (v[f] !== undefined && v[f] !== null && typeof v[f] !== 'string') throw invalidAt(`${vat}.${f}`, `expected a string, found ${kindOf(v[f])}`);
      }
      return { name: v.name, recommender: v.recommender ?? undefined, filter: v.filter ?? undefined, share: v.share ?? undefined };
    });
    const shared = variants.filter((v) => v.share !== undefined).length;
    if (shared !== 0 && shared !== variants.length) throw invalidAt(`${at}.variants`, 'give every variant a share, or none (equal shares)');
    const exp = { name: checkName(`${at}.name`, e.name), recommender: checkName(`${at}.recommender`, e.recommender), enabled: e.enabled ?? true, variants };
    if (variants.length < 2 || variants.length > MAX_VARIANTS) {
      throw invalidAt(`${at}.variants`, `holds ${variants.length} variants; an experiment needs 2 to ${MAX_VARIANTS}`);
    }
    variants.forEach((v, k) => {
      const vat = `${at}.variants[${k}]`;
      checkName(`${vat}.name`, v.name);
      if (variants.slice(0, k).some((w) => w.name === v.name)) throw invalidAt(`${vat}.name`, `${JSON.stringify(v.name)} names two variants`);
      optName(`${vat}.recommender`, v.recommender);
      v.share ??= 1;
      if (!(Number.isFinite(v.share) && v.share > 0)) throw invalidAt(`${vat}.share`, 'must be a positive number');
    });
    for (const prev of out) {
      if (prev.name === exp.name) throw invalidAt(`${at}.name`, `${JSON.stringify(exp.name)} names two experiments`);
      if (exp.enabled && prev.enabled && prev.recommender === exp.recommender) {
        throw invalidAt(`${at}.recommender`, `${JSON.stringify(exp.recommender)} is already the slot of the enabled experiment ${JSON.stringify(prev.name)}`);
      }
    }
    exp.shares = new Float64Array(variants.map((v) => v.share));
    out.push(exp);
  });
  return out;
}

/**
 * The experiment over the request's recommender and the variant of its key (the core's
 * assignment), or null; `request` is then the request the variant answers.
 */
function assignVariant(experiments, request) {
  if (experiments.length === 0 || request === null || typeof request !== 'object') return null;
  const slot = named(request);
  const exp = experiments.find((e) => e.enabled && e.recommender === slot);
  const key = typeof request.userId === 'string' && request.userId !== '' ? request.userId : request.sessionId;
  if (exp === undefined || typeof key !== 'string' || key === '') return null;
  const variant = exp.variants[glue.experimentVariant(exp.name, key, exp.shares)];
  const answered = { ...request, recommender: variant.recommender ?? slot };
  if (variant.filter !== undefined) {
    answered.filter = variant.filter;
    delete answered.filterArn;
  }
  return { experiment: exp.name, variant: variant.name, recommender: answered.recommender, request: answered };
}

/** The request's `sessionId` (an edgerec field: the experiment key of a read without a userId). */
function checkSession(request) {
  const s = request !== null && typeof request === 'object' ? request.sessionId : undefined;
  if (s !== undefined && s !== null && typeof s !== 'string') {
    throw codeError('InvalidInputException', 'sessionId: must be a string');
  }
}

/** The recommender a request names: `recommender`, else the last segment of its ARN. */
function named(request) {
  if (typeof request.recommender === 'string') return request.recommender;
  const arn = request.campaignArn ?? request.recommenderArn;
  return typeof arn === 'string' ? arn.slice(arn.lastIndexOf('/') + 1) : undefined;
}

async function download(doFetch, url, options) {
  if (typeof doFetch !== 'function') throw codeError('InvalidInputException', 'fetch: no fetch function in this runtime');
  const res = await doFetch(url, options.signal === undefined ? undefined : { signal: options.signal });
  if (!res.ok) {
    throw codeError(res.status === 404 ? 'ResourceNotFoundException' : 'ModelFetchError', `url: fetching ${url} gave HTTP ${res.status}`);
  }
  const total = Number(res.headers.get('content-length') ?? NaN);
  if (res.body === null || typeof res.body.getReader !== 'function') {
    return new Uint8Array(await res.arrayBuffer());
  }
  const reader = res.body.getReader();
  // One buffer of the announced size; chunks beyond it (or no length) grow it by doubling.
  let buf = new Uint8Array(Number.isSafeInteger(total) && total > 0 ? total : 1 << 20);
  let n = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (n + value.length > buf.length) {
      const bigger = new Uint8Array(Math.max(buf.length * 2, n + value.length));
      bigger.set(buf.subarray(0, n));
      buf = bigger;
    }
    buf.set(value, n);
    n += value.length;
    if (typeof options.onProgress === 'function') options.onProgress(n, Number.isSafeInteger(total) ? total : undefined);
  }
  return n === buf.length ? buf : buf.slice(0, n);
}

export function runtimeInfo() {
  return {
    ready: state.module !== null,
    simd: state.simd,
    restarts: state.generation,
    memoryBytes: state.exports === null ? 0 : state.exports.memory.buffer.byteLength,
  };
}
