#!/usr/bin/env node
// The storefront's origin server (Node built-ins only): serves the shop (www/public), the edgerec
// package (/vendor/edgerec/), the catalogue as JSON, and proxies /api/* to the sync server
// (GET /api/model, /api/health; POST /api/events, /api/recommendations-log), adding the write
// token to the POSTs so the token never reaches the browser. /api/model is the sync server's
// public profile (`GET /model/public`): no user ids, histories or user factors reach a browser.
// It is also the shop's backend for signing in: POST /api/sign-in mints the shopper's user token
// (edgerec/user-token) with the user-token secret, which stays here, and
// GET /api/users/{userId}/profile passes the shopper's token on to the sync server's profile route.
//
//   node www/server.mjs --sync http://127.0.0.1:8787 --write-token TOKEN --user-token-secret SECRET \
//     --package target/npm/edgerec --data data/demo --catalog data/retail [--port 8080]
//
// The first line on stdout is `storefront listening on http://HOST:PORT/`.
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

function parseArgs(argv) {
  const out = {
    port: 8080,
    host: '127.0.0.1',
    sync: 'http://127.0.0.1:8787',
    writeToken: process.env.EDGEREC_WRITE_TOKEN ?? '',
    // Accepted for compatibility; the public model needs no token (the private `GET /model`
    // is never proxied to browsers).
    adminToken: process.env.EDGEREC_ADMIN_TOKEN ?? '',
    userTokenSecret: process.env.EDGEREC_USER_TOKEN_SECRET ?? '',
    package: path.resolve(here, '../target/npm/edgerec'),
    data: path.resolve(here, '../data/demo'),
    catalog: path.resolve(here, '../data/retail'),
    public: path.join(here, 'public'),
  };
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i]?.replace(/^--/, '').replace(/-([a-z])/g, (_, c) => c.toUpperCase());
    const value = argv[i + 1];
    if (!(key in out) || value === undefined) {
      console.error(`usage: server.mjs [--port N] [--host H] [--sync URL] [--write-token T] [--admin-token T] [--user-token-secret S] [--package DIR] [--data DIR] [--catalog DIR]; bad argument ${argv[i]}`);
      process.exit(2);
    }
    out[key] = key === 'port' ? Number(value) : value;
  }
  out.sync = out.sync.replace(/\/$/, '');
  return out;
}

/** RFC 4180 CSV (quoted fields may hold commas; the demo data has no embedded quotes). */
export function parseCsv(text) {
  const rows = [];
  let row = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  if (field !== '' || row.length) {
    row.push(field);
    rows.push(row);
  }
  const [header, ...body] = rows;
  return body.filter((r) => r.length === header.length).map((r) => Object.fromEntries(header.map((h, j) => [h, r[j]])));
}

/** The shop's catalogue: products without descriptions (small, needed at once), descriptions apart. */
function buildCatalog(opts) {
  const items = parseCsv(fs.readFileSync(path.join(opts.data, 'items.csv'), 'utf8'));
  const products = items.map((r) => ({
    id: r.ITEM_ID,
    name: r.PRODUCT_NAME,
    price: Number(r.PRICE),
    category: r.CATEGORY_L1,
    style: r.CATEGORY_L2,
    promoted: r.PROMOTED === 'true',
    stock: Number(r.CURRENT_STOCK),
  }));
  const descriptions = Object.fromEntries(items.map((r) => [r.ITEM_ID, r.PRODUCT_DESCRIPTION]));
  const categories = [...new Set(products.map((p) => p.category))].sort();
  // Known shoppers: trained users (users.csv) with distinct main categories, named from the
  // catalogue's profiles (users.json.gz).
  const users = parseCsv(fs.readFileSync(path.join(opts.data, 'users.csv'), 'utf8'));
  let profiles = [];
  try {
    profiles = JSON.parse(zlib.gunzipSync(fs.readFileSync(path.join(opts.catalog, 'users.json.gz'))).toString('utf8'));
  } catch {
    profiles = [];
  }
  const byId = new Map(profiles.map((p) => [String(p.id), p]));
  const personas = [];
  const seen = new Set();
  for (const u of users) {
    const main = u.PERSONA.split('_')[0];
    if (seen.has(main)) continue;
    seen.add(main);
    const p = byId.get(u.USER_ID);
    personas.push({
      userId: u.USER_ID,
      name: p ? `${p.first_name} ${p.last_name}` : `User ${u.USER_ID}`,
      persona: u.PERSONA.split('_'),
      discount: u.DISCOUNT_PERSONA,
    });
    if (personas.length === 4) break;
  }
  return {
    '/catalog.json': JSON.stringify({ products, categories }),
    '/descriptions.json': JSON.stringify(descriptions),
    '/personas.json': JSON.stringify(personas),
  };
}

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.webmanifest': 'application/manifest+json',
  '.svg': 'image/svg+xml',
  '.wasm': 'application/wasm',
  '.erm': 'application/octet-stream',
};

