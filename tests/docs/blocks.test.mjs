// Every code block of the user-facing READMEs runs, on the demo data, so a doc change that
// breaks one fails CI. `cargo xtask docs` runs it (and `cargo xtask test`); alone:
//   EDGEREC_BIN=target/release/edgerec EDGEREC_TOOLS=packages/edgerec/tools/node_modules \
//   EDGEREC_WORKER_BUILD=worker/build node --test tests/docs
// after `cargo build --release -p edgerec-cli`, `cargo xtask wasm` and `cargo xtask worker build`.
//
// How a block runs, by its info string (tests/docs/markdown.mjs):
// - ```bash / ```sh: in bash (-e, pipefail), in a scratch folder that stands for the repository
//   root: it links the repository's data/, target/, worker/, packages/ and www/, so the block's
//   paths work and what it writes stays out of the checkout. `cargo` runs in the repository;
//   `edgerec` is the release binary on PATH (as after the README's alias). Under `cargo xtask
//   test` the binary under test is the tests' build (EDGEREC_BIN, not target/release/edgerec):
//   the scratch folder's target/release/edgerec is then that binary, and the README's
//   `cargo build --release -p edgerec-cli` is not run a second time (`cargo xtask docs`
//   and `cargo xtask demo` run it; CI saves a release build of the whole tree). The blocks of one file
//   run in order and share the folder, so a later block uses what an earlier one made
//   (store.erm, node_modules/edgerec from the tarball).
// - ```toml: a training config, trained on the demo data by `edgerec train`.
// - ```js: an ES module run by Node in the scratch folder, importing `edgerec` as the README's
//   `npm install` put it there (and the AWS SDK clients from the repository's tools).
//   `js browser`: the same, with the page's origin an HTTP server over the scratch folder's
//   public/, so `fromUrl('/models/store.erm')` fetches what a site would serve (the browser
//   build itself is checked by the package's Vite + Chromium smoke test).
//   `js worker`: a Worker module, bundled as wrangler does and run in workerd (Miniflare); a GET
//   of / must answer 2xx.
//   `js local-worker`: Node, against the edgerec Worker (worker/build) running in Miniflare on
//   the README's store.erm; the names a reader fills in are set: WORKER_URL, SIGV4_ACCESS_KEY_ID,
//   SIGV4_SECRET_ACCESS_KEY, and process.env.SIGV4_SESSION_SECRET.
// - anything else, and blocks that need a cloud account, a long-running server or data the
//   repository cannot ship, carry `no-run: <reason>`; the first test checks every block either
//   runs or carries one.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { codeBlocks, problem, KINDS } from './markdown.mjs';

const REPO = path.resolve(import.meta.dirname, '../..');
const FILES = ['README.md', 'packages/edgerec/README.md', 'worker/README.md', 'www/README.md'];
const LINKED = ['data', 'target', 'worker', 'packages', 'www'];
const RELEASE_BIN = path.join(REPO, 'target/release/edgerec');
const BIN = path.resolve(process.env.EDGEREC_BIN ?? RELEASE_BIN);
// The binary under test is another build than the release one the READMEs build.
const OTHER_BUILD = BIN !== path.resolve(RELEASE_BIN);
const TOOLS = path.resolve(process.env.EDGEREC_TOOLS ?? path.join(REPO, 'packages/edgerec/tools/node_modules'));
const WORKER_BUILD = path.resolve(process.env.EDGEREC_WORKER_BUILD ?? path.join(REPO, 'worker/build'));
const BLOCK_TIMEOUT_MS = 300_000;

// The local Worker's credentials for `js local-worker` blocks.
const LOCAL_WORKER = {
  SIGV4_ACCESS_KEY_ID: 'AKIDEDGERECDOCS',
  SIGV4_SECRET_ACCESS_KEY: 'edgerec-docs-secret-key',
  SIGV4_SESSION_SECRET: 'edgerec-docs-session-secret',
};

const docs = FILES.map((file) => ({ file, blocks: codeBlocks(fs.readFileSync(path.join(REPO, file), 'utf8')) }));

let base; // holds node_modules/@aws-sdk (a link to the tools) and the scratch folder
let scratch;
let page; // the browser blocks' origin server
let worker; // the edgerec Worker in Miniflare, started by the first local-worker block

