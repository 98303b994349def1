import { describe, expect, it } from 'vitest';
import { naiveBayesModel } from '../../src/models/naive-bayes.js';
import { describeRange, NUMERIC_OPTIONS, schema } from '../../src/options.js';
import { parseFlagValue } from '../../src/cli/flags.js';
import { ChallengeDataLoader } from '../../src/stages/load/loader.js';
import { PrepareStage } from '../../src/stages/prepare/stage.js';
import { Preprocessor } from '../../src/stages/preprocess/preprocessor.js';
import { TrainStage } from '../../src/stages/train/stage.js';
import { PrepareDataBody, PredictProductBody, TrainModelBody } from '../../src/http/schemas.js';
import { makeCatalogue } from '../support/data.js';
import { storeBackends, useStore } from '../support/stores.js';

describe('numeric options', () => {
  it('describe their range and parse flags strictly', () => {
    expect(describeRange(NUMERIC_OPTIONS.epochs)).toBe('an integer from 1 to 200');
    expect(describeRange(NUMERIC_OPTIONS.val)).toBe('a number above 0 and below 0.5');
    expect(parseFlagValue(NUMERIC_OPTIONS.guardrailMargin, '0.1')).toBe(0.1);
    for (const bad of ['abc', '', ' ', '0x10', 'Infinity', 'NaN', '1.5', '-1']) {
      expect(() => parseFlagValue(NUMERIC_OPTIONS.seed, bad), bad).toThrow(/--seed must be an integer from 0 to 4294967295, got/);
    }
    expect(() => parseFlagValue(NUMERIC_OPTIONS.guardrailMargin, 'abc')).toThrow('--guardrail must be a number from 0 to 1, got "abc"');
  });

  it('are the HTTP schemas too', () => {
    expect(TrainModelBody.properties.epochs).toMatchObject(schema(NUMERIC_OPTIONS.epochs));
    expect(TrainModelBody.properties.guardrailMargin).toMatchObject({ type: 'number', minimum: 0, maximum: 1 });
    expect(TrainModelBody.properties.seed).toMatchObject({ type: 'integer', minimum: 0, maximum: 4294967295 });
    expect(PrepareDataBody.properties.val).toMatchObject({ exclusiveMinimum: 0, exclusiveMaximum: 0.5 });
    expect(PredictProductBody.properties.topK).toMatchObject({ minimum: 1, maximum: 27 });
  });
});

// Library users bypass the CLI and the HTTP schemas: the stages check their numbers themselves.
const [embedded] = storeBackends();
describe('stage entry points refuse invalid numbers with a RangeError', () => {
  const ctx = useStore(embedded!);
  it('TrainStage.run, PrepareStage.run, ChallengeDataLoader.load, Preprocessor', async () => {
    const train = new TrainStage(ctx.store, naiveBayesModel, async () => 'cpu');
    await expect(train.run({ guardrailMargin: Number.NaN })).rejects.toThrow(RangeError);
    await expect(train.run({ guardrailMargin: Number.NaN })).rejects.toThrow('Trainer.run: options.guardrailMargin must be a number from 0 to 1, got NaN');
    await expect(train.run({ epochs: 0 })).rejects.toThrow(/options\.epochs must be an integer from 1 to 200, got 0/);
    await expect(train.run({ seed: 1.5 })).rejects.toThrow(/options\.seed must be an integer/);
    const prepare = new PrepareStage(ctx.store);
    await expect(prepare.run({ val: 0.6 })).rejects.toThrow(/PrepareStage\.run: options\.val must be a number above 0 and below 0\.5, got 0\.6/);
    await expect(prepare.run({ imageConcurrency: 0 })).rejects.toThrow(RangeError);
    const data = (await makeCatalogue({ rows: 30, imageFraction: 0 })).outDir;
    const loader = new ChallengeDataLoader(ctx.store);
    await expect(loader.load({ dataDir: data, batchSize: 0 })).rejects.toThrow(/DataLoader\.load: options\.batchSize must be an integer from 1/);
    await expect(loader.load({ dataDir: data, quarantineLimit: -5 })).rejects.toThrow(/options\.quarantineLimit must be an integer from 0/);
    expect(() => new Preprocessor({ image: { size: 0 } })).toThrow(/image\.size must be an integer from 8 to 1024, got 0/);
  });
});
