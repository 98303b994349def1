import type { ValidationScores } from '../../models/registry.js';
import type { ModelInput, ProductClassifier, ValidationScorer } from '../../models/types.js';
import { argmax, withoutImage } from '../../models/util.js';
import { classificationMetrics, weightedF1 } from './metrics.js';

const BATCH = 256;

/** Predicted class codes of every input, in batches. */
export async function predictLabels(model: ProductClassifier, inputs: readonly ModelInput[]): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < inputs.length; i += BATCH) {
    for (const p of await model.predict(inputs.slice(i, i + BATCH))) out.push(model.classes[argmax(p)] as number);
  }
  return out;
}

/**
 * The pipeline's validation scorer: weighted F1 of the argmax predictions against `labels`
 * (what `TrainStage` passes models for early stopping).
 *
 * @example
 * ```ts
 * const model = await naiveBayesModel.train(trainInputs, trainLabels, {
 *   seed: 1,
 *   validation: { inputs: valInputs, labels: valLabels, score: weightedF1Scorer(valLabels) },
 * });
 * ```
 */
export function weightedF1Scorer(labels: readonly number[]): ValidationScorer {
  return (probabilities, classes) => {
    if (probabilities.length !== labels.length) {
      throw new RangeError(`validation scorer: ${probabilities.length} probability rows for ${labels.length} labels`);
    }
    return weightedF1(labels, probabilities.map((p) => classes[argmax(p)] as number));
  };
}

/**
 * Scores a model on labelled inputs: overall, text-only, and on the products with an image.
 * A model that was refitted on these inputs supplies its earlier, held-out probabilities instead.
 */
export async function validationScores(
  model: ProductClassifier,
  inputs: readonly ModelInput[],
  labels: readonly number[],
): Promise<ValidationScores> {
  const heldOut = model.heldOutValidation;
  const toLabels = (probabilities: Float32Array[]) => probabilities.map((p) => model.classes[argmax(p)] as number);
  const predicted = heldOut ? toLabels(heldOut.withImage) : await predictLabels(model, inputs);
  const textOnly = heldOut ? toLabels(heldOut.textOnly) : await predictLabels(model, inputs.map(withoutImage));
  const all = classificationMetrics(labels, predicted);
  const withImage = inputs.flatMap((input, i) => (input.image ? [i] : []));
  const pick = (values: readonly number[]) => withImage.map((i) => values[i] as number);
  const perClassF1: Record<string, number> = {};
  for (const c of all.perClass) if (c.support > 0) perClassF1[c.label] = c.f1;
  return {
    weightedF1: all.weightedF1,
    textOnlyWeightedF1: classificationMetrics(labels, textOnly).weightedF1,
    withImageWeightedF1: withImage.length ? classificationMetrics(pick(labels), pick(predicted)).weightedF1 : null,
    withImageTextOnlyWeightedF1: withImage.length ? classificationMetrics(pick(labels), pick(textOnly)).weightedF1 : null,
    accuracy: all.accuracy,
    perClassF1,
    count: labels.length,
  };
}
