import { describe, expect, it } from 'vitest';
import { describeEvaluation, describePrediction, describeTrain } from '../../src/cli/commands/model.js';
import { classificationMetrics } from '../../src/stages/evaluate/metrics.js';
import type { EvaluationRecord } from '../../src/stages/evaluate/stage.js';
import type { BatchPredictionSummary } from '../../src/stages/predict/predictor.js';
import type { TrainResult } from '../../src/stages/train/stage.js';

// The text the CLI prints (the commands call these): classes by code and category name.

describe('CLI summaries', () => {
  it('names the classes that kept a new version from becoming champion', () => {
    const result = {
      model: {
        version: 3,
        kind: 'naive-bayes-v1',
        backend: 'cpu',
        trainingSeconds: 1,
        history: [],
        validation: { weightedF1: 0.8, textOnlyWeightedF1: 0.8, withImageWeightedF1: null, withImageTextOnlyWeightedF1: null },
      },
      champion: {
        promoted: false,
        previous: 2,
        reason: '2 class(es) drop by more than 0.05 F1: 1320, 77',
        regressions: [
          { prdtypecode: 1320, before: 0.8, after: 0.6 },
          { prdtypecode: 77, before: 0.5, after: 0.25 },
        ],
      },
      championScores: null,
    } as unknown as TrainResult;
    expect(describeTrain(result).slice(-2)).toEqual(['    1320 — Nursery and baby gear: F1 0.8000 -> 0.6000', '    77: F1 0.5000 -> 0.2500']);
  });

  it('names the three weakest evaluated classes, leaving out classes without support', () => {
    // F1: 10 1, 40 0.444 (2 of 3 found, 6 predicted), 1301 0.5, 2583 0; 2905 has no support.
    const metrics = classificationMetrics(
      [10, 10, 40, 40, 40, 1301, 1301, 1301, 2583, 2583],
      [10, 10, 40, 40, 10, 1301, 40, 40, 40, 40],
      [10, 40, 1301, 2583, 2905],
    );
    const record = {
      _id: 'eval-v1',
      modelVersion: 1,
      modelKind: 'naive-bayes-v1',
      dataset: 'labeled_test',
      createdAt: '2026-01-01T00:00:00.000Z',
      metrics,
      textOnlyWeightedF1: metrics.weightedF1,
      withImage: { count: 0, weightedF1: null, textOnlyWeightedF1: null },
      latencyTextOnly: { p50Ms: 1, p95Ms: 2, samples: 10 },
      latencyWithImage: null,
      productsPerSecond: 100,
      report: null,
    } satisfies EvaluationRecord;
    const weakest = describeEvaluation(record).find((l) => l.includes('weakest classes'));
    expect(weakest).toBe(
      '  weakest classes: 2583 — Pool and spa (F1 0.0000), 40 — Video games (F1 0.4444), 1301 — Baby clothes and bar games (F1 0.5000)',
    );
  });

  it('names the most predicted classes of a batch, and prints bare codes without a name', () => {
    const summary: BatchPredictionSummary = {
      modelVersion: 2,
      count: 10,
      withImage: 1,
      seconds: 1,
      productsPerSecond: 10,
      output: 'predictions',
      perClass: { '10': 2, '2583': 5, '77': 2, '1560': 1 },
    };
    expect(describePrediction(summary)[1]).toBe('  most predicted: 2583 — Pool and spa (5), 10 — Used books (2), 77 (2)');
  });
});
