import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { splitCollections } from '../../src/stages/views.js';
import { COLLECTIONS } from '../../src/collections.js';
import type { DemoCatalogueSummary } from '../../src/demo/generate-catalogue.js';
import { ModelRegistry, type ValidationScores } from '../../src/models/registry.js';
import { Evaluator, type EvaluationRecord } from '../../src/stages/evaluate/stage.js';
import { ChallengeDataLoader } from '../../src/stages/load/loader.js';
import { Predictor, type StoredPrediction } from '../../src/stages/predict/predictor.js';
import { PrepareStage } from '../../src/stages/prepare/stage.js';
import { Preprocessor } from '../../src/stages/preprocess/preprocessor.js';
import { TrainStage } from '../../src/stages/train/stage.js';
import { makeCatalogue, tempDir } from '../support/data.js';
import { naiveBayesModel } from '../../src/models/naive-bayes.js';
import { textImageModel } from '../../src/models/text-image-model.js';
import { inputsFromLabeled } from '../../src/stages/model-inputs.js';
import { all, storeBackends, useStore } from '../support/stores.js';

let data: DemoCatalogueSummary;
beforeAll(async () => {
  data = await makeCatalogue({ rows: 400, testRows: 40, imageFraction: 0.5 });
});

for (const backend of storeBackends()) {
  describe.skipIf(backend.skip)(`model life cycle on ${backend.name}`, () => {
    const ctx = useStore(backend);
    const factory = naiveBayesModel;
    const setup = async () => {
      await new ChallengeDataLoader(ctx.store).load({ dataDir: data.outDir });
      await new PrepareStage(ctx.store, new Preprocessor({ image: { size: 32 } })).run({ seed: 3 });
      const registry = new ModelRegistry(ctx.store, [factory]);
      return { registry, train: new TrainStage(ctx.store, factory, async () => 'test-backend', registry) };
    };

    it('registers versions, guards the champion, and loads bit-exact models', async () => {
      const { registry, train } = await setup();
      const first = await train.run({ seed: 1 });
      expect(first.model).toMatchObject({ version: 1, kind: 'naive-bayes-v1', backend: 'test-backend', preprocessing: { image: { size: 32 } } });
      expect(first.model.validation.weightedF1).toBeGreaterThan(0.5);
      expect(first.model.history).toHaveLength(1);
      expect(Object.keys(first.model.dataDistribution.train)).toHaveLength(27);
      expect(first.champion).toMatchObject({ promoted: true, previous: null });
      expect(await registry.championVersion()).toBe(1);

      // Same data, same model: not better, so the champion stays.
      const second = await train.run({ seed: 1 });
      expect(second.model.version).toBe(2);
      expect(second.champion.promoted).toBe(false);
      expect(second.champion.reason).toMatch(/does not beat v1/);
      expect(await registry.championVersion()).toBe(1);
      const forced = await train.run({ promote: 'always' });
      expect(forced.champion.promoted).toBe(true);
      expect(await registry.championVersion()).toBe(3);
      await registry.promote(1, 'rollback');
      expect((await registry.get('champion'))?.version).toBe(1);
      expect((await registry.list()).map((v) => v.version)).toEqual([1, 2, 3]);

      // The per-class guardrail blocks a better average that drops one class too far.
      const candidate = (await registry.get(2))!;
      const champion: ValidationScores = { ...candidate.validation, weightedF1: candidate.validation.weightedF1 - 0.01, perClassF1: { ...candidate.validation.perClassF1 } };
      const [code] = Object.keys(champion.perClassF1);
      champion.perClassF1[code!] = (candidate.validation.perClassF1[code!] ?? 0) + 0.2;
      const blocked = await registry.considerForChampion(candidate, champion, 0.05);
      expect(blocked.promoted).toBe(false);
      expect(blocked.regressions).toEqual([expect.objectContaining({ prdtypecode: Number(code) })]);
      const allowed = await registry.considerForChampion(candidate, champion, 0.5);
      expect(allowed.promoted).toBe(true);

      // Save -> load: identical predictions; the loaded model is cached.
      const reloaded = await new ModelRegistry(ctx.store, [factory]).load(candidate);
      const predictor = new Predictor(ctx.store, registry);
      const input = { designationTokens: ['lamp'], descriptionTokens: [], designation: 'lamp', description: '', image: null };
      const original = await (await registry.load(candidate)).predict([input]);
      expect(Array.from((await reloaded.predict([input]))[0]!)).toEqual(Array.from(original[0]!));
      expect(registry.load(candidate)).toBe(registry.load(candidate));
      await expect(predictor.resolve(99)).rejects.toThrow(/Model version 99 not found/);
    });

    it('gives two trainings racing on two connections distinct, complete versions', async () => {
      const { registry } = await setup();
      const other = await ctx.harness.open();
      try {
        const stages = [ctx.store, other].map((store) => new TrainStage(store, factory, async () => 'test-backend', new ModelRegistry(store, [factory])));
        const results = await Promise.all(stages.map((stage, i) => stage.run({ seed: 5 + i, promote: 'always' })));
        expect(results.map((r) => r.model.version).sort()).toEqual([1, 2]);
        const versions = await registry.list();
        expect(versions.map((v) => v.version)).toEqual([1, 2]);
        for (const v of versions) expect(v.files.every((f) => f.key.startsWith(`models/v${v.version}/`) && f.sha256)).toBe(true);
        expect([1, 2]).toContain(await registry.championVersion());
        for (const v of versions) await expect(new ModelRegistry(ctx.store, [factory]).load(v)).resolves.toBeDefined();
      } finally {
        await other.close();
      }
    });

    it('refuses weights altered in the store, naming the version and file', async () => {
      const { registry, train } = await setup();
      const { model } = await train.run({ seed: 1 });
      const file = model.files[0]!;
      await ctx.harness.corrupt(file.key, file.sha256 ?? '');
      await expect(new ModelRegistry(ctx.store, [factory]).load(model)).rejects.toThrow(
        new RegExp(`Model version 1: file ${file.name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} .* is corrupt`),
      );
      await expect(new Predictor(ctx.store, new ModelRegistry(ctx.store, [factory])).predictStoredTest()).rejects.toThrow(/corrupt/);
      void registry;
    });

    it('refuses to train without committed splits, and on a guardrail that is not a number', async () => {
      await new ChallengeDataLoader(ctx.store).load({ dataDir: data.outDir });
      const train = new TrainStage(ctx.store, factory, async () => 'test-backend');
      await expect(train.run()).rejects.toThrow(/No prepared splits .*only a completed prepare counts/);
      await new PrepareStage(ctx.store, new Preprocessor({ image: { size: 32 } })).run({ seed: 3 });
      await expect(train.run({ guardrailMargin: Number('abc') })).rejects.toThrow(RangeError);
    });

    it('warns when evaluating on a held-out split prepared after the model was trained', async () => {
      const { registry, train } = await setup();
      const { model } = await train.run({ seed: 1 });
      const same = await new Evaluator(ctx.store, registry).run({ latencySamples: 5, report: false });
      expect(same.warnings).toBeUndefined();
      await new PrepareStage(ctx.store, new Preprocessor({ image: { size: 32 } })).run({ seed: 4 });
      const other = await new Evaluator(ctx.store, registry).run({ latencySamples: 5, report: false });
      expect(other.warnings).toEqual([expect.stringMatching(new RegExp(`v${model.version} was trained on the splits of ${model.prepareRun}.*may be optimistic`))]);
    });

    it('stores the text-image model through the store and reloads it with identical predictions', async () => {
      await setup();
      const registry = new ModelRegistry(ctx.store, [textImageModel]);
      const trained = await new TrainStage(ctx.store, textImageModel, async () => 'test-backend', registry).run({
        seed: 2,
        epochs: 2,
        params: { minEpochs: 1, imageMinExamples: 20, imageBackbone: 'fixed' },
      });
      // A fresh registry reads every weight file back from the store (GridFS on MongoDB, where
      // small files come back as views on a shared buffer pool).
      const reloaded = await new ModelRegistry(ctx.store, [textImageModel]).load(trained.model);
      const val = await all((await splitCollections(ctx.store)).val.find({}, { limit: 30 }));
      const inputs = await inputsFromLabeled(val, ctx.store.images);
      expect(inputs.some((i) => i.image !== null)).toBe(true);
      const original = await (await registry.load(trained.model)).predict(inputs);
      const again = await reloaded.predict(inputs);
      expect(again.map((p) => Array.from(p))).toEqual(original.map((p) => Array.from(p)));
    });

    it('evaluates, predicts online, in batch into predictions, and into a submission file', async () => {
      const { registry, train } = await setup();
      await train.run();
      const evaluation = await new Evaluator(ctx.store, registry).run({ report: path.join(await tempDir(), 'report.html'), latencySamples: 20 });
      expect(evaluation.modelVersion).toBe(1);
      expect(evaluation.metrics.count).toBeGreaterThan(40);
      expect(evaluation.metrics.weightedF1).toBeGreaterThan(0.5);
      expect(evaluation.latencyTextOnly.samples).toBe(20);
      expect(await readFile(evaluation.report!, 'utf8')).toMatch(/<svg/);
      const stored = await ctx.store.documents.collection<EvaluationRecord>(COLLECTIONS.modelEvaluation).get(evaluation._id);
      expect(stored?.metrics.weightedF1).toBe(evaluation.metrics.weightedF1);
      const onFolder = await new Evaluator(ctx.store, registry).run({ dataDir: data.outDir, report: false, latencySamples: 5 });
      expect(onFolder.metrics.count).toBe(400);

      const predictor = new Predictor(ctx.store, registry);
      const one = await predictor.predictProduct({ designation: 'Figurine', description: '<p>jolie</p>' });
      expect(one.modelVersion).toBe(1);
      expect(one.top).toHaveLength(3);
      expect(one.top[0]!.probability).toBeGreaterThanOrEqual(one.top[1]!.probability);

      const batch = await predictor.predictStoredTest();
      expect(batch).toMatchObject({ modelVersion: 1, count: 40 });
      const predictions = await all(ctx.store.documents.collection<StoredPrediction>(COLLECTIONS.predictions).find());
      expect(predictions).toHaveLength(40);
      expect(predictions.every((p) => p.modelVersion === 1 && p.top.length === 3)).toBe(true);

      const out = path.join(await tempDir(), 'y.csv');
      const file = await predictor.predictCsv({ input: path.join(data.outDir, 'X_test_update.csv'), imagesDir: path.join(data.outDir, 'image_test'), output: out });
      expect(file.count).toBe(40);
      const lines = (await readFile(out, 'utf8')).trimEnd().split('\n');
      expect(lines[0]).toBe(',prdtypecode');
      expect(lines).toHaveLength(41);
      expect(lines[1]).toMatch(/^400,\d+$/);
    });
  });
}