before(() => {
  assert.ok(fs.existsSync(BIN), `${BIN} is missing: cargo build --release -p edgerec-cli`);
  // The AWS SDK clients are the repository's tools. They are linked one folder above the
  // scratch folder, where Node finds them and the README's npm install (which prunes what its
  // project does not list from its own node_modules) never looks.
  base = fs.mkdtempSync(path.join(os.tmpdir(), 'edgerec-docs-'));
  fs.mkdirSync(path.join(base, 'node_modules'));
  fs.symlinkSync(path.join(TOOLS, '@aws-sdk'), path.join(base, 'node_modules/@aws-sdk'));
  scratch = path.join(base, 'app');
  fs.mkdirSync(scratch);
  // The app the READMEs install into. Without a package.json here, npm would take the folder
  // above (it has node_modules) for the project and prune the SDK link.
  fs.writeFileSync(path.join(scratch, 'package.json'), `${JSON.stringify({ name: 'edgerec-docs-app', private: true }, null, 2)}\n`);
  for (const name of LINKED) {
    if (name === 'target' && OTHER_BUILD) linkTargetWithBinary();
    else fs.symlinkSync(path.join(REPO, name), path.join(scratch, name));
  }
  fs.mkdirSync(path.join(scratch, '.bin'));
  fs.symlinkSync(BIN, path.join(scratch, '.bin/edgerec'));
  fs.mkdirSync(path.join(scratch, 'public'));
  fs.writeFileSync(
    path.join(scratch, '.page.mjs'),
    `// The page's origin: relative URLs resolve against it, as in a browser.
const origin = process.env.EDGEREC_PAGE_ORIGIN;
const fetchFromNode = globalThis.fetch;
globalThis.fetch = (input, init) => fetchFromNode(typeof input === 'string' ? new URL(input, origin) : input, init);
`,
  );
  fs.writeFileSync(
    path.join(scratch, '.local-worker.mjs'),
    `// What a reader of the Worker's README fills in, for the local Worker.
globalThis.WORKER_URL = process.env.EDGEREC_LOCAL_WORKER_URL;
globalThis.SIGV4_ACCESS_KEY_ID = ${JSON.stringify(LOCAL_WORKER.SIGV4_ACCESS_KEY_ID)};
globalThis.SIGV4_SECRET_ACCESS_KEY = ${JSON.stringify(LOCAL_WORKER.SIGV4_SECRET_ACCESS_KEY)};
`,
  );
});

after(async () => {
  page?.close();
  await worker?.dispose();
  if (base && !process.env.EDGEREC_DOCS_KEEP) fs.rmSync(base, { recursive: true, force: true });
});

test('every code block runs in this test or is marked no-run with a reason', (t) => {
  const problems = [];
  for (const { file, blocks } of docs) {
    for (const b of blocks) {
      const p = problem(b);
      if (p) problems.push(`${file}:${b.line}: the block ${p}`);
      else if (b.noRun !== null) t.diagnostic(`no-run ${file}:${b.line} (${b.lang}): ${b.noRun}`);
    }
  }
  assert.deepEqual(problems, []);
  assert.ok(docs.every((d) => d.blocks.length > 0), 'every README has code blocks');
});

for (const { file, blocks } of docs) {
  test(`the code blocks of ${file}`, async (t) => {
    for (const b of blocks) {
      if (b.noRun !== null || problem(b)) continue;
      await t.test(`${file}:${b.line} (${b.info})`, async () => {
        const name = `${file.replace(/[^A-Za-z0-9]+/g, '-')}-${b.line}`;
        const kind = KINDS[b.lang];
        if (kind === 'shell') return check(await shell(b.body), b);
        if (kind === 'config') return check(await config(name, b.body), b);
        if (b.mode === 'worker') return inWorkerd(name, b);
        return check(await node(name, b), b);
      });
    }
  });
}

// The scratch folder's target/: every entry of the repository's, except release/, which holds
// only `edgerec`, the binary under test.
function linkTargetWithBinary() {
  const target = path.join(scratch, 'target');
  fs.mkdirSync(path.join(target, 'release'), { recursive: true });
  for (const entry of fs.readdirSync(path.join(REPO, 'target'))) {
    if (entry !== 'release') fs.symlinkSync(path.join(REPO, 'target', entry), path.join(target, entry));
  }
  fs.symlinkSync(BIN, path.join(target, 'release/edgerec'));
}

function env(extra = {}) {
  return {
    ...process.env,
    PATH: `${path.join(scratch, '.bin')}${path.delimiter}${process.env.PATH}`,
    EDGEREC_REPO: REPO,
    npm_config_audit: 'false',
    npm_config_fund: 'false',
    npm_config_update_notifier: 'false',
    NODE_NO_WARNINGS: '1',
    ...extra,
  };
}

function check(r, b) {
  assert.equal(r.error, undefined, `could not run the block at line ${b.line}: ${r.error}`);
  const why = r.timedOut ? `did not finish within ${BLOCK_TIMEOUT_MS / 1000} s` : `exited with ${r.status ?? r.signal}`;
  assert.ok(r.status === 0 && !r.timedOut, `the block at line ${b.line} ${why}:\n${b.body}\n--- output (end) ---\n${r.output.slice(-4000)}`);
}

/**
 * Runs a command without blocking this process (the page's server and the local Worker live
 * here), in its own process group so that a timeout ends everything it started.
 */
function exec(cmd, args, opts) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { ...opts, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const keep = (d) => {
      output = (output + d).slice(-64_000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }, BLOCK_TIMEOUT_MS);
    child.on('error', (error) => {
      clearTimeout(timer);
      resolve({ error, output });
    });
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, timedOut, output });
    });
  });
}

