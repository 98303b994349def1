/**
 * The MobileNetV2 image features (672 values per picture, see {@link MobileNetFeatures}) on the
 * fastest runtime available, chosen at run time:
 *
 * 1. `onnxruntime` — `onnxruntime-node` (an optional peer dependency with CPU binaries in its
 *    package), the folded network as an ONNX graph on every core;
 * 2. `tensorflow` — `@tensorflow/tfjs-node` (optional peer), through {@link initBackend};
 * 3. `wasm` — the tfjs `wasm` backend in a pool of worker threads, one per core (the default
 *    install: no native package needed);
 * 4. `cpu` — plain JavaScript on the calling thread (slow; for checks).
 *
 * The environment variable `RAKUTEN_IMAGE_BACKEND` (`onnxruntime`, `tensorflow`, `wasm` or
 * `cpu`) forces where the search starts; a runtime that cannot load hands over to the next one.
 * Every runtime computes the same features (within float rounding, 1e-4).
 *
 * @module
 */
import os from 'node:os';
import { initBackend } from './backend.js';
import { DEFAULT_MOBILENET_SIZE, MobileNetFeatures } from './mobilenet-features.js';
import { OnnxMobileNet, type OrtModule } from './mobilenet-onnx.js';
import { MobileNetPool } from './mobilenet-pool.js';

/** A runtime of the image features. */
export type ImageBackendName = 'onnxruntime' | 'tensorflow' | 'wasm' | 'cpu';

/** The runtimes, most preferred first. */
export const IMAGE_BACKEND_ORDER: readonly ImageBackendName[] = ['onnxruntime', 'tensorflow', 'wasm', 'cpu'];

/** Environment variable forcing a runtime. */
export const IMAGE_BACKEND_ENV = 'RAKUTEN_IMAGE_BACKEND';

/** A square RGB picture: row-major bytes, `size * size * 3`. */
export interface BackbonePicture {
  readonly pixels: Uint8Array;
  readonly size: number;
}

/** The MobileNetV2 feature extractor on one runtime. */
export interface ImageBackbone {
  /** Runtime in use. */
  readonly backend: ImageBackendName;
  /** Cores it computes on (operator threads or worker threads). */
  readonly threads: number;
  /** Side the pictures are resized to. */
  readonly size: number;
  /** Feature vectors (672 values each) of square RGB pictures of any side, in order. */
  compute(images: readonly BackbonePicture[]): Promise<Float32Array[]>;
  /** Frees the runtime (session, worker threads). */
  close(): Promise<void>;
}

/** Options of {@link loadImageBackbone}. */
export interface ImageBackboneOptions {
  /** Runtime to try first (default: the environment variable {@link IMAGE_BACKEND_ENV}, else `onnxruntime`). */
  backend?: ImageBackendName;
  /** Cores to use (default: `os.availableParallelism()`); ignored by `tensorflow` and `cpu`. */
  threads?: number;
  /**
   * Loads a module by name (default: dynamic `import`). Tests pass a loader that fails for
   * `onnxruntime-node` or `@tensorflow/tfjs-node` to check the fallbacks.
   */
  importModule?: (name: string) => Promise<unknown>;
}

function isImageBackendName(value: string | undefined): value is ImageBackendName {
  return (IMAGE_BACKEND_ORDER as readonly (string | undefined)[]).includes(value);
}

/** The `onnxruntime-node` module, or null when it cannot be imported (not installed, no binary for this platform). */
async function importOrt(importModule: (name: string) => Promise<unknown>): Promise<OrtModule | null> {
  try {
    const module = (await importModule('onnxruntime-node')) as Partial<OrtModule> & { default?: Partial<OrtModule> };
    const ort = module.InferenceSession ? module : module.default;
    return ort?.InferenceSession && ort.Tensor ? (ort as OrtModule) : null;
  } catch {
    return null;
  }
}

/** A network on the calling thread's TensorFlow.js backend. */
function inProcess(network: MobileNetFeatures, backend: 'tensorflow' | 'cpu', threads: number): ImageBackbone {
  return {
    backend,
    threads,
    size: network.size,
    compute: (images) => Promise.resolve(network.compute(images)),
    // The network is shared by every model in the process (MobileNetFeatures.load caches it).
    close: () => Promise.resolve(),
  };
}

/**
 * Loads the MobileNetV2 feature extractor on the first runtime that works, from
 * `options.backend` (or {@link IMAGE_BACKEND_ENV}) on down {@link IMAGE_BACKEND_ORDER}.
 *
 * Initialises the calling thread's TensorFlow.js backend ({@link initBackend}, which honours
 * `RAKUTEN_TF_BACKEND`; forcing `tensorflow` or `cpu` here selects that backend). Without
 * onnxruntime-node the features follow it: in process on `tensorflow` (native threads), in the
 * pool of `wasm` workers on `wasm`, in process on `cpu`.
 *
 * @param size - Side the pictures are resized to (default 128).
 * @throws When the shipped weights are missing or damaged, or ONNX Runtime rejects the graph.
 */
export async function loadImageBackbone(size = DEFAULT_MOBILENET_SIZE, options: ImageBackboneOptions = {}): Promise<ImageBackbone> {
  const fromEnv = process.env[IMAGE_BACKEND_ENV];
  const preferred = options.backend ?? (isImageBackendName(fromEnv) ? fromEnv : undefined);
  const threads = Math.max(1, options.threads ?? os.availableParallelism());
  const importModule = options.importModule ?? ((name: string) => import(name) as Promise<unknown>);
  const candidates = IMAGE_BACKEND_ORDER.slice(preferred ? IMAGE_BACKEND_ORDER.indexOf(preferred) : 0);

  // This thread's TensorFlow.js backend: asked for explicitly only when forced (else
  // RAKUTEN_TF_BACKEND decides). Needed on every path: the folding of the shipped Keras model runs on it.
  const forced = preferred === 'tensorflow' || preferred === 'cpu' ? preferred : undefined;
  const tfBackend = await initBackend(forced, options.importModule ? { importModule: options.importModule } : {});
  if (candidates.includes('onnxruntime')) {
    const ort = await importOrt(importModule);
    if (ort) {
      const network = await OnnxMobileNet.load(ort, size, { threads });
      return { backend: 'onnxruntime', threads: network.threads, size, compute: (images) => network.compute(images), close: () => network.close() };
    }
  }
  if (tfBackend === 'tensorflow' && candidates.includes('tensorflow')) return inProcess(await MobileNetFeatures.load(size), 'tensorflow', os.availableParallelism());
  // A `cpu` backend here (forced, or RAKUTEN_TF_BACKEND) keeps the features on it unless wasm is forced.
  if (candidates.includes('wasm') && (tfBackend !== 'cpu' || preferred === 'wasm')) {
    const pool = await MobileNetPool.start(size, { threads });
    if (pool.backend === 'wasm') return { backend: 'wasm', threads: pool.threads, size, compute: (images) => pool.compute(images), close: () => pool.close() };
    await pool.close();
  }
  // Plain JavaScript on this thread (forced, or no wasm anywhere).
  if (tfBackend !== 'cpu') await initBackend('cpu');
  return inProcess(await MobileNetFeatures.load(size), 'cpu', 1);
}
