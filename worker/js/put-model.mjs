// Publishes a model file to a running Worker: `PUT /model` with the admin token.
//   EDGEREC_WORKER_TOKEN=... node worker/js/put-model.mjs http://127.0.0.1:8788 model.erm
// Used as the sync server's publish hook by `cargo xtask demo`:
//   edgerec serve ... --publish-hook 'node worker/js/put-model.mjs http://127.0.0.1:8788 {path}'
import { readFileSync } from 'node:fs';

const [base, file] = process.argv.slice(2);
const token = process.env.EDGEREC_WORKER_TOKEN;
if (!base || !file || !token) {
  console.error('usage: EDGEREC_WORKER_TOKEN=<admin token> node put-model.mjs <worker url> <model.erm>');
  process.exit(2);
}
const res = await fetch(new URL('/model', base), {
  method: 'PUT',
  headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' },
  body: readFileSync(file),
});
if (!res.ok) {
  console.error(`PUT ${base}/model: ${res.status} ${await res.text()}`);
  process.exit(1);
}
