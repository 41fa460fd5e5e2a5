// `cargo xtask worker dev`: serves the built Worker on 127.0.0.1:$EDGEREC_PORT with the model
// $EDGEREC_MODEL, bearer token $EDGEREC_TOKEN (writes, and reads that name a user), sync to
// $EDGEREC_SYNC_URL (if set) and, with $EDGEREC_MODEL_PUBLIC_KEY, only models signed by that key.
// $EDGEREC_PUBLIC_MODEL (optional) is the public profile that `GET /model` serves.
import fs from 'node:fs';
import { startWorker } from './local.mjs';

const env = process.env;
const token = env.EDGEREC_TOKEN ?? '';
const mf = await startWorker({
  model: fs.readFileSync(env.EDGEREC_MODEL),
  publicModel: env.EDGEREC_PUBLIC_MODEL ? fs.readFileSync(env.EDGEREC_PUBLIC_MODEL) : undefined,
  port: Number(env.EDGEREC_PORT ?? 8788),
  vars: {
    API_TOKEN: token,
    // Reads: anonymous lists open, a userId needs the same bearer token (or a user token).
    READ_AUTH: 'bearer',
    READ_TOKEN: token,
    PUBLIC_READS: 'true',
    ADMIN_TOKEN: token,
    SYNC_URL: env.EDGEREC_SYNC_URL ?? '',
    SYNC_TOKEN: token,
    MODEL_CHECK_SECONDS: '5',
    MODEL_PUBLIC_KEY: env.EDGEREC_MODEL_PUBLIC_KEY ?? '',
  },
});
console.log(`edgerec worker listening on ${(await mf.ready).href}`);
let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  await mf.dispose();
  process.exit(0);
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
