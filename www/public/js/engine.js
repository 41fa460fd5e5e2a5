// The shop's side of edgerec: loads the model (Cache API first, so a warm or offline load needs no
// network), answers requests with their latency, records events (the session adapts at once),
// keeps the outbox in IndexedDB and drains it to the sync server (js/sync.js: a batch the server
// refuses for good is parked, visible in the debug panel), and swaps in a newer model
// fetched in the background (ETag) without a reload. Every recommendation comes from the package.
// A signed-in shopper's profile (their own slice of the private model) is fetched with the token
// the shop's backend mints and loaded into the engine, kept in IndexedDB for offline visits, and
// fetched again when a newer model replaces the one it was cut from.
import { Recommender } from '/vendor/edgerec/browser.js';
import { kvDelete, kvGet, kvSet, outboxAdd, outboxAll, outboxCount, outboxDelete, outboxPark } from './idb.js';
import { drain } from './sync.js';

const MODEL_URL = '/api/model';
/** The shop's A/B experiments (the package's declaration, docs/experiments.md), precached. */
const EXPERIMENTS_URL = '/experiments.json';
const MODEL_CACHE = 'edgerec-model';
const SYNC_EVERY_MS = 5000;
// How often to ask for a newer model (localStorage 'edgerec:refreshMs' overrides, e.g. in tests).
const REFRESH_EVERY_MS = Number(localStorage.getItem('edgerec:refreshMs')) || 30000;

const listeners = new Set();
export const state = {
  rec: null,
  etag: null,
  modelVersion: null,
  modelBytes: 0,
  modelSource: null,
  loadMs: null,
  latencies: [],
  lastLatency: null,
  outbox: 0,
  synced: 0,
  lastSync: null,
  syncError: null,
  /** Batches the sync server refused for good, kept in IndexedDB's `parked` store. */
  parked: 0,
  /** The server's answer to the last parked batch. */
  parkedError: null,
  online: navigator.onLine,
  swaps: 0,
  /** The signed-in shopper's loaded profile: { userId, bytes, source, modelVersion }. */
  profile: null,
  profileError: null,
};

export function onChange(fn) {
  listeners.add(fn);
}

function changed() {
  for (const fn of listeners) fn(state);
}

async function fromCache() {
  if (!('caches' in self)) return null;
  const cache = await caches.open(MODEL_CACHE);
  return cache.match(MODEL_URL);
}

async function toCache(res) {
  if (!('caches' in self)) return;
  const cache = await caches.open(MODEL_CACHE);
  await cache.put(MODEL_URL, res);
}

async function decode(res, source) {
  const bytes = new Uint8Array(await res.arrayBuffer());
  const rec = await Recommender.fromBytes(bytes);
  return { rec, bytes: bytes.length, etag: res.headers.get('etag'), source };
}

/** Loads the model (the cached copy when there is one, else the network), then `userId`'s profile. */
export async function load(userId) {
  const t = performance.now();
  let res = await fromCache();
  let source = 'cache';
  if (!res) {
    res = await fetch(MODEL_URL, { cache: 'no-store' });
    if (!res.ok) throw new Error(`model: HTTP ${res.status}`);
    await toCache(res.clone());
    source = 'network';
  }
  const m = await decode(res, source);
  await loadExperiments();
  install(m);
  state.loadMs = performance.now() - t;
  const saved = await kvGet('sessions').catch(() => undefined);
  if (saved) {
    try {
      state.rec.importSessions(saved);
    } catch (e) {
      console.warn('edgerec store: saved sessions not imported', e);
    }
  }
  await restoreProfile(userId);
  state.outbox = await outboxCount();
  await countParked();
  changed();
  setInterval(() => sync(), SYNC_EVERY_MS);
  setInterval(() => refreshModel(), REFRESH_EVERY_MS);
  addEventListener('online', () => {
    state.online = true;
    changed();
    sync();
    refreshModel();
  });
  addEventListener('offline', () => {
    state.online = false;
    changed();
  });
  sync();
  if (source === 'cache') refreshModel();
}

