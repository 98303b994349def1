/**
 * No train/serve skew: a pipeline prepared with non-default text options is served — online, in
 * batch and in evaluation — with exactly the preprocessing it was trained on, rebuilt from the
 * spec saved in the model version, not with the defaults.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { COLLECTIONS, PREP_IMAGE_PREFIX } from '../../src/collections.js';
import type { DemoCatalogueSummary } from '../../src/demo/generate-catalogue.js';
import { naiveBayesModel } from '../../src/models/naive-bayes.js';
import { ModelRegistry, type ModelVersion } from '../../src/models/registry.js';
import type { ModelInput, ProductClassifier } from '../../src/models/types.js';
import { classificationMetrics } from '../../src/stages/evaluate/metrics.js';
import { Evaluator } from '../../src/stages/evaluate/stage.js';
import type { ProductRow } from '../../src/stages/load/types.js';
import { ChallengeDataLoader } from '../../src/stages/load/loader.js';
import { inputFromPrepared, inputsFromLabeled } from '../../src/stages/model-inputs.js';
import { Predictor, type ScoredClass, type StoredPrediction } from '../../src/stages/predict/predictor.js';
import { categoryNames } from '../../src/categories.js';
import { PrepareStage } from '../../src/stages/prepare/stage.js';
import { Preprocessor, type PreprocessorOptions } from '../../src/stages/preprocess/preprocessor.js';
import { collapseWhitespace, decodeEntities, stripTags } from '../../src/stages/preprocess/text.js';
import { TrainStage } from '../../src/stages/train/stage.js';
import { currentSplits, dataCollections, dataView, readCommittedSplit } from '../../src/stages/views.js';
import type { Store } from '../../src/stores/types.js';
import { makeCatalogue, tempDir } from '../support/data.js';
import { all, storeBackends, useStore } from '../support/stores.js';

/** Non-default text options: no lower-casing, no Unicode normalisation, no stemming, no stop-word removal, longer tokens. */
const CUSTOM: PreprocessorOptions = {
  text: { steps: [decodeEntities, stripTags, collapseWhitespace], stem: false, removeStopWords: false, minTokenLength: 3 },
  image: { size: 32, tolerance: 30 },
};
const DEFAULTS: PreprocessorOptions = { image: { size: 32 } };

let data: DemoCatalogueSummary;
beforeAll(async () => {
  data = await makeCatalogue({ rows: 300, testRows: 40, imageFraction: 0.5 });
});

/** The model input of a loaded row, preprocessed by hand with `preprocessor`. */
async function inputOf(store: Store, preprocessor: Preprocessor, row: ProductRow): Promise<ModelInput> {
  const bytes = row.image ? await store.images.get(row.image) : undefined;
  const image = bytes ? await preprocessor.prepareImagePixels(bytes) : null;
  return inputFromPrepared({ text: preprocessor.text.prepare(row), image });
}

/** Top classes as the Predictor ranks them. */
async function topOf(model: ProductClassifier, inputs: readonly ModelInput[], k: number): Promise<ScoredClass[][]> {
  return (await model.predict(inputs)).map((p) =>
    Array.from(p.keys())
      .sort((a, b) => (p[b] as number) - (p[a] as number))
      .slice(0, k)
      .map((i) => {
        const prdtypecode = model.classes[i] as number;
        const names = categoryNames(prdtypecode);
        return { prdtypecode, probability: p[i] as number, ...(names ? { name: names.en, names } : {}) };
      }),
  );
}