function listFiles(dir, prefix) {
  const out = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...listFiles(full, `${prefix}${e.name}/`));
    else out.push([`${prefix}${e.name}`, full]);
  }
  return out;
}

/** Every static asset in memory with its ETag and compressed forms (the shop is small). */
function buildAssets(opts) {
  const assets = new Map();
  const add = (urlPath, body, type) => {
    const etag = `"${crypto.createHash('sha256').update(body).digest('hex').slice(0, 16)}"`;
    assets.set(urlPath, { body, type, etag, enc: {} });
  };
  const dist = path.join(opts.package, 'dist');
  if (!fs.existsSync(path.join(dist, 'browser.js'))) {
    throw new Error(`${dist}/browser.js not found: build the package first (cargo xtask wasm)`);
  }
  const files = [
    ...listFiles(opts.public, '/').filter(([u]) => u !== '/sw.js'),
    ...listFiles(dist, '/vendor/edgerec/').filter(([u]) => /\.(js|wasm)$/.test(u)),
  ];
  for (const [u, full] of files) add(u, fs.readFileSync(full), TYPES[path.extname(full)] ?? 'application/octet-stream');
  for (const [u, text] of Object.entries(buildCatalog(opts))) add(u, Buffer.from(text), TYPES['.json']);
  // The service worker: its cache name is the hash of everything it precaches, so any change
  // installs a new worker that fetches the new files and drops the old cache.
  const hash = crypto.createHash('sha256');
  for (const [u, a] of [...assets].sort(([x], [y]) => (x < y ? -1 : 1))) hash.update(u).update(a.etag);
  const build = hash.digest('hex').slice(0, 12);
  const precache = ['/', ...[...assets.keys()].filter((u) => u !== '/index.html' && !u.endsWith('.wasm'))];
  const sw = fs
    .readFileSync(path.join(opts.public, 'sw.js'), 'utf8')
    .replace("'__BUILD__'", JSON.stringify(build))
    .replace("['__PRECACHE__']", JSON.stringify(precache));
  add('/sw.js', Buffer.from(sw), TYPES['.js']);
  assets.set('/', assets.get('/index.html'));
  for (const a of assets.values()) precompress(a);
  return { assets, build };
}

function compressible(type) {
  return /^(text\/|application\/(json|manifest|wasm|octet-stream))|svg/.test(type);
}

/** Compresses an asset once (brotli and gzip), so that no request waits for it. */
function precompress(a) {
  if (!compressible(a.type) || a.body.length < 512) return a;
  a.enc.br ??= zlib.brotliCompressSync(a.body, {
    params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 9, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: a.body.length },
  });
  a.enc.gzip ??= zlib.gzipSync(a.body, { level: 9 });
  return a;
}

