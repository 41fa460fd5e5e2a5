// Reports the package's wasm sizes (raw, gzip, brotli), fails when either build's brotli size
// exceeds the budget (issue 4: 150 KB), and checks each build's import list against the
// committed expectation (wasm-bindgen's per-build hash suffixes are ignored).
// usage: node check-wasm.mjs <staged package dir> <expected imports file> [--write]
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';

const [pkg, expectedFile, flag] = process.argv.slice(2);
const dir = path.join(pkg, 'dist/wasm');

function imports(bytes) {
  const mod = new WebAssembly.Module(bytes);
  return WebAssembly.Module.imports(mod)
    .map((i) => `${i.module} ${i.name.replace(/_[0-9a-f]{16}$/, '')} ${i.kind}`)
    .sort();
}

// The package budget, in bytes of brotli (quality 11), for each of the two builds.
const budget = 150_000;
let failed = false;
const lists = [];
for (const file of ['edgerec_wasm_bg.wasm', 'edgerec_wasm_simd_bg.wasm']) {
  const bytes = fs.readFileSync(path.join(dir, file));
  const gzip = zlib.gzipSync(bytes, { level: 9 }).length;
  const brotli = zlib.brotliCompressSync(bytes, {
    params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: bytes.length },
  }).length;
  const kb = (n) => `${(n / 1024).toFixed(1)} KiB`;
  const over = brotli > budget ? `  OVER the ${budget} B brotli budget` : '';
  if (brotli > budget) failed = true;
  console.log(`${file}: raw ${bytes.length} B (${kb(bytes.length)}), gzip ${gzip} B (${kb(gzip)}), brotli ${brotli} B (${kb(brotli)})${over}`);
  lists.push(imports(bytes));
}
if (failed) console.error(`a .wasm build is over the ${budget} B brotli budget`);
const js = fs.statSync(path.join(dir, 'edgerec_wasm.js')).size;
console.log(`bindings edgerec_wasm.js: ${js} B`);
const got = [...new Set(lists.flat())].sort().join('\n') + '\n';
if (flag === '--write') {
  fs.writeFileSync(expectedFile, got);
  console.log(`wrote ${expectedFile}`);
} else {
  const want = fs.readFileSync(expectedFile, 'utf8');
  if (got !== want) {
    console.error(`the .wasm import list changed (a new host import, e.g. from a dependency):\n--- expected (${expectedFile})\n${want}--- got\n${got}`);
    console.error('If the change is intended, update it: node packages/edgerec/tools/check-wasm.mjs target/npm/edgerec packages/edgerec/wasm-imports.txt --write');
    failed = true;
  } else {
    console.log(`import list matches ${path.basename(expectedFile)} (${got.trim().split('\n').length} imports)`);
  }
}
process.exit(failed ? 1 : 0);
