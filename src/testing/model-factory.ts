import { afterAll, describe, expect, it } from 'vitest';
import type { EpochReport, LabelledInputs, ModelArtifact, ModelFactory, ProductClassifier, TrainModelOptions } from '../models/types.js';
import type { JsonValue } from '../stores/types.js';
import { syntheticProducts } from './synthetic.js';
import { weightedF1Scorer } from './root.js';

/** Options of {@link testModelFactory}. */
export interface ModelFactoryTestOptions {
  /**
   * Model-specific hyper-parameters of every training (`TrainModelOptions.params`). Keep the model
   * small: the suite trains it four times.
   */
  params?: Readonly<Record<string, JsonValue>>;
  /** Most epochs of each training (default 3); early stopping is held off for as long. */
  maxEpochs?: number;
  /** Class codes of the synthetic catalogue (default `[10, 40, 1280]`). */
  classes?: readonly number[];
  /** Training products (default 120); the validation and the held-out sets have half as many each. */
  trainingSize?: number;
  /** Side of the synthetic images in pixels (8 or 16 is plenty), 0 for none (default 8). */
  imageSize?: number;
  /**
   * Accuracy the model must reach on held-out products of the synthetic task, which any working
   * classifier separates (default 0.6; 0 skips the check). It catches probabilities that are not
   * in the order of `classes`.
   */
  minAccuracy?: number;
  /** Seed of the trainings and of the synthetic data (default 42). */
  seed?: number;
  /** Shown in the suite title (default: the factory's kind). */
  name?: string;
  /** Skips the suite, showing this reason. */
  skip?: string;
  /** Timeout of each test in milliseconds (default 120,000; a test may train the model). */
  timeout?: number;
}

/** What a training gave: the model or the error, and the epochs reported to `onEpoch`. */
interface Training {
  readonly model?: ProductClassifier;
  readonly error?: unknown;
  readonly reports: readonly EpochReport[];
}

/**
 * The options of every training the suite runs: the one place that follows `TrainModelOptions`.
 * Early stopping is held off (patience = epochs) so that trainings run the same epochs.
 */
function trainOptions(
  options: ModelFactoryTestOptions,
  validation: LabelledInputs,
  run: { seed: number; signal?: AbortSignal; onEpoch?: (report: EpochReport) => void },
): TrainModelOptions {
  const epochs = options.maxEpochs ?? 3;
  return {
    seed: run.seed,
    maxEpochs: epochs,
    patience: epochs,
    // The core scores validation epochs, as the pipeline's trainer does.
    validation: { ...validation, score: weightedF1Scorer(validation.labels) },
    ...(options.params ? { params: options.params } : {}),
    ...(run.signal ? { signal: run.signal } : {}),
    ...(run.onEpoch ? { onEpoch: run.onEpoch } : {}),
  };
}

function rows(probabilities: readonly Float32Array[]): number[][] {
  return probabilities.map((p) => Array.from(p));
}

/** Whether `error` is how an aborted training may reject: the signal's reason or an `AbortError`. */
function isAbort(error: unknown, signal: AbortSignal): boolean {
  return error === signal.reason || (error instanceof Error && error.name === 'AbortError');
}

/**
 * Registers the model contract suite (vitest) for a `ModelFactory`. It generates a small,
 * separable labelled catalogue ({@link syntheticProducts}: a few classes, title and description
 * tokens, small images on half the products), trains on it and checks that:
 * - the factory declares `specificationVersion: 'v1'` and a kind, and trains classifiers of that
 *   kind whose `classes` are the training labels, each once, with JSON-serialisable `params` and
 *   a `history` listing the epochs reported to `onEpoch`;
 * - `predict` returns one `Float32Array` per input, of length `classes.length`, finite, in [0, 1]
 *   and summing to 1 (images or not, empty or unseen tokens), the same on every call, and learns
 *   the task (see {@link ModelFactoryTestOptions.minAccuracy});
 * - `save()` gives an artifact of the factory's kind whose manifest survives JSON and whose
 *   `load()` (from a JSON copy of the manifest and copies of the files, as the registry stores
 *   them) predicts bit-exactly the same;
 * - two trainings with the same seed predict bit-exactly the same;
 * - cancellation. The contract: `options.signal` is checked at least between epochs. Once it is
 *   aborted, `train` either rejects with the signal's reason (or an error named `AbortError`), or
 *   resolves early with a usable model: when aborted before training, after at most one epoch;
 *   when aborted during an `onEpoch` call, without reporting any further epoch. The built-in
 *   models resolve early (keeping the best epoch so far); the mock model rejects.
 *
 * Call it at the top level of a test file, or inside a `describe`.
 *
 * @param factory - The factory under test.
 * @param options - Hyper-parameters that keep training quick, and the size of the task.
 *
 * @example
 * A model author's whole test file (`test/contract.test.ts`, run by vitest):
 * ```ts
 * import { testModelFactory } from 'rakuten-pipeline/testing';
 * import { gradientBoostedModel } from '../src/index.js';
 *
 * testModelFactory(gradientBoostedModel, { params: { trees: 10, depth: 3 } });
 * ```
 */
