// "edgerec/slim": no wasm is referenced or loaded until init()/initSync() is called, for
// service workers (no top-level await) and setups where the bundler cannot find the .wasm.
import { initWithModule, isReady, simdSupported, codeError } from './api.js';

export { Recommender, simdSupported, runtimeInfo } from './api.js';

function pick(source) {
  if (source !== null && typeof source === 'object' && ('baseline' in source || 'simd' in source)) {
    const simd = source.simd !== undefined && simdSupported();
    return { source: simd ? source.simd : source.baseline, simd };
  }
  return { source, simd: false };
}

function missing() {
  return codeError('InvalidInputException', 'source: pass the wasm as a URL, Response, bytes or WebAssembly.Module (or { baseline, simd })');
}

/** Loads the wasm: a URL/string/Request/Response, bytes, a WebAssembly.Module, or { baseline, simd } of those. */
export async function init(source) {
  if (isReady()) return;
  const picked = pick(source);
  let s = picked.source;
  if (s === undefined || s === null) throw missing();
  if (typeof s === 'string' || s instanceof URL || (typeof Request === 'function' && s instanceof Request)) {
    s = await fetch(s);
  }
  let module;
  if (s instanceof WebAssembly.Module) module = s;
  else if (typeof Response === 'function' && s instanceof Response) {
    if (!s.ok) throw codeError('ModelFetchError', `source: fetching the wasm gave HTTP ${s.status}`);
    module = await WebAssembly.compile(await s.arrayBuffer());
  } else if (s instanceof ArrayBuffer || ArrayBuffer.isView(s)) module = await WebAssembly.compile(s);
  else throw missing();
  initWithModule(module, picked.simd);
}

/** Loads the wasm synchronously from bytes or a WebAssembly.Module (or { baseline, simd } of those). */
export function initSync(source) {
  if (isReady()) return;
  const picked = pick(source);
  const s = picked.source;
  if (s instanceof WebAssembly.Module) initWithModule(s, picked.simd);
  else if (s instanceof ArrayBuffer || ArrayBuffer.isView(s)) initWithModule(new WebAssembly.Module(s), picked.simd);
  else throw missing();
}

export { isReady };
