/**
 * Small helpers shared by the models and their callers: argmax of a probability vector, an input
 * without its image, and the validation scorer check.
 *
 * @module
 */
import type { ModelInput, ValidationScorer, ValidationSet } from './types.js';

/** Index of the largest value (the first one on ties). */
export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if ((values[i] as number) > (values[best] as number)) best = i;
  return best;
}

/** The input with its image removed (text-only scoring). */
export function withoutImage(input: ModelInput): ModelInput {
  return { ...input, image: null };
}

/**
 * The scorer of a validation set, `null` when the set is empty.
 *
 * @throws TypeError when the set has inputs but no scorer: a model cannot score epochs by itself.
 */
export function validationScorer(validation: ValidationSet, kind: string): ValidationScorer | null {
  if (validation.inputs.length === 0) return null;
  if (typeof validation.score !== 'function') {
    throw new TypeError(
      `${kind}: validation.score is required when validation has inputs (the trainer scores epochs; e.g. weightedF1Scorer(validation.labels))`,
    );
  }
  return validation.score;
}
