import { describe, expect, it } from 'vitest';
import { initBackend, tf } from '../../src/models/backend.js';
import { TEXT_IMAGE_KIND, TextImageClassifier, TextImageModel, textImageModel } from '../../src/models/text-image-model.js';
import type { EpochReport, ModelInput } from '../../src/models/types.js';
import { weightedF1 } from '../../src/stages/evaluate/metrics.js';
import { weightedF1Scorer } from '../../src/stages/evaluate/score.js';
import { mulberry32, shuffleInPlace } from '../../src/util/random.js';

const CODES = [10, 40, 1280, 2583];
const SIZE = 16;
const COLOURS: [number, number, number][] = [
  [200, 40, 40],
  [40, 200, 40],
  [40, 40, 200],
  [200, 200, 40],
];

/**
 * A separable catalogue: each class has its own words (some shared noise words too) and its own
 * dominant image colour; about half the products have an image.
 */
function catalogue(n: number, seed: number): { inputs: ModelInput[]; labels: number[] } {
  const random = mulberry32(seed);
  const pick = (k: number): number => Math.floor(random() * k);
  const inputs: ModelInput[] = [];
  const labels: number[] = [];
  for (let i = 0; i < n; i++) {
    const c = i % CODES.length;
    const title = [`k${c}w${pick(8)}`, `k${c}w${pick(8)}`, `noise${pick(40)}`, `noise${pick(40)}`];
    const description = random() < 0.4 ? [] : [`k${c}d${pick(10)}`, `noise${pick(40)}`, `noise${pick(40)}`];
    let image: ModelInput['image'] = null;
    if (random() < 0.5) {
      const pixels = new Uint8Array(SIZE * SIZE * 3);
      const colour = COLOURS[c] as [number, number, number];
      for (let p = 0; p < SIZE * SIZE; p++) {
        for (let ch = 0; ch < 3; ch++) pixels[3 * p + ch] = Math.max(0, Math.min(255, (colour[ch] as number) + pick(60) - 30));
      }
      image = { pixels, size: SIZE };
    }
    inputs.push({
      designation: title.join(' '),
      description: description.join(' '),
      designationTokens: title,
      descriptionTokens: description,
      image,
    });
    labels.push(CODES[c] as number);
  }
  return { inputs, labels };
}

const train = catalogue(240, 1);
const validationData = catalogue(80, 2);
// The trainer owns the metric: models early-stop on the scorer they are given.
const validation = { ...validationData, score: weightedF1Scorer(validationData.labels) };
const test = catalogue(120, 3);

function decode(model: TextImageModel, probabilities: Float32Array[]): number[] {
  return probabilities.map((p) => {
    let best = 0;
    for (let k = 1; k < p.length; k++) if ((p[k] as number) > (p[best] as number)) best = k;
    return model.classes[best] as number;
  });
}

async function fit(seed = 7, extra: Partial<Parameters<typeof textImageModel.train>[2]> = {}): Promise<TextImageModel> {
  return textImageModel.train(train.inputs, train.labels, {
    seed,
    maxEpochs: 4,
    validation,
    params: { minEpochs: 1, imageMinExamples: 20, imageBackbone: 'fixed' },
    ...extra,
  });
}