export function testModelFactory(factory: ModelFactory, options: ModelFactoryTestOptions = {}): void {
  const timeout = options.timeout ?? 120_000;
  const seed = options.seed ?? 42;
  const minAccuracy = options.minAccuracy ?? 0.6;
  const size = options.trainingSize ?? 120;
  const data = (count: number, dataSeed: number): LabelledInputs =>
    syntheticProducts({
      count,
      seed: dataSeed,
      ...(options.classes ? { classes: options.classes } : {}),
      ...(options.imageSize !== undefined ? { imageSize: options.imageSize } : {}),
    });
  const training = data(size, seed);
  const validation = data(Math.ceil(size / 2), seed + 1);
  const heldOut = data(Math.ceil(size / 2), seed + 2);
  const trainingClasses = [...new Set(training.labels)].sort((a, b) => a - b);
  // Edge cases predict must handle: no tokens at all, tokens never seen, no image.
  const edgeInputs = [
    { designation: '', description: '', designationTokens: [], descriptionTokens: [], image: null },
    { designation: 'zzunseen', description: 'qqunseen', designationTokens: ['zzunseen'], descriptionTokens: ['qqunseen'], image: null },
    ...heldOut.inputs.slice(0, 4).map((input) => ({ ...input, image: null })),
  ];

  const created: ProductClassifier[] = [];
  const train = async (run: { signal?: AbortSignal; onEpoch?: (report: EpochReport) => void } = {}): Promise<Training> => {
    const reports: EpochReport[] = [];
    try {
      const model = await factory.train(
        training.inputs,
        training.labels,
        trainOptions(options, validation, {
          seed,
          ...run,
          onEpoch: (report) => {
            reports.push(report);
            run.onEpoch?.(report);
          },
        }),
      );
      created.push(model);
      return { model, reports };
    } catch (error) {
      return { error, reports };
    }
  };
  let first: Promise<Training> | undefined;
  /** The suite's reference training, run once, by the first test that needs it. */
  const trained = async (): Promise<ProductClassifier> => {
    first ??= train();
    const { model, error } = await first;
    if (!model) throw error;
    return model;
  };

  /** Checks the shape of `model`'s predictions for `inputs` and returns them. */
  const checkedPredict = async (model: ProductClassifier, inputs: LabelledInputs['inputs']): Promise<Float32Array[]> => {
    const probabilities = await model.predict(inputs);
    expect(probabilities).toHaveLength(inputs.length);
    for (const p of probabilities) {
      expect(p).toBeInstanceOf(Float32Array);
      expect(p).toHaveLength(model.classes.length);
      let sum = 0;
      for (const v of p) {
        expect(Number.isFinite(v) && v >= 0 && v <= 1, `probability ${v}`).toBe(true);
        sum += v;
      }
      expect(sum).toBeCloseTo(1, 4);
    }
    return probabilities;
  };

  const test = (name: string, fn: () => Promise<void> | void): void => {
    it(name, fn, timeout);
  };

  describe.skipIf(options.skip !== undefined)(`ModelFactory contract: ${options.name ?? factory.kind}`, () => {
    afterAll(() => {
      for (const model of created.splice(0)) model.dispose();
    });

    test("declares specification 'v1' and a kind", () => {
      expect(factory.specificationVersion).toBe('v1');
      expect(typeof factory.kind).toBe('string');
      expect(factory.kind).not.toBe('');
    });

    test('trains a classifier of its kind over the training classes, with JSON params and the reported epochs as history', async () => {
      const model = await trained();
      const { reports } = (await first) as Training;
      expect(model.kind).toBe(factory.kind);
      expect([...model.classes].sort((a, b) => a - b)).toEqual(trainingClasses);
      expect(JSON.parse(JSON.stringify(model.params)) as unknown).toEqual(model.params);
      expect(model.history.map((h) => h.epoch)).toEqual(reports.map((r) => r.epoch));
      reports.forEach((r, i) => expect(r.epoch).toBe(i + 1));
      if (model.heldOutValidation) {
        for (const set of [model.heldOutValidation.withImage, model.heldOutValidation.textOnly]) {
          expect(set).toHaveLength(validation.inputs.length);
          for (const p of set) expect(p).toHaveLength(model.classes.length);
        }
      }
    });

    test('predicts one probability vector per input (Float32Array over classes, finite, summing to 1), the same on every call', async () => {
      const model = await trained();
      expect(await model.predict([])).toEqual([]);
      const once = await checkedPredict(model, [...heldOut.inputs, ...edgeInputs]);
      const again = await checkedPredict(model, [...heldOut.inputs, ...edgeInputs]);
      expect(rows(again)).toEqual(rows(once));
    });

    it.skipIf(minAccuracy <= 0)(
      `learns the separable synthetic task (held-out accuracy >= ${minAccuracy})`,
      async () => {
        const model = await trained();
        const probabilities = await model.predict(heldOut.inputs);
        let right = 0;
        probabilities.forEach((p, i) => {
          let best = 0;
          for (let k = 1; k < p.length; k++) if ((p[k] as number) > (p[best] as number)) best = k;
          if (model.classes[best] === heldOut.labels[i]) right++;
        });
        expect(right / heldOut.labels.length).toBeGreaterThanOrEqual(minAccuracy);
      },
      timeout,
    );

    test('saves an artifact of its kind that loads (manifest through JSON, files copied) into a model predicting bit-exactly the same', async () => {
      const model = await trained();
      const artifact = await model.save();
      expect(artifact.kind).toBe(factory.kind);
      const manifest = JSON.parse(JSON.stringify(artifact.manifest)) as JsonValue;
      expect(manifest).toEqual(artifact.manifest);
      const files: Record<string, Uint8Array> = {};
      for (const [name, bytes] of Object.entries(artifact.files)) {
        expect(bytes).toBeInstanceOf(Uint8Array);
        files[name] = Buffer.from(bytes); // as the registry reads them back: Buffers
      }
      const copy: ModelArtifact = { kind: artifact.kind, manifest, files };
      const loaded = await factory.load(copy);
      created.push(loaded);
      expect(loaded.kind).toBe(model.kind);
      expect([...loaded.classes]).toEqual([...model.classes]);
      const inputs = [...heldOut.inputs, ...edgeInputs];
      expect(rows(await loaded.predict(inputs))).toEqual(rows(await model.predict(inputs)));
    });

    test('when it reads an image feature extractor, reads its stored vectors (no pixels) as it reads the pixels', async () => {
      const model = await trained();
      const extractor = model.imageFeatures ?? null;
      // Models that read pixels have nothing more to check here.
      if (!extractor) return;
      expect(factory.imageFeatures?.(options.params)?.id, 'factory.imageFeatures(params) declares the trained model\'s extractor').toBe(extractor.id);
      const pictures = heldOut.inputs.flatMap((input) => (input.image ? [input.image] : []));
      const vectors = await extractor.compute(pictures);
      expect(vectors).toHaveLength(pictures.length);
      for (const v of vectors) expect(v).toHaveLength(extractor.featureSize);
      let next = 0;
      const stored = heldOut.inputs.map((input) =>
        input.image ? { ...input, image: { pixels: new Uint8Array(0), size: input.image.size, features: { [extractor.id]: vectors[next++] as Float32Array } } } : input,
      );
      const fromVectors = rows(await model.predict(stored));
      rows(await model.predict(heldOut.inputs)).forEach((row, i) => row.forEach((p, k) => expect(fromVectors[i]?.[k]).toBeCloseTo(p, 5)));
    });

    test('trains deterministically: the same seed gives bit-exactly the same predictions', async () => {
      const model = await trained();
      const again = await train();
      if (!again.model) throw again.error;
      expect([...again.model.classes]).toEqual([...model.classes]);
      const inputs = [...heldOut.inputs, ...edgeInputs];
      expect(rows(await again.model.predict(inputs))).toEqual(rows(await model.predict(inputs)));
    });

    test('with a signal aborted before training: rejects with its reason, or returns a usable model after at most one epoch', async () => {
      const signal = AbortSignal.abort();
      const { model, error, reports } = await train({ signal });
      if (!model) {
        expect(isAbort(error, signal), `rejected with ${String(error)}, not the abort`).toBe(true);
        return;
      }
      expect(reports.length).toBeLessThanOrEqual(1);
      await checkedPredict(model, heldOut.inputs);
    });

    test('with a signal aborted during an epoch report: reports no further epoch, and rejects with its reason or returns a usable model', async () => {
      const controller = new AbortController();
      let afterAbort = 0;
      const { model, error } = await train({
        signal: controller.signal,
        onEpoch: () => {
          if (controller.signal.aborted) afterAbort++;
          else controller.abort();
        },
      });
      expect(afterAbort).toBe(0);
      if (!model) {
        expect(isAbort(error, controller.signal), `rejected with ${String(error)}, not the abort`).toBe(true);
        return;
      }
      await checkedPredict(model, heldOut.inputs);
    });
  });
}