/** The body in the best encoding the client accepts (brotli, gzip, identity). */
function encode(req, a) {
  const accept = String(req.headers['accept-encoding'] ?? '');
  precompress(a);
  if (a.enc.br && /\bbr\b/.test(accept)) return { body: a.enc.br, encoding: 'br' };
  if (a.enc.gzip && /\bgzip\b/.test(accept)) return { body: a.enc.gzip, encoding: 'gzip' };
  return { body: a.body, encoding: null };
}

function send(req, res, status, a, extra = {}) {
  const { body, encoding } = encode(req, a);
  const headers = { 'content-type': a.type, 'content-length': body.length, vary: 'accept-encoding', ...extra };
  if (a.etag) headers.etag = a.etag;
  if (encoding) headers['content-encoding'] = encoding;
  res.writeHead(status, headers);
  res.end(req.method === 'HEAD' ? undefined : body);
}

function sendError(res, status, message) {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ message }));
}

async function readBody(req, limit) {
  const chunks = [];
  let n = 0;
  for await (const c of req) {
    n += c.length;
    if (n > limit) throw Object.assign(new Error('request body too large'), { status: 413 });
    chunks.push(c);
  }
  return Buffer.concat(chunks);
}

/**
 * The published model's public profile, fetched from the sync server once per ETag and kept
 * compressed. It needs no credentials and holds no one's data; the private model stays on the
 * sync server.
 */
function modelProxy(opts) {
  let cached = null; // { etag, version, asset }
  const handler = async (req, res) => {
    const headers = {};
    if (cached) headers['if-none-match'] = cached.etag;
    let upstream;
    try {
      upstream = await fetch(`${opts.sync}/model/public`, { headers });
    } catch (e) {
      if (!cached) return sendError(res, 502, `sync server unreachable: ${e.message}`);
      upstream = null;
    }
    if (upstream && upstream.status === 200) {
      const body = Buffer.from(await upstream.arrayBuffer());
      cached = {
        etag: upstream.headers.get('etag'),
        version: upstream.headers.get('x-edgerec-model-version') ?? '',
        asset: precompress({ body, type: 'application/octet-stream', etag: upstream.headers.get('etag'), enc: {} }),
      };
    } else if (upstream && upstream.status !== 304) {
      return sendError(res, upstream.status, `sync server answered ${upstream.status} for /model/public`);
    }
    const extra = { 'cache-control': 'no-cache', 'x-edgerec-model-version': cached.version };
    if (req.headers['if-none-match'] === cached.etag) {
      res.writeHead(304, { etag: cached.etag, ...extra }).end();
      return;
    }
    send(req, res, 200, cached.asset, extra);
  };
  return handler;
}

/** A request that goes nowhere: fetches and compresses the published model before any visitor. */
function warmUp(handler) {
  const sink = { writeHead: () => sink, end: () => {}, headersSent: false };
  return handler({ method: 'HEAD', headers: {} }, sink).catch(() => {});
}

/** A write route of the sync server, with the write token added here. */
async function proxyWrite(opts, route, req, res) {
  const body = await readBody(req, 8 * 1024 * 1024);
  let upstream;
  try {
    upstream = await fetch(`${opts.sync}${route}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${opts.writeToken}` },
      body,
    });
  } catch (e) {
    return sendError(res, 502, `sync server unreachable: ${e.message}`);
  }
  const text = await upstream.text();
  res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/json' }).end(text);
}

/** How long a shopper's user token is valid (the page asks for a new one when it expires). */
const USER_TOKEN_TTL_SECONDS = 3600;

/**
 * POST /api/sign-in `{ userId }`: signs a demo shopper in and returns their user token. A real
 * shop would check a password or its own session here; the demo accepts its known shoppers.
 */
async function signIn(opts, shoppers, req, res) {
  if (!opts.userTokenSecret) return sendError(res, 503, 'sign-in is not configured: no user-token secret (--user-token-secret)');
  let userId;
  try {
    ({ userId } = JSON.parse((await readBody(req, 4096)).toString('utf8')));
  } catch {
    return sendError(res, 400, 'body: expected {"userId": "..."}');
  }
  if (typeof userId !== 'string' || !shoppers.has(userId)) return sendError(res, 403, 'unknown shopper');
  const { mintUserToken } = await import(pathToFileURL(path.join(opts.package, 'dist/user-token.js')).href);
  const expiresAt = Math.floor(Date.now() / 1000) + USER_TOKEN_TTL_SECONDS;
  const token = await mintUserToken({ secret: opts.userTokenSecret, userId, expiresAt });
  res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify({ userId, token, expiresAt }));
}

