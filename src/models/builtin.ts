import { naiveBayesModel } from './naive-bayes.js';
import { textImageModel } from './text-image-model.js';
import type { ModelFactory } from './types.js';

/** Model kinds the package can train and load; the first is the default. */
export const BUILT_IN_MODELS: readonly ModelFactory[] = [textImageModel, naiveBayesModel];
