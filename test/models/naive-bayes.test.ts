import { describe, expect, it } from 'vitest';
import { NAIVE_BAYES_KIND, naiveBayesModel } from '../../src/models/naive-bayes.js';
import type { ModelInput } from '../../src/models/types.js';
import { weightedF1 } from '../../src/stages/evaluate/metrics.js';
import { weightedF1Scorer } from '../../src/stages/evaluate/score.js';
import { argmax } from '../../src/models/util.js';

function input(tokens: string[]): ModelInput {
  return { designation: tokens.join(' '), description: '', designationTokens: tokens, descriptionTokens: [], image: null };
}

const train = {
  inputs: [['lamp', 'led'], ['lamp', 'desk'], ['book', 'novel'], ['book', 'poche'], ['game', 'ps4'], ['game', 'xbox']].map(input),
  labels: [2060, 2060, 10, 10, 40, 40],
};
const val = { inputs: [['lamp'], ['novel'], ['ps4'], ['desk', 'book']].map(input), labels: [2060, 10, 40, 2060] };

describe('naiveBayesModel', () => {
  it("reports the trainer's score of its validation probabilities as its one epoch", async () => {
    const seen: { rows: number; classes: number[] }[] = [];
    const model = await naiveBayesModel.train(train.inputs, train.labels, {
      seed: 1,
      validation: {
        ...val,
        score: (probabilities, classes) => {
          seen.push({ rows: probabilities.length, classes: [...classes] });
          return 0.25;
        },
      },
    });
    expect(model.kind).toBe(NAIVE_BAYES_KIND);
    expect(seen).toEqual([{ rows: 4, classes: [10, 40, 2060] }]);
    expect(model.history).toEqual([{ epoch: 1, loss: 0, valWeightedF1: 0.25, seconds: 0 }]);
  });

  it('with the weighted-F1 scorer, records the weighted F1 of its own predictions', async () => {
    const model = await naiveBayesModel.train(train.inputs, train.labels, {
      seed: 1,
      validation: { ...val, score: weightedF1Scorer(val.labels) },
    });
    const predicted = (await model.predict(val.inputs)).map((p) => model.classes[argmax(p)] as number);
    expect(model.history[0]?.valWeightedF1).toBe(weightedF1(val.labels, predicted));
    expect(model.history[0]?.valWeightedF1).toBeGreaterThan(0);
  });

  it('needs a scorer only when there is validation data', async () => {
    await expect(naiveBayesModel.train(train.inputs, train.labels, { seed: 1, validation: val })).rejects.toThrow(
      /naive-bayes-v1: validation\.score is required/,
    );
    const model = await naiveBayesModel.train(train.inputs, train.labels, { seed: 1, validation: { inputs: [], labels: [] } });
    expect(model.history[0]?.valWeightedF1).toBe(0);
  });
});