/** The declared experiments' text, once fetched (null: none, or not reachable). */
let experiments = null;

async function loadExperiments() {
  try {
    const res = await fetch(EXPERIMENTS_URL);
    experiments = res.ok ? await res.text() : null;
  } catch {
    experiments = null;
  }
}

function install(m) {
  if (experiments) {
    try {
      m.rec.setExperiments(experiments);
    } catch (e) {
      console.warn('edgerec store: experiments.json not used', e);
    }
  }
  state.rec = m.rec;
  state.etag = m.etag;
  state.modelBytes = m.bytes;
  state.modelSource = m.source;
  state.modelVersion = m.rec.info().modelVersion;
}

let refreshing = null;

/** Asks the sync server for a newer model (If-None-Match); swaps it in, sessions kept. */
export function refreshModel() {
  refreshing ??= (async () => {
    try {
      const headers = state.etag ? { 'if-none-match': state.etag } : {};
      const res = await fetch(MODEL_URL, { cache: 'no-store', headers });
      if (res.status !== 200) return false;
      await toCache(res.clone());
      const m = await decode(res, 'network');
      const old = state.rec;
      m.rec.importSessions(old.exportSessions());
      install(m);
      state.swaps += 1;
      old.free();
      // The profile was cut from the old model: the new one needs the shopper's new profile.
      if (state.profile) await restoreProfile(state.profile.userId);
      changed();
      return true;
    } catch {
      return false;
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}

// ---- signed-in shoppers -------------------------------------------------------------------------

function applyProfile(bytes, source) {
  const userId = state.rec.loadUserProfile(bytes);
  state.profile = { userId, bytes: bytes.length, source, modelVersion: state.modelVersion };
  state.profileError = null;
}

/**
 * Signs a shopper in: the shop's backend mints their user token, the sync server hands this page
 * their profile for it, and the engine loads it (kept in IndexedDB for offline visits).
 */
export async function signIn(userId) {
  try {
    const res = await fetch('/api/sign-in', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ userId }) });
    if (!res.ok) throw new Error(`sign-in: HTTP ${res.status} ${await res.text()}`);
    const { token } = await res.json();
    const profile = await fetch(`/api/users/${encodeURIComponent(userId)}/profile`, { headers: { authorization: `Bearer ${token}` }, cache: 'no-store' });
    if (!profile.ok) throw new Error(`profile: HTTP ${profile.status} ${await profile.text()}`);
    const bytes = new Uint8Array(await profile.arrayBuffer());
    applyProfile(bytes, 'network');
    await kvSet('profile', { userId, bytes });
  } catch (e) {
    state.profileError = e.message;
    throw e;
  } finally {
    changed();
  }
}

/** Loads `userId`'s stored profile, or a fresh one when none is stored or it is for another model. */
async function restoreProfile(userId) {
  if (!userId) return;
  const saved = await kvGet('profile').catch(() => undefined);
  if (saved?.userId === userId) {
    try {
      applyProfile(saved.bytes, 'stored');
      return;
    } catch (e) {
      if (e.code !== 'UserProfileMismatchError') console.warn('edgerec store: the stored profile was refused', e);
    }
  }
  try {
    await signIn(userId);
  } catch (e) {
    console.warn('edgerec store: no profile for the signed-in shopper', e);
  }
}

/** Signs the shopper out: their profile is deleted and the engine rebuilt without it. */
export async function signOut() {
  if (!state.profile) return;
  state.profile = null;
  await kvDelete('profile');
  const res = (await fromCache()) ?? (await fetch(MODEL_URL, { cache: 'no-store' }));
  const m = await decode(res, state.modelSource);
  const old = state.rec;
  m.rec.importSessions(old.exportSessions());
  install(m);
  old.free();
  changed();
}

function timed(fn) {
  const t = performance.now();
  const out = fn();
  const ms = performance.now() - t;
  state.lastLatency = ms;
  state.latencies.push(ms);
  if (state.latencies.length > 500) state.latencies.shift();
  return out;
}

