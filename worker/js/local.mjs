// Runs the built Worker locally in workerd through Miniflare: the R2 bucket, the sessions'
// Durable Object namespace and (optionally) the sync queue, all in memory. Used by the tests
// and by `cargo xtask worker dev`.
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

/** Imports a package's ESM entry from the tools folder (`EDGEREC_TOOLS`). */
export async function tool(name, tools = process.env.EDGEREC_TOOLS) {
  const dir = path.join(tools, name);
  const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
  let entry = pkg.exports?.['.'] ?? pkg.main ?? 'index.js';
  while (typeof entry !== 'string') {
    if (Array.isArray(entry)) entry = entry[0];
    else entry = entry.import ?? entry.node ?? entry.default ?? entry.require;
    if (entry && typeof entry === 'object' && entry.default && typeof entry.default === 'string') entry = entry.default;
  }
  return import(pathToFileURL(path.join(dir, entry)).href);
}

/**
 * Starts the Worker. `vars` become environment variables (API_TOKEN, SYNC_URL, ...);
 * `model` (bytes) is put at `model.erm` in the MODELS bucket, `publicModel` (bytes, the public
 * profile that `GET /model` serves) at `model.public.erm`; `queue: true` binds SYNC_QUEUE;
 * `persist` (a folder) keeps Durable Object and R2 storage on disk across restarts; `metrics:
 * true` binds METRICS to Miniflare's Analytics Engine dataset (which keeps nothing); `lake: true`
 * binds the LAKE bucket (the event lake the queue consumer writes Parquet to).
 */
export async function startWorker({ build = process.env.EDGEREC_WORKER_BUILD, model, publicModel, vars = {}, port, queue = false, persist, metrics = false, lake = false } = {}) {
  const { Miniflare } = await tool('miniflare');
  const mf = new Miniflare({
    modules: true,
    scriptPath: path.join(build, 'entry.mjs'),
    modulesRoot: build,
    modulesRules: [
      { type: 'ESModule', include: ['**/*.js', '**/*.mjs'] },
      { type: 'CompiledWasm', include: ['**/*.wasm'] },
    ],
    compatibilityDate: '2026-04-01',
    r2Buckets: lake ? ['MODELS', 'LAKE'] : ['MODELS'],
    durableObjects: { SESSIONS: 'SessionState' },
    ...(queue
      ? { queueProducers: { SYNC_QUEUE: 'edgerec-sync' }, queueConsumers: { 'edgerec-sync': { maxBatchTimeout: 0.05, maxRetries: 5 } } }
      : {}),
    ...(metrics ? { analyticsEngineDatasets: { METRICS: { dataset: 'edgerec_requests' } } } : {}),
    bindings: { MODEL_CHECK_SECONDS: '0', ...vars },
    ...(persist ? { durableObjectsPersist: `${persist}/do`, r2Persist: `${persist}/r2` } : {}),
    cf: false,
    host: '127.0.0.1',
    ...(port ? { port } : {}),
  });
  await mf.ready;
  if (model) await publish(mf, model);
  if (publicModel) await publish(mf, publicModel, 'model.public.erm');
  return mf;
}

/** Writes model bytes into the Worker's R2 bucket (what `wrangler r2 object put` does). */
export async function publish(mf, bytes, key = 'model.erm') {
  const bucket = await mf.getR2Bucket('MODELS');
  await bucket.put(key, Uint8Array.from(bytes));
}
