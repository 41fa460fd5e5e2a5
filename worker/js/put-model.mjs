// Publishes a model file to a running Worker: `PUT /model` with the admin token, and its public
// profile (`GET /model` serves it) with `PUT /model/public` when a second file is given.
//   EDGEREC_WORKER_TOKEN=... node worker/js/put-model.mjs http://127.0.0.1:8788 model.erm [model.public.erm]
// Used as the sync server's publish hook by `cargo xtask demo`:
//   edgerec serve ... --publish-hook 'node worker/js/put-model.mjs http://127.0.0.1:8788 {path} {public_path}'
// A Worker that is not listening yet is retried for up to 30 s; failures print one line.
import { readFileSync } from 'node:fs';

const [base, file, publicFile] = process.argv.slice(2);
const token = process.env.EDGEREC_WORKER_TOKEN;
if (!base || !file || !token) {
  console.error('usage: EDGEREC_WORKER_TOKEN=<admin token> node put-model.mjs <worker url> <model.erm> [<model.public.erm>]');
  process.exit(2);
}
for (const [route, path] of [['/model', file], ['/model/public', publicFile]]) {
  if (path) await put(new URL(route, base), readFileSync(path));
}

async function put(url, body) {
  const deadline = Date.now() + 30_000;
  for (let delay = 250; ; delay = Math.min(delay * 2, 4000)) {
    let res;
    try {
      res = await fetch(url, {
        method: 'PUT',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' },
        body,
      });
    } catch (e) {
      // Connection refused and the like: the Worker may still be starting.
      if (Date.now() + delay < deadline) {
        await new Promise((r) => setTimeout(r, delay));
        continue;
      }
      console.error(`PUT ${url}: ${e.cause?.code ?? e.cause?.message ?? e.message} (is the Worker running?)`);
      process.exit(1);
    }
    if (!res.ok) {
      console.error(`PUT ${url}: ${res.status} ${await res.text()}`);
      process.exit(1);
    }
    return;
  }
}