/** GET /api/users/{userId}/profile: the shopper's own profile, with the token they present. */
async function proxyProfile(opts, route, req, res) {
  let upstream;
  try {
    upstream = await fetch(`${opts.sync}${route}`, { headers: req.headers.authorization ? { authorization: req.headers.authorization } : {} });
  } catch (e) {
    return sendError(res, 502, `sync server unreachable: ${e.message}`);
  }
  const headers = { 'content-type': upstream.headers.get('content-type') ?? 'application/octet-stream', 'cache-control': 'private, no-store' };
  const version = upstream.headers.get('x-edgerec-model-version');
  if (version) headers['x-edgerec-model-version'] = version;
  res.writeHead(upstream.status, headers).end(Buffer.from(await upstream.arrayBuffer()));
}

async function proxyGet(opts, route, res) {
  try {
    const upstream = await fetch(`${opts.sync}${route}`);
    res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'text/plain', 'cache-control': 'no-store' });
    res.end(Buffer.from(await upstream.arrayBuffer()));
  } catch (e) {
    sendError(res, 502, `sync server unreachable: ${e.message}`);
  }
}

export async function start(opts) {
  const { assets, build } = buildAssets(opts);
  const shoppers = new Set(JSON.parse(assets.get('/personas.json').body.toString('utf8')).map((p) => p.userId));
  const model = modelProxy(opts);
  await warmUp(model);
  const server = http.createServer(async (req, res) => {
    try {
      const url = new URL(req.url, 'http://x');
      const p = url.pathname;
      if (p === '/api/model' && (req.method === 'GET' || req.method === 'HEAD')) return await model(req, res);
      if (p === '/api/events' && req.method === 'POST') return await proxyWrite(opts, '/events', req, res);
      if (p === '/api/recommendations-log' && req.method === 'POST') return await proxyWrite(opts, '/recommendations-log', req, res);
      if (p === '/api/health' && req.method === 'GET') return await proxyGet(opts, '/health', res);
      if (p === '/api/sign-in' && req.method === 'POST') return await signIn(opts, shoppers, req, res);
      if (/^\/api\/users\/[^/]+\/profile$/.test(p) && req.method === 'GET') return await proxyProfile(opts, p.slice('/api'.length), req, res);
      if (req.method !== 'GET' && req.method !== 'HEAD') return sendError(res, 405, 'method not allowed');
      const a = assets.get(p);
      if (!a) return sendError(res, 404, `not found: ${p}`);
      if (req.headers['if-none-match'] === a.etag) {
        res.writeHead(304, { etag: a.etag, 'cache-control': 'no-cache' }).end();
        return;
      }
      send(req, res, 200, a, { 'cache-control': 'no-cache' });
    } catch (e) {
      if (!res.headersSent) sendError(res, e.status ?? 500, e.message);
      else res.destroy();
    }
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, resolve);
  });
  const { port } = server.address();
  return { server, url: `http://${opts.host}:${port}/`, build };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const opts = parseArgs(process.argv.slice(2));
  if (!opts.writeToken) console.error('storefront: no write token (--write-token or $EDGEREC_WRITE_TOKEN): events will not sync');
  if (!opts.userTokenSecret) console.error('storefront: no user-token secret (--user-token-secret or $EDGEREC_USER_TOKEN_SECRET): shoppers cannot sign in');
  const { server, url, build } = await start(opts);
  console.log(`storefront listening on ${url}`);
  console.log(`  build ${build}, sync server ${opts.sync}`);
  const stop = () => server.close(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
