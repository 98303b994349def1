/**
 * TensorFlow.js backend, chosen at run time:
 *
 * 1. `tensorflow` — `@tensorflow/tfjs-node` (native libtensorflow), when the user has installed
 *    it (an optional peer dependency: its install script downloads libtensorflow, so the
 *    package never depends on it);
 * 2. `wasm` — `@tensorflow/tfjs-backend-wasm` with SIMD, its `.wasm` binaries read from
 *    `node_modules` (nothing is downloaded at run time); single-threaded in Node, 5–20x faster
 *    than `cpu`;
 * 3. `cpu` — plain JavaScript, always available.
 *
 * The environment variable `RAKUTEN_TF_BACKEND` (`tensorflow`, `wasm` or `cpu`) forces a choice.
 *
 * @module
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from './tf.js';

/** A TensorFlow.js backend this package can use. */
export type BackendName = 'tensorflow' | 'wasm' | 'cpu';

/** The backends, most preferred first. */
export const BACKEND_ORDER: readonly BackendName[] = ['tensorflow', 'wasm', 'cpu'];

/** Environment variable forcing a backend. */
export const BACKEND_ENV = 'RAKUTEN_TF_BACKEND';

/** Options of {@link initBackend}. */
export interface InitBackendOptions {
  /**
   * Loads a module by name (default: dynamic `import`). Tests pass a loader that fails for
   * `@tensorflow/tfjs-node` to check the fallback.
   */
  importModule?: (name: string) => Promise<unknown>;
}

const require = createRequire(import.meta.url);
let ready: Promise<string> | null = null;
let readyFor: string | null = null;

function isBackendName(value: string | undefined): value is BackendName {
  return value === 'tensorflow' || value === 'wasm' || value === 'cpu';
}

/** Folder holding the `.wasm` binaries of `@tensorflow/tfjs-backend-wasm`, with a trailing separator. */
export function wasmDirectory(): string {
  const main = require.resolve('@tensorflow/tfjs-backend-wasm');
  // main is .../tfjs-backend-wasm/dist/tf-backend-wasm.node.js; the binaries sit beside it.
  return path.dirname(main) + path.sep;
}

async function tryTensorflow(importModule: (name: string) => Promise<unknown>): Promise<boolean> {
  try {
    await importModule('@tensorflow/tfjs-node');
    return await tf.setBackend('tensorflow');
  } catch {
    return false;
  }
}

async function tryWasm(importModule: (name: string) => Promise<unknown>): Promise<boolean> {
  try {
    const wasm = (await importModule('@tensorflow/tfjs-backend-wasm')) as { setWasmPaths(prefix: string): void };
    wasm.setWasmPaths(wasmDirectory());
    return await tf.setBackend('wasm');
  } catch {
    return false;
  }
}

async function select(preferred: BackendName | undefined, importModule: (name: string) => Promise<unknown>): Promise<string> {
  const start = preferred ? BACKEND_ORDER.indexOf(preferred) : 0;
  for (const name of BACKEND_ORDER.slice(start)) {
    if (name === 'tensorflow' && (await tryTensorflow(importModule))) break;
    if (name === 'wasm' && (await tryWasm(importModule))) break;
    if (name === 'cpu' && (await tf.setBackend('cpu'))) break;
  }
  await tf.ready();
  return tf.getBackend();
}

/**
 * Selects and initialises the TensorFlow.js backend, once per process (later calls return the
 * same backend unless `preferred` changes). Tries `preferred` first (default: the environment
 * variable {@link BACKEND_ENV}, else `tensorflow`), then the backends after it in
 * {@link BACKEND_ORDER}: a missing `@tensorflow/tfjs-node` falls back to `wasm`, then `cpu`.
 *
 * @returns The name of the backend in use (`tensorflow`, `wasm` or `cpu`).
 */
export async function initBackend(preferred?: BackendName, options: InitBackendOptions = {}): Promise<string> {
  const fromEnv = process.env[BACKEND_ENV];
  const choice: BackendName | undefined = preferred ?? (isBackendName(fromEnv) ? fromEnv : undefined);
  const key = choice ?? 'auto';
  if (ready && readyFor === key && !options.importModule) return ready;
  const importModule = options.importModule ?? ((name: string) => import(name) as Promise<unknown>);
  readyFor = options.importModule ? null : key;
  ready = select(choice, importModule);
  return ready;
}

/** The TensorFlow.js module this package uses (one instance shared with the backends). */
export { tf };
