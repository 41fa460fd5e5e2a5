// A tiny promise wrapper over IndexedDB: the event outbox (PutEvents batches waiting to be synced),
// the log of shown recommendations (impressions, for attribution), the batches the sync server
// refused for good (`parked`, kept with its answer for the operator) and a key-value store (the
// exported sessions).
const DB = 'edgerec-store';

let dbPromise = null;

function open() {
  dbPromise ??= new Promise((resolve, reject) => {
    // Version 2 added `parked`; the stores of version 1 are kept as they are.
    const req = indexedDB.open(DB, 2);
    req.onupgradeneeded = () => {
      const db = req.result;
      for (const name of ['outbox', 'shown', 'parked']) {
        if (!db.objectStoreNames.contains(name)) db.createObjectStore(name, { autoIncrement: true });
      }
      if (!db.objectStoreNames.contains('kv')) db.createObjectStore('kv');
    };
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
  return dbPromise;
}

async function tx(store, mode, fn) {
  const db = await open();
  return new Promise((resolve, reject) => {
    const t = db.transaction(store, mode);
    const result = fn(t.objectStore(store));
    t.oncomplete = () => resolve(result.value);
    t.onerror = () => reject(t.error);
    t.onabort = () => reject(t.error);
  });
}

/** Appends records to a queue ('outbox': PutEvents batches; 'shown': recommendation-log entries). */
export function outboxAdd(batches, store = 'outbox') {
  return tx(store, 'readwrite', (s) => {
    for (const b of batches) s.add(b);
    return {};
  });
}

/** Every queued record with its key, oldest first. */
export function outboxAll(store = 'outbox') {
  return tx(store, 'readonly', (s) => {
    const out = { value: [] };
    s.openCursor().onsuccess = (e) => {
      const c = e.target.result;
      if (c) {
        out.value.push({ key: c.key, batch: c.value });
        c.continue();
      }
    };
    return out;
  });
}

export function outboxDelete(keys, store = 'outbox') {
  return tx(store, 'readwrite', (s) => {
    for (const k of keys) s.delete(k);
    return {};
  });
}

/**
 * Moves queued records (`keys` of `store`) into `parked` as one record `{ from: store, ...entry }`
 * (`entry`: the batch and the server's refusal), in one transaction: never in both, never lost.
 */
export async function outboxPark(store, keys, entry) {
  const db = await open();
  return new Promise((resolve, reject) => {
    const t = db.transaction([store, 'parked'], 'readwrite');
    t.objectStore('parked').add({ from: store, ...entry });
    for (const k of keys) t.objectStore(store).delete(k);
    t.oncomplete = () => resolve();
    t.onerror = () => reject(t.error);
    t.onabort = () => reject(t.error);
  });
}

/** Number of queued events (not batches). */
export async function outboxCount() {
  const all = await outboxAll();
  return all.reduce((n, r) => n + r.batch.eventList.length, 0);
}

export function kvGet(key) {
  return tx('kv', 'readonly', (s) => {
    const out = { value: undefined };
    s.get(key).onsuccess = (e) => {
      out.value = e.target.result;
    };
    return out;
  });
}

export function kvSet(key, value) {
  return tx('kv', 'readwrite', (s) => {
    s.put(value, key);
    return {};
  });
}

export function kvDelete(key) {
  return tx('kv', 'readwrite', (s) => {
    s.delete(key);
    return {};
  });
}
