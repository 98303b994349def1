import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { classificationMetrics, weightedF1 } from '../../src/stages/evaluate/metrics.js';

describe('classificationMetrics: hand-computed 3-class example', () => {
  // 10 examples, classes 0 (5 members), 1 (3), 2 (2):
  //   yTrue = 0 0 0 0 0 1 1 1 2 2
  //   yPred = 0 0 0 1 2 1 1 0 2 2
  //
  // confusion (rows true, columns predicted):
  //          p0 p1 p2 | support
  //     t0 [  3, 1, 1] |  5
  //     t1 [  1, 2, 0] |  3
  //     t2 [  0, 0, 2] |  2
  //   predicted: 4  3  3
  //
  // class 0: P = 3/4 = 0.75,  R = 3/5 = 0.6,  F1 = 2·0.75·0.6 / 1.35 = 0.9 / 1.35 = 2/3
  // class 1: P = 2/3,         R = 2/3,        F1 = 2/3
  // class 2: P = 2/3,         R = 2/2 = 1,    F1 = 2·(2/3)·1 / (5/3) = 4/5 = 0.8
  // accuracy    = (3 + 2 + 2) / 10 = 0.7
  // macro F1    = (2/3 + 2/3 + 0.8) / 3 = 2.1333… / 3 = 0.711111…
  // weighted F1 = (5·2/3 + 3·2/3 + 2·0.8) / 10 = (3.3333… + 2 + 1.6) / 10 = 0.693333…
  const yTrue = [0, 0, 0, 0, 0, 1, 1, 1, 2, 2];
  const yPred = [0, 0, 0, 1, 2, 1, 1, 0, 2, 2];
  const m = classificationMetrics(yTrue, yPred);

  it('builds the confusion matrix with rows = true and columns = predicted', () => {
    expect(m.labels).toEqual([0, 1, 2]);
    expect(m.confusion).toEqual([
      [3, 1, 1],
      [1, 2, 0],
      [0, 0, 2],
    ]);
    expect(m.count).toBe(10);
  });

  it('computes per-class precision, recall, F1 and support', () => {
    const expected = [
      { label: 0, precision: 0.75, recall: 0.6, f1: 2 / 3, support: 5 },
      { label: 1, precision: 2 / 3, recall: 2 / 3, f1: 2 / 3, support: 3 },
      { label: 2, precision: 2 / 3, recall: 1, f1: 0.8, support: 2 },
    ];
    expect(m.perClass).toHaveLength(3);
    m.perClass.forEach((c, i) => {
      const e = expected[i]!;
      expect(c.label).toBe(e.label);
      expect(c.precision).toBeCloseTo(e.precision, 10);
      expect(c.recall).toBeCloseTo(e.recall, 10);
      expect(c.f1).toBeCloseTo(e.f1, 10);
      expect(c.support).toBe(e.support);
    });
  });

  it('computes accuracy, macro F1 and weighted F1', () => {
    expect(m.accuracy).toBeCloseTo(0.7, 10);
    expect(m.macroF1).toBeCloseTo(0.7111111111, 9);
    expect(m.weightedF1).toBeCloseTo(0.6933333333, 9);
    expect(weightedF1(yTrue, yPred)).toBeCloseTo(0.6933333333, 9);
  });

  it('follows the given label order', () => {
    const r = classificationMetrics(yTrue, yPred, [2, 0, 1]);
    expect(r.labels).toEqual([2, 0, 1]);
    expect(r.confusion).toEqual([
      [2, 0, 0],
      [1, 3, 1],
      [0, 1, 2],
    ]);
    expect(r.perClass.map((c) => c.label)).toEqual([2, 0, 1]);
    expect(r.perClass[0]!.f1).toBeCloseTo(0.8, 10);
    expect(r.weightedF1).toBeCloseTo(m.weightedF1, 12);
    expect(r.macroF1).toBeCloseTo(m.macroF1, 12);
  });
});

