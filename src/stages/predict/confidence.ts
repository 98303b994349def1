/** How sure a model was of one prediction, from its class probabilities. */
export interface Confidence {
  /** Probability of the best class minus that of the second (0: a tie, 1: certain). */
  margin: number;
  /** Shannon entropy of the probabilities divided by its maximum, ln(classes) (0: certain, 1: uniform). */
  entropy: number;
}

/**
 * The margin and normalised entropy of one probability vector. Margin ranks the review queue
 * (least certain first): it is what active-learning "margin sampling" uses, and unlike the top
 * probability alone it tells a clear winner among 27 classes from a two-way tie.
 */
export function confidenceOf(probabilities: ArrayLike<number>): Confidence {
  let first = 0;
  let second = 0;
  let sum = 0;
  for (let i = 0; i < probabilities.length; i++) sum += Math.max(0, probabilities[i] as number);
  let h = 0;
  for (let i = 0; i < probabilities.length; i++) {
    const p = Math.max(0, probabilities[i] as number) / (sum || 1);
    if (p > first) [first, second] = [p, first];
    else if (p > second) second = p;
    if (p > 0) h -= p * Math.log(p);
  }
  const k = probabilities.length;
  return { margin: round(first - second), entropy: k > 1 ? round(h / Math.log(k)) : 0 };
}

const round = (x: number) => Math.round(x * 1e6) / 1e6;
