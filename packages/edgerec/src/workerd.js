// workerd (Cloudflare Workers, Miniflare) entry: the runtime compiles imported .wasm files at
// deploy time; instantiating one at startup is synchronous.
import baseline from './wasm/edgerec_wasm_bg.wasm';
import simdBuild from './wasm/edgerec_wasm_simd_bg.wasm';
import { initWithModule, simdSupported } from './api.js';

export { Recommender, simdSupported, runtimeInfo } from './api.js';

const simd = simdSupported();
initWithModule(simd ? simdBuild : baseline, simd);