describe('classificationMetrics: scikit-learn documentation example', () => {
  // From the scikit-learn docs of f1_score / precision_score / recall_score:
  //   y_true = [0, 1, 2, 0, 1, 2]; y_pred = [0, 2, 1, 0, 0, 1]
  //   f1_score(average=None)       → [0.8, 0, 0]
  //   f1_score(average='macro')    → 0.26666…
  //   f1_score(average='weighted') → 0.26666…
  //   precision_score(average=None) → [0.66666667, 0, 0]; recall_score(average=None) → [1, 0, 0]
  //   accuracy_score → 2/6 = 0.33333…
  const m = classificationMetrics([0, 1, 2, 0, 1, 2], [0, 2, 1, 0, 0, 1]);

  it('matches the published values', () => {
    expect(m.perClass.map((c) => c.f1)).toEqual([expect.closeTo(0.8, 10), 0, 0]);
    expect(m.perClass.map((c) => c.precision)).toEqual([expect.closeTo(2 / 3, 10), 0, 0]);
    expect(m.perClass.map((c) => c.recall)).toEqual([1, 0, 0]);
    expect(m.macroF1).toBeCloseTo(0.2666666667, 9);
    expect(m.weightedF1).toBeCloseTo(0.2666666667, 9);
    expect(m.accuracy).toBeCloseTo(1 / 3, 10);
    // rows t0..t2: t0 → p0 twice; t1 → p2, p0; t2 → p1 twice
    expect(m.confusion).toEqual([
      [2, 0, 0],
      [1, 0, 1],
      [0, 2, 0],
    ]);
  });
});