function shell(body) {
  const release = OTHER_BUILD
    ? 'if [ "$*" = "build --release -p edgerec-cli" ]; then echo "docs test: target/release/edgerec is $EDGEREC_BIN"; return 0; fi; '
    : '';
  const prelude = `shopt -s expand_aliases\ncargo() { ${release}(cd "$EDGEREC_REPO" && command cargo "$@"); }\n`;
  return exec('bash', ['-e', '-o', 'pipefail', '-c', prelude + body], { cwd: scratch, env: env() });
}

function config(name, body) {
  const file = path.join(scratch, `${name}.toml`);
  fs.writeFileSync(file, body);
  return exec(
    BIN,
    ['--quiet', 'train', '--interactions', 'data/demo/interactions.csv', '--items', 'data/demo/items.csv',
      '--users', 'data/demo/users.csv', '--config', file, '--output', path.join(scratch, `${name}.erm`)],
    { cwd: scratch, env: env() },
  );
}

async function node(name, b) {
  const file = path.join(scratch, `${name}.mjs`);
  fs.writeFileSync(file, b.body);
  const args = [];
  const extra = {};
  if (b.mode === 'browser') {
    page ??= await serve(path.join(scratch, 'public'));
    args.push('--import', pathToFileURL(path.join(scratch, '.page.mjs')).href);
    extra.EDGEREC_PAGE_ORIGIN = page.origin;
  }
  if (b.mode === 'local-worker') {
    worker ??= await startLocalWorker();
    args.push('--import', pathToFileURL(path.join(scratch, '.local-worker.mjs')).href);
    extra.EDGEREC_LOCAL_WORKER_URL = worker.url;
    extra.SIGV4_SESSION_SECRET = LOCAL_WORKER.SIGV4_SESSION_SECRET;
  }
  return exec(process.execPath, [...args, file], { cwd: scratch, env: env(extra) });
}

/** A static file server over `root` on a free port: the page's origin. */
async function serve(root) {
  const server = http.createServer((req, res) => {
    const file = path.join(root, decodeURIComponent(new URL(req.url, 'http://x').pathname));
    if (!file.startsWith(root) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
      res.writeHead(404).end();
      return;
    }
    const type = file.endsWith('.wasm') ? 'application/wasm' : 'application/octet-stream';
    res.writeHead(200, { 'content-type': type }).end(fs.readFileSync(file));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { origin: `http://127.0.0.1:${server.address().port}/`, close: () => server.close() };
}

async function startLocalWorker() {
  const { startWorker } = await import(pathToFileURL(path.join(REPO, 'worker/js/local.mjs')).href);
  const model = path.join(scratch, 'store.erm');
  assert.ok(fs.existsSync(model), 'store.erm: an earlier block trains it');
  const mf = await startWorker({ build: WORKER_BUILD, model: fs.readFileSync(model), vars: LOCAL_WORKER });
  const url = (await mf.ready).href.replace(/\/$/, '');
  return { url, dispose: () => mf.dispose() };
}

/** Imports a package's ESM entry from the tools folder. */
async function tool(name) {
  const { tool: load } = await import(pathToFileURL(path.join(REPO, 'worker/js/local.mjs')).href);
  return load(name, TOOLS);
}

/** Bundles the block as wrangler does (esbuild, workerd conditions, .wasm and .erm as modules). */
async function inWorkerd(name, b) {
  const dir = path.join(scratch, `${name}-worker`);
  const build = path.join(dir, 'build');
  fs.mkdirSync(build, { recursive: true });
  // The block sits beside the README's files, so `./store.erm` is the model an earlier block made.
  const entry = path.join(scratch, `${name}.worker.mjs`);
  fs.writeFileSync(entry, b.body);
  const esbuild = await tool('esbuild');
  await esbuild.build({
    entryPoints: [entry],
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    conditions: ['workerd', 'worker', 'browser'],
    mainFields: ['module', 'main'],
    outfile: path.join(build, 'index.js'),
    logLevel: 'warning',
    plugins: [
      {
        name: 'modules',
        setup(on) {
          on.onResolve({ filter: /\.(wasm|erm)$/ }, (args) => {
            const file = path.resolve(args.resolveDir, args.path);
            fs.copyFileSync(file, path.join(build, path.basename(file)));
            return { path: `./${path.basename(file)}`, external: true };
          });
        },
      },
    ],
  });
  const { Miniflare } = await tool('miniflare');
  const mf = new Miniflare({
    modules: true,
    scriptPath: path.join(build, 'index.js'),
    modulesRoot: build,
    modulesRules: [
      { type: 'CompiledWasm', include: ['**/*.wasm'] },
      { type: 'Data', include: ['**/*.erm'] },
    ],
    compatibilityDate: '2026-04-01',
    cf: false,
    host: '127.0.0.1',
  });
  try {
    const res = await mf.dispatchFetch('http://localhost/');
    const body = await res.text();
    assert.ok(res.ok, `the Worker of line ${b.line} answered ${res.status}: ${body.slice(0, 2000)}`);
  } finally {
    await mf.dispose();
  }
}