export function recommend(request) {
  return timed(() => state.rec.getRecommendations(request));
}

export function rank(request) {
  return timed(() => state.rec.getPersonalizedRanking(request));
}

export function sessionEvents(key) {
  return sessionLog.get(key) ?? [];
}

// What the visitor did, per session key, newest first (for the debug panel and "because you ...").
const sessionLog = new Map();

/**
 * Records events for one visitor: the session adapts before this returns; the events then go to
 * the IndexedDB outbox and are synced in the background.
 */
export async function track({ sessionId, userId }, events) {
  const key = userId ?? sessionId;
  for (let i = 0; i < events.length; i += 10) {
    const eventList = events.slice(i, i + 10).map((e) => ({ sentAt: new Date(), ...e }));
    state.rec.putEvents(userId ? { sessionId, userId, eventList } : { sessionId, eventList });
  }
  const log = sessionLog.get(key) ?? [];
  for (const e of events) log.unshift({ eventType: e.eventType, itemId: e.itemId, at: Date.now() });
  sessionLog.set(key, log.slice(0, 50));
  // The outbox's batches as they are: the engine took only what the sync server accepts.
  const batches = state.rec.takeOutbox();
  if (batches.length) await outboxAdd(batches);
  await kvSet('sessions', state.rec.exportSessions());
  state.outbox = await outboxCount();
  changed();
  sync();
}

/** Shown recommendations not yet written to IndexedDB (flushed with the next sync). */
let shown = [];

/**
 * Notes what a row showed (`recommendationId`, recommender, experiment and variant when one was
 * assigned, items): the sync server uses it to attribute later events carrying that
 * `recommendationId` (per variant in `edgerec report`), and as the row's impressions.
 */
export function logShown(entry) {
  shown.push({ ...entry, createdAt: Math.floor(Date.now() / 1000) });
}

async function flushShown() {
  if (!shown.length) return;
  const entries = shown;
  shown = [];
  await outboxAdd(entries, 'shown');
}

/** The queue `store` of IndexedDB as js/sync.js drains it: removed when sent, parked when refused. */
function queue(store, all) {
  return {
    all,
    remove: (keys) => outboxDelete([keys].flat(), store),
    park: (keys, batch, refusal) => outboxPark(store, [keys].flat(), { batch, ...refusal }),
  };
}

const postJson = (url) => (body) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

/** Sends the recommendation log (up to 1000 entries, one request); a refused log is parked too. */
async function syncShown() {
  await flushShown();
  const queued = (await outboxAll('shown')).slice(0, 1000);
  if (!queued.length) return true;
  const one = async () => [{ key: queued.map((r) => r.key), batch: { recommendations: queued.map((r) => r.batch) } }];
  const r = await drain(queue('shown', one), postJson('/api/recommendations-log'), (b) => b.recommendations.length);
  return r.error === null;
}

async function countParked() {
  const parked = await outboxAll('parked').catch(() => []);
  const last = parked.at(-1)?.batch;
  state.parked = parked.length;
  state.parkedError = last ? `HTTP ${last.status}: ${last.error}` : null;
}

/** The batches the sync server refused for good, oldest first: `{ key, batch: { from, batch, status, error, at } }`. */
export function parkedBatches() {
  return outboxAll('parked');
}

let syncing = null;

/**
 * Sends the queued batches to the sync server (js/sync.js): each is deleted only after the server
 * stored it, parked when the server refuses it for good; any other failure stops until the next try.
 */
export function sync() {
  syncing ??= (async () => {
    try {
      const r = await drain(queue('outbox', () => outboxAll()), postJson('/api/events'));
      state.synced += r.sent;
      if (r.sent) state.lastSync = new Date();
      state.syncError = r.error;
      if (r.error === null) await syncShown().catch(() => false);
    } finally {
      state.outbox = await outboxCount();
      await countParked();
      syncing = null;
      changed();
    }
  })();
  return syncing;
}

export function median(xs) {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}