describe('classificationMetrics: edge cases', () => {
  it('gives precision 0 and F1 0 to a class that is never predicted', () => {
    // yTrue = 0 0 1 1, yPred = 0 0 0 0
    // class 0: P = 2/4 = 0.5, R = 2/2 = 1, F1 = 2·0.5·1 / 1.5 = 2/3
    // class 1: never predicted → P = 0, R = 0/2 = 0, F1 = 0
    // accuracy = 2/4; macro = (2/3 + 0) / 2 = 1/3; weighted = (2·2/3 + 2·0) / 4 = 1/3
    const m = classificationMetrics([0, 0, 1, 1], [0, 0, 0, 0]);
    expect(m.confusion).toEqual([
      [2, 0],
      [2, 0],
    ]);
    const c1 = m.perClass[1]!;
    expect(c1).toEqual({ label: 1, precision: 0, recall: 0, f1: 0, support: 2 });
    expect(m.perClass[0]!.precision).toBeCloseTo(0.5, 10);
    expect(m.perClass[0]!.recall).toBe(1);
    expect(m.perClass[0]!.f1).toBeCloseTo(2 / 3, 10);
    expect(m.accuracy).toBe(0.5);
    expect(m.macroF1).toBeCloseTo(1 / 3, 10);
    expect(m.weightedF1).toBeCloseTo(1 / 3, 10);
  });

  it('excludes a class without support from macro F1 and gives it weight 0', () => {
    // labels 0 1 2; yTrue = 0 0 1 1, yPred = 0 1 1 2 (class 2 has no true member but is predicted once)
    // confusion: t0 [1,1,0]; t1 [0,1,1]; t2 [0,0,0]
    // class 0: P = 1/1, R = 1/2, F1 = 2/3
    // class 1: P = 1/2, R = 1/2, F1 = 1/2
    // class 2: P = 0/1 = 0, R = 0 (no support), F1 = 0, support 0
    // macro over classes with support = (2/3 + 1/2) / 2 = 7/12
    //   (scikit-learn with labels=[0,1,2] would average all three: 7/18; this implementation excludes it)
    // weighted = (2·2/3 + 2·1/2 + 0·0) / 4 = 7/12
    const m = classificationMetrics([0, 0, 1, 1], [0, 1, 1, 2], [0, 1, 2]);
    expect(m.confusion).toEqual([
      [1, 1, 0],
      [0, 1, 1],
      [0, 0, 0],
    ]);
    expect(m.perClass[2]).toEqual({ label: 2, precision: 0, recall: 0, f1: 0, support: 0 });
    expect(m.perClass[0]!.f1).toBeCloseTo(2 / 3, 10);
    expect(m.perClass[1]!.f1).toBeCloseTo(0.5, 10);
    expect(m.macroF1).toBeCloseTo(7 / 12, 10);
    expect(m.weightedF1).toBeCloseTo(7 / 12, 10);
    expect(m.accuracy).toBe(0.5);

    // a listed class that never occurs at all changes nothing
    const p = classificationMetrics([0, 1], [0, 1], [0, 1, 5]);
    expect(p.perClass[2]).toEqual({ label: 5, precision: 0, recall: 0, f1: 0, support: 0 });
    expect(p.macroF1).toBe(1);
    expect(p.weightedF1).toBe(1);
  });

  it('gives 1 everywhere for perfect predictions', () => {
    const y = [3, 1, 2, 3, 3, 1];
    const m = classificationMetrics(y, y);
    expect(m.labels).toEqual([1, 2, 3]);
    expect(m.confusion).toEqual([
      [2, 0, 0],
      [0, 1, 0],
      [0, 0, 3],
    ]);
    for (const c of m.perClass) {
      expect([c.precision, c.recall, c.f1]).toEqual([1, 1, 1]);
    }
    expect([m.accuracy, m.macroF1, m.weightedF1]).toEqual([1, 1, 1]);
    expect(m.perClass.map((c) => c.support)).toEqual([2, 1, 3]);
  });

  it('throws on mismatched lengths', () => {
    expect(() => classificationMetrics([0, 1], [0])).toThrow(RangeError);
    expect(() => classificationMetrics([], [1])).toThrow(/yTrue has 0 labels, yPred 1/);
  });

  it('returns zeros and empty structures for empty input', () => {
    const m = classificationMetrics([], []);
    expect(m).toEqual({
      accuracy: 0,
      macroF1: 0,
      weightedF1: 0,
      count: 0,
      labels: [],
      confusion: [],
      perClass: [],
    });
    expect(weightedF1([], [])).toBe(0);
    // with labels given: a k×k zero matrix and all-zero scores
    const z = classificationMetrics([], [], [10, 40]);
    expect(z.confusion).toEqual([
      [0, 0],
      [0, 0],
    ]);
    expect(z.perClass.every((c) => c.f1 === 0 && c.support === 0)).toBe(true);
    expect([z.accuracy, z.macroF1, z.weightedF1]).toEqual([0, 0, 0]);
  });

  it('keeps invariants on random inputs', () => {
    fc.assert(
      fc.property(
        fc
          .array(fc.tuple(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 5 })), { minLength: 1, maxLength: 60 })
          .map((pairs) => [pairs.map((p) => p[0]), pairs.map((p) => p[1])] as const),
        ([yTrue, yPred]) => {
          const m = classificationMetrics(yTrue, yPred);
          const k = m.labels.length;
          const total = m.confusion.flat().reduce((a, b) => a + b, 0);
          const trace = m.confusion.reduce((a, r, i) => a + r[i]!, 0);
          expect(total).toBe(yTrue.length);
          expect(m.accuracy).toBeCloseTo(trace / yTrue.length, 12);
          expect(m.confusion.every((r) => r.length === k)).toBe(true);
          expect(m.perClass.reduce((a, c) => a + c.support, 0)).toBe(yTrue.length);
          for (const c of m.perClass) {
            for (const v of [c.precision, c.recall, c.f1]) expect(v >= 0 && v <= 1).toBe(true);
            // F1 lies between min and max of P and R (harmonic mean)
            expect(c.f1).toBeLessThanOrEqual(Math.max(c.precision, c.recall) + 1e-12);
            expect(c.f1).toBeGreaterThanOrEqual(Math.min(c.precision, c.recall) - 1e-12);
          }
          const supported = m.perClass.filter((c) => c.support > 0).map((c) => c.f1);
          expect(m.macroF1).toBeGreaterThanOrEqual(Math.min(...supported) - 1e-12);
          expect(m.macroF1).toBeLessThanOrEqual(Math.max(...supported) + 1e-12);
          // weighted F1 recomputed independently from the confusion matrix
          let w = 0;
          m.labels.forEach((_, i) => {
            const tp = m.confusion[i]![i]!;
            const sup = m.confusion[i]!.reduce((a, b) => a + b, 0);
            const pred = m.confusion.reduce((a, r) => a + r[i]!, 0);
            const f1 = sup + pred ? (2 * tp) / (sup + pred) : 0; // F1 = 2TP / (2TP + FP + FN)
            w += f1 * sup;
          });
          expect(m.weightedF1).toBeCloseTo(w / yTrue.length, 12);
        },
      ),
      { seed: 42, numRuns: 200 },
    );
  });
});
