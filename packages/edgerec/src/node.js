// Node entry (ESM): the module is compiled and instantiated synchronously at import, so
// `Recommender.fromBytesSync` works at once and `require()` of this file works too.
import { readFileSync } from 'node:fs';
import { initWithModule, simdSupported } from './api.js';

export { Recommender, simdSupported, runtimeInfo } from './api.js';

// EDGEREC_WASM_BUILD=baseline|simd forces a build (tests compare both).
const forced = globalThis.process?.env?.EDGEREC_WASM_BUILD;
const simd = forced === 'baseline' ? false : forced === 'simd' ? true : simdSupported();
const file = simd
  ? new URL('./wasm/edgerec_wasm_simd_bg.wasm', import.meta.url)
  : new URL('./wasm/edgerec_wasm_bg.wasm', import.meta.url);
initWithModule(new WebAssembly.Module(readFileSync(file)), simd);
