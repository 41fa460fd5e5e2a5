// What the Worker tests share: the golden fixture, a Worker in Miniflare, JSON calls.
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';

export { startWorker, publish, tool } from '../js/local.mjs';

export const goldenDir = process.env.EDGEREC_GOLDEN_DIR;
export const goldenModel = () => fs.readFileSync(path.join(goldenDir, 'model-v1.erm'));
export const goldenCases = () => JSON.parse(fs.readFileSync(path.join(goldenDir, 'model-v1.expected.json'), 'utf8'));

export const TOKEN = 'test-write-token';
export const ADMIN = 'test-admin-token';
export const KEY_ID = 'AKIDEDGERECTEST';
export const SECRET = 'edgerec-test-secret-key';
export const VARS = {
  API_TOKEN: TOKEN,
  ADMIN_TOKEN: ADMIN,
  SIGV4_ACCESS_KEY_ID: KEY_ID,
  SIGV4_SECRET_ACCESS_KEY: SECRET,
};

/** POSTs JSON (or a string as is); returns { status, headers, body (parsed JSON or null) }. */
export async function call(mf, route, body, headers = {}) {
  const init = body === undefined
    ? { method: 'GET', headers }
    : { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) };
  const res = await mf.dispatchFetch(`http://localhost${route}`, init);
  const text = await res.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = text;
  }
  return { status: res.status, headers: res.headers, body: json };
}

export const auth = { authorization: `Bearer ${TOKEN}` };

/** The item ids of a GetRecommendations / GetPersonalizedRanking answer. */
export const ids = (resp) => (resp.itemList ?? resp.personalizedRanking).map((p) => p.itemId);

/** Drops `recommendationId`, which is random per request. */
export function withoutRid(resp) {
  const { recommendationId: _, ...rest } = resp;
  return rest;
}

/** The admin token of the sync servers the tests start (`/health` details need it). */
export const SYNC_ADMIN = 'sync-admin-token';

/** Starts `edgerec serve` (on a free port unless `listen` is given); resolves to { url, child, stop }. */
export async function startSyncServer(dataDir, token, listen = '127.0.0.1:0') {
  const child = spawn(process.env.EDGEREC_BIN, ['serve', '--data-dir', dataDir, '--listen', listen, '--write-token', token, '--admin-token', SYNC_ADMIN], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  const url = await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/listening on (\S+)/);
      if (m) resolve(`http://${m[1]}`);
    });
    child.on('exit', (code) => reject(new Error(`edgerec serve exited (${code}): ${err}`)));
  });
  return {
    url,
    child,
    stop: () => new Promise((r) => { child.once('exit', r); child.kill('SIGTERM'); }),
  };
}

/** Polls `fn` until it returns a truthy value or `ms` pass. */
export async function eventually(fn, ms = 10000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
}
