import { beforeAll, describe, expect, it, vi } from 'vitest';
import { COLLECTIONS } from '../../src/collections.js';
import type { DemoCatalogueSummary } from '../../src/demo/generate-catalogue.js';
import { builtInImageExtractor } from '../../src/models/image-extractors.js';
import { IMAGE_FEATURE_SIZE } from '../../src/models/image-features.js';
import { MOBILENET_FEATURE_SIZE } from '../../src/models/mobilenet-features.js';
import { ModelRegistry } from '../../src/models/registry.js';
import { textImageModel } from '../../src/models/text-image-model.js';
import { Evaluator } from '../../src/stages/evaluate/stage.js';
import type { ImageFeatureDocument } from '../../src/stages/image-features.js';
import { DataLoader } from '../../src/stages/load/loader.js';
import { inputsFromLabeled } from '../../src/stages/model-inputs.js';
import { Predictor } from '../../src/stages/predict/predictor.js';
import { PrepareStage } from '../../src/stages/prepare/stage.js';
import { Preprocessor } from '../../src/stages/preprocess/preprocessor.js';
import { Trainer } from '../../src/stages/train/stage.js';
import { splitCollections } from '../../src/stages/views.js';
import { makeCatalogue } from '../support/data.js';
import { all, storeBackends, useStore } from '../support/stores.js';

let data: DemoCatalogueSummary;
beforeAll(async () => {
  data = await makeCatalogue({ rows: 200, testRows: 24, imageFraction: 0.6 });
});

const params = { minEpochs: 1, imageMinExamples: 20, imageBackbone: 'fixed' };

it('describes the built-in extractors without loading TensorFlow.js, with the sizes the networks compute', () => {
  expect(builtInImageExtractor('fixed', 128).featureSize).toBe(IMAGE_FEATURE_SIZE);
  expect(builtInImageExtractor('mobilenet', 128).featureSize).toBe(MOBILENET_FEATURE_SIZE);
  // Another input side is another function: its vectors must not be reused.
  expect(builtInImageExtractor('mobilenet', 96).id).not.toBe(builtInImageExtractor('mobilenet', 128).id);
  expect(textImageModel.imageFeatures({ image: false })).toBeNull();
  expect(textImageModel.imageFeatures(undefined)?.id).toBe(builtInImageExtractor('mobilenet', 128).id);
});

// The reuse on every store; the rest (store-independent logic) on the first only, to keep the suite quick.
for (const [index, backend] of storeBackends().entries()) {
  describe.skipIf(backend.skip)(`stored image features on ${backend.name}`, () => {
    const ctx = useStore(backend);
    const extractor = builtInImageExtractor('fixed', 128);
    const setup = async () => {
      await new DataLoader(ctx.store).load({ dataDir: data.outDir });
      await new PrepareStage(ctx.store, new Preprocessor({ image: { size: 32 } })).run({ seed: 3 });
      const registry = new ModelRegistry(ctx.store, [textImageModel]);
      const features = ctx.store.documents.collection<ImageFeatureDocument>(COLLECTIONS.imageFeatures);
      const pictures = async (split: 'train' | 'val' | 'test') =>
        new Set((await all((await splitCollections(ctx.store))[split].find())).flatMap((d) => (d.image ? [d.image] : []))).size;
      return { registry, features, pictures, trainer: new Trainer(ctx.store, textImageModel, async () => 'test-backend', registry) };
    };

    it('computes each picture once and reuses it in training, evaluation and batch prediction', async () => {
      const { registry, features, pictures, trainer } = await setup();
      const compute = vi.spyOn(extractor, 'compute');
      const computed = () => compute.mock.calls.reduce((n, [images]) => n + images.length, 0);
      try {
        const first = await trainer.run({ seed: 1, epochs: 2, params });
        expect(first.model.manifest).toMatchObject({ image: { backbone: 'fixed' } });
        const trainVal = (await pictures('train')) + (await pictures('val'));
        expect(computed()).toBe(trainVal);
        expect(await features.count({ extractor: extractor.id })).toBe(trainVal);

        await trainer.run({ seed: 2, epochs: 2, params });
        expect(computed()).toBe(trainVal);

        await new Evaluator(ctx.store, registry).run({ report: false, latencySamples: 3 });
        expect(computed()).toBe(trainVal + (await pictures('test')));
        await new Evaluator(ctx.store, registry).run({ report: false, latencySamples: 3 });
        expect(computed()).toBe(trainVal + (await pictures('test')));

        const before = computed();
        const batch = await new Predictor(ctx.store, registry).predictStoredTest();
        expect(batch.withImage).toBeGreaterThan(0);
        const stored = computed() - before;
        expect(stored).toBe(batch.withImage);
        await new Predictor(ctx.store, registry).predictStoredTest();
        expect(computed() - before).toBe(stored);
      } finally {
        compute.mockRestore();
      }
    });

    it.skipIf(index > 0)('predicts from stored vectors exactly as from pixels', async () => {
      const { registry, trainer } = await setup();
      const trained = await trainer.run({ seed: 1, epochs: 2, params });
      const model = await registry.load(trained.model);
      expect(model.imageFeatures?.id).toBe(extractor.id);
      const val = await all((await splitCollections(ctx.store)).val.find());
      const fromPixels = await inputsFromLabeled(val, ctx.store.images);
      const fromVectors = await inputsFromLabeled(val, ctx.store.images, { features: { store: ctx.store, extractor } });
      expect(fromVectors.filter((i) => i.image).length).toBe(fromPixels.filter((i) => i.image).length);
      expect(fromVectors.every((i) => !i.image || i.image.pixels.length === 0)).toBe(true);
      const a = (await model.predict(fromPixels)).map((p) => Array.from(p));
      const b = (await model.predict(fromVectors)).map((p) => Array.from(p));
      expect(b).toEqual(a);
    });

    it.skipIf(index > 0)('keeps the vectors of a cancelled computation and computes only the rest next time', async () => {
      const { features, pictures, trainer } = await setup();
      const controller = new AbortController();
      // Aborted after the first stored chunk: the training stops before any model exists.
      await expect(
        trainer.run({
          seed: 1,
          epochs: 2,
          params,
          signal: controller.signal,
          onProgress: (e) => {
            if (e.phase.startsWith('features')) controller.abort();
          },
        }),
      ).rejects.toThrow();
      const kept = await features.count({ extractor: extractor.id });
      const trainVal = (await pictures('train')) + (await pictures('val'));
      expect(kept).toBeGreaterThan(0);
      expect(kept).toBeLessThan(trainVal);
      const compute = vi.spyOn(extractor, 'compute');
      try {
        await trainer.run({ seed: 1, epochs: 2, params });
        expect(compute.mock.calls.reduce((n, [images]) => n + images.length, 0)).toBe(trainVal - kept);
      } finally {
        compute.mockRestore();
      }
    });

    it.skipIf(index > 0)('refuses a damaged stored vector, naming its document', async () => {
      const { features, trainer } = await setup();
      await trainer.run({ seed: 1, epochs: 1, params });
      const [doc] = await all(features.find({ extractor: extractor.id }, { limit: 1 }));
      await features.upsertMany([{ ...doc!, vector: Buffer.from([1, 2, 3]).toString('base64') }]);
      await expect(trainer.run({ seed: 1, epochs: 1, params })).rejects.toThrow(new RegExp(`image_features ${doc!._id.replace(/[/.]/g, '\\$&')}: 3 bytes, expected ${4 * extractor.featureSize}`));
    });
  });
}
