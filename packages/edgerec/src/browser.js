// Browser and bundler entry (ESM): the wasm is fetched and compiled on first use, so importing
// this module costs nothing; bundlers emit both .wasm files as assets from the URLs below.
import { setLoader, simdSupported } from './api.js';

export { Recommender, simdSupported, runtimeInfo } from './api.js';

const BASELINE = new URL('./wasm/edgerec_wasm_bg.wasm', import.meta.url);
const SIMD = new URL('./wasm/edgerec_wasm_simd_bg.wasm', import.meta.url);

setLoader(async () => {
  const simd = simdSupported();
  const res = await fetch(simd ? SIMD : BASELINE);
  if (!res.ok) throw new Error(`edgerec: fetching its wasm gave HTTP ${res.status}`);
  const streaming =
    typeof WebAssembly.compileStreaming === 'function' &&
    (res.headers.get('content-type') ?? '').startsWith('application/wasm');
  const module = streaming ? await WebAssembly.compileStreaming(res) : await WebAssembly.compile(await res.arrayBuffer());
  return { module, simd };
});