describe('textImageModel', () => {
  it('learns a separable task, and collapses to chance on shuffled labels', async () => {
    const model = await fit();
    expect(model.kind).toBe(TEXT_IMAGE_KIND);
    expect(model).toBeInstanceOf(TextImageModel);
    // The deprecated name is the same class.
    expect(TextImageClassifier).toBe(TextImageModel);
    expect([...model.classes]).toEqual(CODES);
    expect(model.hasImageBranch).toBe(true);
    const f1 = weightedF1(test.labels, decode(model, await model.predict(test.inputs)));
    expect(f1).toBeGreaterThan(0.9);
    model.dispose();

    const shuffled = shuffleInPlace([...train.labels], mulberry32(99));
    const broken = await textImageModel.train(train.inputs, shuffled, {
      seed: 7,
      maxEpochs: 4,
      validation: { inputs: [], labels: [] },
      params: { minEpochs: 1, imageMinExamples: 20, imageBackbone: 'fixed' },
    });
    const chance = weightedF1(test.labels, decode(broken, await broken.predict(test.inputs)));
    expect(chance).toBeLessThan(0.5);
    broken.dispose();
  });

  it('predicts products with and without an image, as probability vectors', async () => {
    const model = await fit();
    const withImage = test.inputs.filter((input) => input.image);
    const without = withImage.map((input) => ({ ...input, image: null }));
    await model.predict(withImage);
    const tensors = tf.memory().numTensors;
    const a = await model.predict(withImage);
    expect(tf.memory().numTensors).toBe(tensors);
    const b = await model.predict(without);
    expect(a).toHaveLength(withImage.length);
    for (const p of [...a, ...b]) {
      expect(p).toHaveLength(CODES.length);
      expect(p.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 5);
    }
    // The image adds evidence: probabilities change, text alone still classifies.
    expect(a.some((p, i) => p.some((v, k) => v !== (b[i] as Float32Array)[k]))).toBe(true);
    const truth = test.labels.filter((_, i) => test.inputs[i]?.image);
    expect(weightedF1(truth, decode(model, b))).toBeGreaterThan(0.9);
    expect(await model.predict([])).toEqual([]);
    model.dispose();
  });

  it('saves and loads bit-exactly', async () => {
    const model = await fit();
    const artifact = await model.save();
    expect(artifact.kind).toBe(TEXT_IMAGE_KIND);
    // Through JSON and fresh byte arrays, as a store would keep it.
    const copy = {
      kind: artifact.kind,
      manifest: JSON.parse(JSON.stringify(artifact.manifest)),
      files: Object.fromEntries(Object.entries(artifact.files).map(([name, bytes]) => [name, new Uint8Array(bytes)])),
    };
    const loaded = await textImageModel.load(copy);
    expect([...loaded.classes]).toEqual([...model.classes]);
    expect(loaded.params).toEqual(model.params);
    expect(loaded.history).toEqual(model.history);
    expect(await loaded.predict(test.inputs)).toEqual(await model.predict(test.inputs));
    await expect(textImageModel.load({ ...copy, kind: 'other' })).rejects.toThrow(/cannot load/);
    model.dispose();
    loaded.dispose();
  });

  it('averages several fastText models (ftModels) into one that saves and loads exactly', async () => {
    const model = await fit(7, { params: { ftModels: 2 } });
    const artifact = await model.save();
    expect((artifact.manifest as { fastTextDim: number }).fastTextDim).toBe(64);
    const loaded = await textImageModel.load(artifact);
    expect(await loaded.predict(test.inputs)).toEqual(await model.predict(test.inputs));
    model.dispose();
    loaded.dispose();
  });

  it('is deterministic for a seed', async () => {
    const a = await (await fit(11)).save();
    const b = await (await fit(11)).save();
    const c = await (await fit(12)).save();
    expect(b.files).toEqual(a.files);
    expect(c.files['text/fasttext-embeddings.i8']).toBeDefined();
    expect(c.files['text/fasttext-embeddings.i8']).not.toEqual(a.files['text/fasttext-embeddings.i8']);
  });

  it('stops early when validation F1 stops improving, and reports every epoch', async () => {
    const reports: EpochReport[] = [];
    const model = await fit(7, { maxEpochs: 12, patience: 1, onEpoch: (r) => reports.push(r) });
    // The task is easy: validation F1 peaks at once, then cannot improve.
    expect(reports.length).toBeLessThan(12);
    expect(reports.map((r) => r.epoch)).toEqual(reports.map((_, i) => i + 1));
    for (const r of reports) {
      expect(r.loss).toBeGreaterThan(0);
      expect(r.valWeightedF1).toBeGreaterThan(0.8);
      expect(r.seconds).toBeGreaterThanOrEqual(0);
    }
    expect(model.history).toEqual(reports);
    model.dispose();
  });

  it("scores epochs with the trainer's scorer (probabilities in, score out), which it requires with validation data", async () => {
    const calls: number[] = [];
    const model = await fit(7, {
      maxEpochs: 3,
      params: { minEpochs: 3, imageMinExamples: 20, imageBackbone: 'fixed' },
      validation: {
        ...validationData,
        score: (probabilities, classes) => {
          expect(probabilities).toHaveLength(validationData.inputs.length);
          expect([...classes]).toEqual(CODES);
          for (const p of probabilities) expect(Array.from(p).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
          calls.push(calls.length + 0.5);
          return calls.at(-1) as number;
        },
      },
    });
    // Whatever the scorer returns is the epoch's validation score.
    expect(model.history.map((h) => h.valWeightedF1)).toEqual([0.5, 1.5, 2.5]);
    model.dispose();
    await expect(fit(7, { validation: validationData })).rejects.toThrow(/validation\.score is required/);
  });

  it('is cancelled by its signal between epochs, keeping a working model', async () => {
    const controller = new AbortController();
    const model = await fit(7, {
      maxEpochs: 20,
      params: { minEpochs: 20, imageMinExamples: 20, imageBackbone: 'fixed' },
      signal: controller.signal,
      onEpoch: (r) => {
        if (r.epoch === 2) controller.abort();
      },
    });
    expect(model.history).toHaveLength(2);
    expect(weightedF1(test.labels, decode(model, await model.predict(test.inputs)))).toBeGreaterThan(0.9);
    model.dispose();
  });

  it('supports class weighting and rejects bad params', async () => {
    const model = await fit(7, { classWeighting: true });
    expect(weightedF1(test.labels, decode(model, await model.predict(test.inputs)))).toBeGreaterThan(0.9);
    model.dispose();
    await expect(fit(7, { params: { nbC: 'big' } })).rejects.toThrow(/nbC/);
  });

  it('uses pretrained MobileNetV2 image features, saved and loaded bit-exactly', async () => {
    const model = await fit(7, { params: { minEpochs: 1, imageMinExamples: 20, imageBackbone: 'mobilenet', imageSize: 64 } });
    expect(model.hasImageBranch).toBe(true);
    const artifact = await model.save();
    expect((artifact.manifest as { image: { backbone: string } }).image.backbone).toBe('mobilenet');
    const loaded = await textImageModel.load(artifact);
    const p = await model.predict(test.inputs);
    expect(await loaded.predict(test.inputs)).toEqual(p);
    expect(weightedF1(test.labels, decode(model, p))).toBeGreaterThan(0.9);
    model.dispose();
    loaded.dispose();
    await expect(fit(7, { params: { imageBackbone: 'resnet', imageMinExamples: 20 } })).rejects.toThrow(/imageBackbone/);
  });

  it('trains text-only when there are too few images', async () => {
    const model = await fit(7, { params: { minEpochs: 1, imageMinExamples: 10_000, imageBackbone: 'fixed', quantise: false } });
    expect(model.hasImageBranch).toBe(false);
    const artifact = await model.save();
    expect(Object.keys(artifact.files).some((name) => name.startsWith('image/'))).toBe(false);
    expect(Object.keys(artifact.files)).toContain('text/nbsvm.f32');
    const loaded = await textImageModel.load(artifact);
    expect(await loaded.predict(test.inputs)).toEqual(await model.predict(test.inputs));
  });

  it('runs on the wasm backend here', async () => {
    expect(await initBackend()).toBe('wasm');
  });
});
