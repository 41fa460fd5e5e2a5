// The Worker's entry module: instantiates the Rust Worker (wasm-bindgen's `web` glue over the
// compiled module workerd hands us) and exports its handlers and its Durable Object class.
// Written by hand so the build needs only the wasm-bindgen CLI (no worker-build, no bundler).
import { DurableObject } from 'cloudflare:workers';
import wasmModule from './edgerec_worker_bg.wasm';
import * as rust from './edgerec_worker.js';

rust.initSync({ module: wasmModule });
let generation = 0;

// A trap (a bug, never bad input) poisons the instance: start a fresh one for the next request.
async function guarded(call) {
  try {
    return await call();
  } catch (e) {
    if (e instanceof WebAssembly.RuntimeError) {
      console.error('edgerec worker: wasm trap, re-instantiating', e);
      rust.__edgerecReset();
      rust.initSync({ module: wasmModule });
      generation += 1;
    }
    throw e;
  }
}

export default {
  fetch(request, env, ctx) {
    return guarded(() => rust.fetch(request, env, ctx));
  },
  queue(batch, env, ctx) {
    return guarded(() => rust.queue(batch, env, ctx));
  },
};

/** One session's state (see worker/src/session.rs). */
export class SessionState extends DurableObject {
  constructor(state, env) {
    super(state, env);
    this.state = state;
    this.rust();
  }
  /** The Rust object, made again after a re-instantiation (the old one belongs to the old instance). */
  rust() {
    if (this.generation !== generation) {
      this.inner = new rust.SessionState(this.state, this.env);
      this.generation = generation;
    }
    return this.inner;
  }
  fetch(request) {
    return guarded(() => this.rust().fetch(request));
  }
  alarm() {
    return guarded(() => this.rust().alarm());
  }
}