for (const backend of storeBackends()) {
  describe.skipIf(backend.skip)(`preprocessing spec on ${backend.name}`, () => {
    const ctx = useStore(backend);

    const pipeline = async (): Promise<{ registry: ModelRegistry; version: ModelVersion }> => {
      await new ChallengeDataLoader(ctx.store).load({ dataDir: data.outDir });
      const run = await new PrepareStage(ctx.store, new Preprocessor(CUSTOM)).run({ seed: 3 });
      expect(run.preprocessing).toEqual(new Preprocessor(CUSTOM).spec);
      const registry = new ModelRegistry(ctx.store, [naiveBayesModel]);
      const { model: version } = await new TrainStage(ctx.store, naiveBayesModel, async () => 'test', registry).run({ seed: 1 });
      return { registry, version };
    };

    it('serves online, batch and evaluation with the preprocessing the model was trained on', async () => {
      const { registry, version } = await pipeline();
      const manual = new Preprocessor(CUSTOM);
      const defaults = new Preprocessor(DEFAULTS);
      expect(version.preprocessing).toEqual(manual.spec);
      const model = await registry.load(version);
      const rows = await all((await dataCollections(ctx.store)).xTest.find({}, { sort: { field: 'index' } }));
      expect(rows.length).toBe(40);
      const expected = await topOf(model, await Promise.all(rows.map((row) => inputOf(ctx.store, manual, row))), 3);
      const withDefaults = await topOf(model, await Promise.all(rows.map((row) => inputOf(ctx.store, defaults, row))), 3);
      // The options matter here (otherwise this test could not fail): the defaults give other inputs and scores.
      expect(rows.some((row) => manual.text.prepare(row).designationTokens.join(' ') !== defaults.text.prepare(row).designationTokens.join(' '))).toBe(true);
      expect(withDefaults).not.toEqual(expected);

      // Online.
      const predictor = new Predictor(ctx.store, registry);
      for (const [i, row] of rows.entries()) {
        const image = row.image ? await ctx.store.images.get(row.image) : null;
        const online = await predictor.predictProduct({ designation: row.designation, description: row.description, image }, { model: version.version });
        expect(online.top, `row ${row.index}`).toEqual(expected[i]);
        expect(online.names).toEqual(categoryNames(online.prdtypecode));
        expect(online.name).toBe(categoryNames(online.prdtypecode)?.en ?? 'a demo code without a name');
      }

      // Batch, stored test rows.
      await predictor.predictStoredTest({ model: version.version });
      const stored = await all(ctx.store.documents.collection<StoredPrediction>(COLLECTIONS.predictions).find({}, { sort: { field: 'index' } }));
      // Stored documents carry the English name only (`names` would double their size).
      expect(stored.map((p) => p.top)).toEqual(expected.map((top) => top.map(({ names: _names, ...scored }) => scored)));
      expect(stored.map((p) => p.name)).toEqual(expected.map((top) => top[0]?.name));

      // Batch, CSV in the challenge layout.
      const output = path.join(await tempDir('rp-skew-'), 'y_pred.csv');
      await predictor.predictCsv({ input: path.join(data.outDir, 'X_test_update.csv'), output, imagesDir: path.join(data.outDir, 'image_test'), model: version.version });
      const lines = (await readFile(output, 'utf8')).trim().split('\n').slice(1);
      const byIndex = new Map(rows.map((row, i) => [String(row.index), expected[i]?.[0]?.prdtypecode]));
      expect(lines).toHaveLength(rows.length);
      for (const line of lines) {
        const [index, code] = line.split(',');
        expect(Number(code), `CSV row ${index}`).toBe(byIndex.get(index as string));
      }

      // Evaluation of a labelled folder.
      const evaluation = await new Evaluator(ctx.store, registry).run({ model: version.version, dataDir: data.outDir, report: false, latencySamples: 1 });
      const view = await dataCollections(ctx.store);
      const labels = new Map((await all(view.yTrain.find())).map((l) => [l._id, l.prdtypecode]));
      const trainRows = (await all(view.xTrain.find())).filter((row) => labels.has(row._id));
      const truth = trainRows.map((row) => labels.get(row._id) as number);
      const predicted = (await topOf(model, await Promise.all(trainRows.map((row) => inputOf(ctx.store, manual, row))), 1)).map((t) => t[0]?.prdtypecode as number);
      const metrics = classificationMetrics(truth, predicted, [...new Set([...version.classes, ...truth])].sort((a, b) => a - b));
      expect(evaluation.metrics.weightedF1).toBe(metrics.weightedF1);
      expect(evaluation.metrics.accuracy).toBe(metrics.accuracy);
    });

    it("evaluates the held-out split of another preprocessing with the model's own", async () => {
      const { registry, version } = await pipeline();
      // The current splits now come from the default preprocessing.
      await new PrepareStage(ctx.store, new Preprocessor(DEFAULTS)).run({ seed: 3 });
      const { pointer, splits } = await currentSplits(ctx.store);
      const docs = await readCommittedSplit(splits.test, pointer);
      const rows = dataView(ctx.store, pointer.dataGeneration as string).xTrain;
      const manual = new Preprocessor(CUSTOM);
      const inputs = await Promise.all(docs.map(async (doc) => inputOf(ctx.store, manual, (await rows.get(doc._id)) as ProductRow)));
      const model = await registry.load(version);
      const truth = docs.map((d) => d.prdtypecode);
      const predicted = (await topOf(model, inputs, 1)).map((t) => t[0]?.prdtypecode as number);
      const stale = (await topOf(model, await inputsFromLabeled(docs, ctx.store.images), 1)).map((t) => t[0]?.prdtypecode as number);
      const classes = [...new Set([...version.classes, ...truth])].sort((a, b) => a - b);
      const evaluation = await new Evaluator(ctx.store, registry).run({ model: version.version, report: false, latencySamples: 1 });
      expect(evaluation.metrics).toEqual(classificationMetrics(truth, predicted, classes));
      // Scoring the stored default-preprocessed tokens would have given other predictions.
      expect(stale).not.toEqual(predicted);

      // The stored test images are now trimmed with the default tolerance, not the model's: the
      // batch prediction preprocesses the originals again instead of reading them.
      const read: string[] = [];
      const get = ctx.store.images.get.bind(ctx.store.images);
      ctx.store.images.get = (key: string) => {
        read.push(key);
        return get(key);
      };
      await new Predictor(ctx.store, registry).predictStoredTest({ model: version.version });
      expect(read.some((key) => key.startsWith('raw/test/'))).toBe(true);
      expect(read.filter((key) => key.startsWith(`${PREP_IMAGE_PREFIX}32/test/`))).toEqual([]);
    });

    it('refuses to prepare with a cleaning step it could not record', async () => {
      await new ChallengeDataLoader(ctx.store).load({ dataDir: data.outDir });
      const custom = new Preprocessor({ text: { steps: [(text: string) => text.toUpperCase()] } });
      await expect(new PrepareStage(ctx.store, custom).run()).rejects.toThrow(/Text step 1 of 1 \(function <anonymous>\) is not registered/);
    });

    it('serves model versions recorded before specs with the defaults plus what they recorded', async () => {
      const { version } = await pipeline();
      const versions = ctx.store.documents.collection<ModelVersion>(COLLECTIONS.modelMetadata);
      const rows = await all((await dataCollections(ctx.store)).xTest.find({}, { sort: { field: 'index' } }));
      for (const recorded of [{ image: { size: 32, tolerance: 24 } }, {}]) {
        await versions.upsertMany([{ ...version, preprocessing: recorded }]);
        const registry = new ModelRegistry(ctx.store, [naiveBayesModel]);
        const model = await registry.load(version);
        const legacy = new Preprocessor(recorded);
        const expected = await topOf(model, await Promise.all(rows.map((row) => inputOf(ctx.store, legacy, row))), 3);
        const predictor = new Predictor(ctx.store, registry);
        for (const [i, row] of rows.slice(0, 10).entries()) {
          const image = row.image ? await ctx.store.images.get(row.image) : null;
          const online = await predictor.predictProduct({ designation: row.designation, description: row.description, image }, { model: version.version });
          expect(online.top, `row ${row.index}`).toEqual(expected[i]);
        }
      }
    });
  });
}
