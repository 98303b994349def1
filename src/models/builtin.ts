import { initBackend } from './backend.js';
import { naiveBayesModel } from './naive-bayes.js';
import { textImageModel } from './text-image-model.js';
import type { ModelFactory } from './types.js';

/** Model kinds the package can train and load; the first is the default. */
export const BUILT_IN_MODELS: readonly ModelFactory[] = [textImageModel, naiveBayesModel];

/** What training and loading need from the model layer: the model kinds and the backend. */
export interface ModelRuntime {
  /** Model kinds the registry can load; the first one is trained unless a kind is asked for. */
  factories: readonly ModelFactory[];
  /** Initialises TensorFlow.js and returns the backend name. */
  initBackend(): Promise<string>;
}

/** Models and backend used by the CLI, the benchmarks and the HTTP API. */
export const DEFAULT_RUNTIME: ModelRuntime = {
  factories: BUILT_IN_MODELS,
  // tfjs-node when installed, else wasm, else cpu.
  initBackend: (): Promise<string> => initBackend(),
};

/**
 * The factory of `kind`, or the runtime's default (its first) when no kind is given. An unknown
 * kind throws an error naming the known ones, prefixed by `label` (the option or field asked).
 */
export function pickFactory(runtime: Pick<ModelRuntime, 'factories'>, kind: string | undefined, label = 'kind'): ModelFactory {
  const factory = kind ? runtime.factories.find((f) => f.kind === kind) : runtime.factories[0];
  if (!factory) throw new Error(`${label}: unknown model kind ${JSON.stringify(kind)}; known: ${runtime.factories.map((f) => f.kind).join(', ')}`);
  return factory;
}
