// Helpers of the packaging smoke tests: tools from the package's tools folder, a static server.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

export const tools = process.env.EDGEREC_TOOLS ?? path.resolve('../../packages/edgerec/tools/node_modules');
export const goldenDir = process.env.EDGEREC_GOLDEN_DIR ?? path.resolve('../../../tests/fixtures/golden');

/** Imports a tool package's ESM entry (the tools are not dependencies of the consumer). */
export async function tool(name) {
  const pkgDir = path.join(tools, name);
  const pkg = JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8'));
  let entry = pkg.exports?.['.'] ?? pkg.main ?? 'index.js';
  for (;;) {
    if (typeof entry === 'string') break;
    if (Array.isArray(entry)) entry = entry[0];
    else entry = entry.import ?? entry.node ?? entry.default ?? entry.require;
  }
  if (typeof entry === 'object') entry = entry.default;
  return import(pathToFileURL(path.join(pkgDir, entry)).href);
}

/** The golden fixture's first case (a personalised top-5) and the model bytes. */
export function goldenCase() {
  const bytes = fs.readFileSync(path.join(goldenDir, 'model-v1.erm'));
  const cases = JSON.parse(fs.readFileSync(path.join(goldenDir, 'model-v1.expected.json'), 'utf8'));
  const c = cases.find((x) => x.op === 'getRecommendations' && !x.events);
  return { bytes, request: c.request, want: c.response.itemList.map((p) => p.itemId) };
}

const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm', '.erm': 'application/octet-stream', '.css': 'text/css' };

/** Serves `root` on 127.0.0.1 at a random port. */
export async function serve(root) {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    const file = path.join(root, decodeURIComponent(url.pathname === '/' ? '/index.html' : url.pathname));
    if (!file.startsWith(root) || !fs.existsSync(file) || fs.statSync(file).isDirectory()) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream' });
    fs.createReadStream(file).pipe(res);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${server.address().port}/` };
}
