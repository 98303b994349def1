import { initBackend } from './backend.js';
import { naiveBayesModel } from './naive-bayes.js';
import { textImageModel } from './text-image-model.js';
import type { ModelFactory } from './types.js';

/** Model kinds the package can train and load; the first is the default. */
export const BUILT_IN_MODELS: readonly ModelFactory[] = [textImageModel, naiveBayesModel];

/** Models and backend used by the CLI, the benchmarks and the HTTP API. */
export const DEFAULT_RUNTIME = {
  /** Model kinds, the default first. */
  factories: BUILT_IN_MODELS,
  /** Initialises TensorFlow.js (tfjs-node when installed, else wasm, else cpu). */
  initBackend: (): Promise<string> => initBackend(),
};
