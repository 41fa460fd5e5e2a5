// "edgerec/slim": the same API with explicit initialisation (service workers, custom loaders).
export * from './index.js';

/** A way to get the wasm module. */
export type WasmSource =
  | string
  | URL
  | Request
  | Response
  | ArrayBuffer
  | ArrayBufferView
  | WebAssembly.Module;

/** One source, or both builds (the simd128 one is used where supported). */
export type InitInput = WasmSource | { baseline: WasmSource; simd?: WasmSource };

/** Loads the wasm (call once, before `Recommender.fromBytesSync`). */
export declare function init(source: InitInput): Promise<void>;

/** Loads the wasm synchronously from bytes or a compiled module. */
export declare function initSync(
  source:
    | ArrayBuffer
    | ArrayBufferView
    | WebAssembly.Module
    | { baseline: ArrayBuffer | ArrayBufferView | WebAssembly.Module; simd?: ArrayBuffer | ArrayBufferView | WebAssembly.Module },
): void;

export declare function isReady(): boolean;
