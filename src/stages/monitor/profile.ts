/**
 * What drift monitoring measures of one model input: the same function on the training side
 * (a model version's validation split, when it is registered) and on the serving side (every
 * online and batch prediction), so that both distributions are comparable by construction.
 *
 * @module
 */
import type { ModelInput } from '../../models/types.js';
import type { Language } from '../preprocess/text.js';

/** The drift-relevant description of one model input. */
export interface InputProfile {
  /** Characters of the cleaned title and description. */
  chars: number;
  /** Detected language (the preprocessor's). */
  language: Language;
  /** Share of its tokens outside the training vocabulary (`null`: no tokens). */
  oov: number | null;
  /** Whether it had an image. */
  image: boolean;
  /**
   * One number per image: the L2 norm of the image feature vector the model reads, or the mean
   * pixel intensity (0-1) for a model that reads pixels; `null` without an image.
   */
  imageStat: number | null;
}

const round = (x: number) => Math.round(x * 1e4) / 1e4;

/** The image statistic of {@link InputProfile.imageStat}. */
function imageStat(image: NonNullable<ModelInput['image']>): number | null {
  const vector = image.features && Object.values(image.features)[0];
  if (vector) {
    let s = 0;
    for (const v of vector) s += v * v;
    return round(Math.sqrt(s));
  }
  if (image.pixels.length === 0) return null;
  let s = 0;
  for (const v of image.pixels) s += v;
  return round(s / image.pixels.length / 255);
}

/** The profile of one input against a training vocabulary. */
export function profileInput(input: ModelInput, language: Language, vocabulary: ReadonlySet<string>): InputProfile {
  const tokens = input.designationTokens.length + input.descriptionTokens.length;
  let unknown = 0;
  for (const t of input.designationTokens) if (!vocabulary.has(t)) unknown++;
  for (const t of input.descriptionTokens) if (!vocabulary.has(t)) unknown++;
  return {
    chars: input.designation.length + input.description.length,
    language,
    oov: tokens === 0 ? null : round(unknown / tokens),
    image: input.image !== null,
    imageStat: input.image ? imageStat(input.image) : null,
  };
}

/**
 * The training vocabulary drift is measured against: tokens seen at least `minCount` times in
 * the training inputs (2 by default: a token seen once is noise, and the list stays bounded).
 */
export function trainingVocabulary(inputs: readonly ModelInput[], minCount = 2): string[] {
  const counts = new Map<string, number>();
  for (const input of inputs) {
    for (const t of input.designationTokens) counts.set(t, (counts.get(t) ?? 0) + 1);
    for (const t of input.descriptionTokens) counts.set(t, (counts.get(t) ?? 0) + 1);
  }
  return [...counts].filter(([, n]) => n >= minCount).map(([t]) => t).sort();
}
