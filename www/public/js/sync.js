// Draining a queue of batches to the sync server, in order. A batch the server stored is removed;
// one it refuses for good (a 4xx about the batch itself) is parked — moved aside with the server's
// answer, for the operator — and the next one goes on; any other failure (offline, 5xx, or a 4xx
// about the deployment: 401, 403, 404, 408, 429) stops the drain with the batch kept for the next
// attempt. The batches go to the server as the engine's outbox hands them out: it holds only what
// the server's contract accepts. No DOM, no IndexedDB here: the queue and the POST are passed in
// (js/engine.js gives the IndexedDB outbox and fetch), so the rules run in Node tests too.

/**
 * Whether `status` refuses a batch for good: the rule of the core's `contract::is_refusal`, which
 * www/test/sync.test.mjs checks status for status against tests/fixtures/contract/refusals.json.
 */
export function isRefusal(status) {
  return status >= 400 && status < 500 && ![401, 403, 404, 408, 429].includes(status);
}

/**
 * Sends the queued batches oldest first. `queue.all()` gives `[{ key, batch }]`; `queue.remove(key)`
 * deletes one that was stored; `queue.park(key, batch, refusal)` moves one aside with
 * `{ status, error, at }`. `post(batch)` resolves to a fetch Response (or rejects when offline).
 * Resolves to `{ sent, parked, error }`: the events stored (`size(batch)` each), the batches
 * parked, and why the drain stopped (`null` when the queue is empty).
 */
export async function drain(queue, post, size = (batch) => batch.eventList.length) {
  let sent = 0;
  let parked = 0;
  for (const { key, batch } of await queue.all()) {
    let res;
    try {
      res = await post(batch);
    } catch {
      return { sent, parked, error: 'offline' };
    }
    if (res.ok) {
      await queue.remove(key);
      sent += size(batch);
    } else if (isRefusal(res.status)) {
      const error = await res.text().catch(() => '');
      console.warn(`edgerec store: the sync server refused a batch (HTTP ${res.status}); parked`, error);
      await queue.park(key, batch, { status: res.status, error, at: Date.now() });
      parked += 1;
    } else {
      return { sent, parked, error: `HTTP ${res.status}` };
    }
  }
  return { sent, parked, error: null };
}
