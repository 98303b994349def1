/**
 * Classification metrics: confusion matrix, per-class precision / recall / F1 / support,
 * accuracy, macro and weighted F1 (the challenge metric), computed as scikit-learn does
 * (a class with no prediction has precision 0; F1 is 0 when precision + recall is 0).
 *
 * @module
 */

/** Scores of one class. */
export interface ClassMetrics {
  /** The class code. */
  label: number;
  /** Correct predictions of this class / predictions of this class. */
  precision: number;
  /** Correct predictions of this class / true members of this class. */
  recall: number;
  /** Harmonic mean of precision and recall. */
  f1: number;
  /** True members of this class. */
  support: number;
}

/** All metrics of one set of predictions. */
export interface ClassificationMetrics {
  /** Share of correct predictions. */
  accuracy: number;
  /** Mean of the per-class F1 over classes with support. */
  macroF1: number;
  /** Per-class F1 weighted by support (the challenge metric). */
  weightedF1: number;
  /** Number of examples. */
  count: number;
  /** Class codes, in the order of the matrix rows and columns. */
  labels: number[];
  /** `confusion[i][j]`: examples of class `labels[i]` predicted as `labels[j]`. */
  confusion: number[][];
  /** Per-class scores, in `labels` order. */
  perClass: ClassMetrics[];
}

/**
 * Computes every metric from true and predicted labels. `labels` fixes the class list and order
 * (default: every label seen in either array, ascending).
 */
export function classificationMetrics(
  yTrue: readonly number[],
  yPred: readonly number[],
  labels?: readonly number[],
): ClassificationMetrics {
  if (yTrue.length !== yPred.length) throw new RangeError(`yTrue has ${yTrue.length} labels, yPred ${yPred.length}`);
  const classes = labels ? [...labels] : [...new Set([...yTrue, ...yPred])].sort((a, b) => a - b);
  const index = new Map(classes.map((c, i) => [c, i]));
  const k = classes.length;
  const confusion = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  let correct = 0;
  for (let i = 0; i < yTrue.length; i++) {
    const t = index.get(yTrue[i] as number);
    const p = index.get(yPred[i] as number);
    if (t === undefined || p === undefined) continue;
    (confusion[t] as number[])[p] = ((confusion[t] as number[])[p] as number) + 1;
    if (t === p) correct++;
  }
  const perClass: ClassMetrics[] = classes.map((label, i) => {
    const row = confusion[i] as number[];
    const tp = row[i] as number;
    const support = row.reduce((a, b) => a + b, 0);
    const predicted = confusion.reduce((a, r) => a + (r[i] as number), 0);
    const precision = predicted ? tp / predicted : 0;
    const recall = support ? tp / support : 0;
    const f1 = precision + recall ? (2 * precision * recall) / (precision + recall) : 0;
    return { label, precision, recall, f1, support };
  });
  const total = perClass.reduce((a, c) => a + c.support, 0);
  const withSupport = perClass.filter((c) => c.support > 0);
  return {
    accuracy: yTrue.length ? correct / yTrue.length : 0,
    macroF1: withSupport.length ? withSupport.reduce((a, c) => a + c.f1, 0) / withSupport.length : 0,
    weightedF1: total ? perClass.reduce((a, c) => a + c.f1 * c.support, 0) / total : 0,
    count: yTrue.length,
    labels: classes,
    confusion,
    perClass,
  };
}

/** Weighted F1 alone (the challenge metric). */
export function weightedF1(yTrue: readonly number[], yPred: readonly number[]): number {
  return classificationMetrics(yTrue, yPred).weightedF1;
}
