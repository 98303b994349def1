import { textImageFeatureExtractor } from './image-extractors.js';
import { TEXT_IMAGE_KIND } from './kinds.js';
import { naiveBayesModel } from './naive-bayes.js';
import type { ModelFactory } from './types.js';

/**
 * A model kind whose implementation is imported on first use: the built-in text-image model
 * stays the default kind without loading TensorFlow.js for users who never train or load it.
 */
export function lazyModel(kind: string, load: () => Promise<ModelFactory>, imageFeatures?: ModelFactory['imageFeatures']): ModelFactory {
  return {
    specificationVersion: 'v1',
    kind,
    train: async (inputs, labels, options) => (await load()).train(inputs, labels, options),
    load: async (artifact) => (await load()).load(artifact),
    ...(imageFeatures ? { imageFeatures } : {}),
  };
}

/** The built-in text-image model (`text-image-v1`), TensorFlow.js loaded when it is first used. */
export const lazyTextImageModel: ModelFactory = lazyModel(
  TEXT_IMAGE_KIND,
  async () => (await import('./text-image-model.js')).textImageModel,
  textImageFeatureExtractor,
);

/** Model kinds the package can train and load; the first is the default. */
export const BUILT_IN_MODELS: readonly ModelFactory[] = [lazyTextImageModel, naiveBayesModel];
