/**
 * The built-in model, kind `text-image-v1`: a text branch and an image branch fused late into
 * one classifier over the classes seen in training.
 *
 * - Text: hashed TF-IDF features (`TextVectorizer`: stemmed and raw words, word pairs and
 *   character 2–5-grams of the title and of the description, the title weighted 1.5x), read by
 *   two learners written in TypeScript — an NBSVM and a fastText-style embedding bag
 *   (`NbSvmTrainer`, `FastTextTrainer`) — whose scores are combined with temperatures
 *   fitted on the validation set.
 * - Image: features of the 64 x 64 picture — by default the spatial means of MobileNetV2
 *   blocks 6 and 10 (ImageNet weights from the `nsfwjs` model, shipped in `weights/`, 672 values), or cheap
 *   fixed features (`imageFeatures`: colour histogram, thumbnail, gradient histograms) — read
 *   by a small TensorFlow.js Dense head (`ImageHead`, 128 hidden units).
 * - After training, the refit (on training + validation products for the best epoch count) and
 *   8-bit quantisation of the largest weight arrays.
 * - Fusion: `logits = text logits + imageWeight * log(smoothed image probabilities)` when the
 *   product has an image, the text logits alone otherwise: the text branch is trained on every
 *   product, so a missing image costs nothing.
 *
 * Training is seeded and deterministic, stops early on validation weighted F1 and keeps the best
 * epoch; saving is bit-exact. 3-fold CV on 5,042 real products: weighted F1 0.757 (text-only
 * 0.755) against 0.744 for a tuned TF-IDF + linear SVM.
 *
 * @module
 */
import { TEXT_IMAGE_KIND } from './kinds.js';
import { ownArrayBuffer } from '../util/bytes.js';
import type { JsonValue } from '../stores/types.js';
import { initBackend } from './backend.js';
import { ImageHead } from './image-head.js';
import { builtInImageExtractor, DEFAULT_IMAGE_BACKBONE, DEFAULT_MOBILENET_SIZE, textImageFeatureExtractor } from './image-extractors.js';
import { IMAGE_FEATURE_SIZE, imageFeatures } from './image-features.js';
import { MOBILENET_FEATURE_SIZE, MobileNetFeatures } from './mobilenet-features.js';
import { DEFAULT_VECTORIZER_CONFIG, type SparseVector, TextVectorizer, type TextVectorizerConfig } from './text-features.js';
import {
  FastTextTrainer,
  type FastTextWeights,
  fastTextScores,
  type LinearWeights,
  linearScores,
} from './text-learners.js';
import { nbSvmRunner, nbSvmWorkerPays } from './text-learner-runner.js';
import type {
  EpochReport,
  HeldOutProbabilities,
  ImageFeatureExtractor,
  ModelArtifact,
  ModelFactory,
  ModelInput,
  ProductClassifier,
  TrainModelOptions,
  ValidationScorer,
} from './types.js';
import { argmax, validationScorer } from './util.js';


/** Hyper-parameters of the built-in model (pass any subset as `TrainModelOptions.params`). */
export interface TextImageParams extends TextVectorizerConfig {
  /** NBSVM cost. */
  nbC: number;
  /** NBSVM naive Bayes smoothing. */
  nbAlpha: number;
  /** fastText embedding size. */
  ftDim: number;
  /**
   * fastText models trained from different seeds and averaged (a bag: less variance on small
   * sets), stored as one model whose embeddings are side by side. Default 1: on 3-fold CV, 2
   * gained about +0.002 weighted F1 (two seeds of folds, no fold worse), below the bar for a default.
   */
  ftModels: number;
  /** fastText initial learning rate. */
  ftLearningRate: number;
  /** Default of `maxEpochs` (text epochs; also the span of the fastText learning-rate schedule). */
  epochs: number;
  /** Epochs always run before early stopping may end training. */
  minEpochs: number;
  /** Train the image branch (when enough training products have an image). */
  image: boolean;
  /**
   * Image features: `mobilenet` (pretrained MobileNetV2 blocks 0–10 of the `nsfwjs` model, shipped in `weights/`,
   * 672 values, about 6 ms per picture on wasm) or `fixed` (colour histogram, thumbnail and
   * gradient histograms, about 0.1 ms).
   */
  imageBackbone: string;
  /** Input side of the MobileNet (the 64 px pictures are resized to it). */
  imageSize: number;
  /** Fewest training images needed to train the image branch. */
  imageMinExamples: number;
  /** Hidden units of the image head (0: linear). */
  imageHidden: number;
  /** L2 penalty of the image head. */
  imageL2: number;
  /** Most epochs of the image head (fewer on large sets: about 30,000 examples seen in all). */
  imageEpochs: number;
  /** Adam learning rate of the image head. */
  imageLearningRate: number;
  /** Weight of the image log-probabilities in the fusion. */
  imageWeight: number;
  /** Share of uniform probability mixed into the image probabilities before fusion. */
  imageSmoothing: number;
  /**
   * After early stopping, train again on the training and validation products together for the
   * best epoch count, keeping the temperatures fitted on validation (about twice the training
   * time, a bigger training set).
   */
  refit: boolean;
  /**
   * Store the NBSVM weights and the fastText embeddings as 8-bit integers with one scale per
   * feature (about 3.5x smaller artifacts; the trained model itself uses the rounded weights, so
   * a loaded copy predicts identically).
   */
  quantise: boolean;
}

/** Default {@link TextImageParams}. */
export const DEFAULT_TEXT_IMAGE_PARAMS: Readonly<TextImageParams> = {
  ...DEFAULT_VECTORIZER_CONFIG,
  nbC: 1,
  nbAlpha: 0.125,
  ftDim: 32,
  ftModels: 1,
  ftLearningRate: 0.3,
  epochs: 20,
  minEpochs: 5,
  image: true,
  imageBackbone: DEFAULT_IMAGE_BACKBONE,
  imageSize: DEFAULT_MOBILENET_SIZE,
  imageMinExamples: 30,
  imageHidden: 128,
  imageL2: 0.01,
  imageEpochs: 60,
  imageLearningRate: 0.001,
  imageWeight: 0.3,
  imageSmoothing: 0.3,
  refit: true,
  quantise: true,
};

const NB_TEMPERATURES = [1, 2, 3, 4, 5, 6, 8, 10, 13, 16, 20, 25];
const FT_TEMPERATURES = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1, 1.3, 1.6, 2];
const DEFAULT_TEMPERATURES = { nb: 5, ft: 0.5 };
const FORMAT = 1;

/** Reads the numeric and boolean params over the defaults; unknown keys are kept as they are. */
function resolveParams(params: Readonly<Record<string, JsonValue>> | undefined): TextImageParams {
  const out: TextImageParams = { ...DEFAULT_TEXT_IMAGE_PARAMS };
  const target = out as unknown as Record<string, JsonValue>;
  for (const [key, value] of Object.entries(params ?? {})) {
    if (!(key in out)) continue;
    const expected = typeof target[key];
    if (typeof value !== expected) throw new TypeError(`param ${key}: expected a ${expected}, got ${JSON.stringify(value)}`);
    target[key] = value;
  }
  return out;
}

function vectorizerConfig(p: TextImageParams): TextVectorizerConfig {
  return {
    charMin: p.charMin,
    charMax: p.charMax,
    titleWeight: p.titleWeight,
    charWeight: p.charWeight,
    minDf: p.minDf,
    maxFeatures: p.maxFeatures,
    maxDescriptionChars: p.maxDescriptionChars,
    sublinearTf: p.sublinearTf,
    rawWords: p.rawWords,
    normalise: p.normalise,
  };
}

function logSoftmaxInPlace(z: Float64Array): void {
  let max = -Infinity;
  for (const v of z) if (v > max) max = v;
  let sum = 0;
  for (const v of z) sum += Math.exp(v - max);
  const log = max + Math.log(sum);
  for (let k = 0; k < z.length; k++) z[k] = (z[k] as number) - log;
}

/**
 * Probabilities of fused logits, in double precision: the scorer sees the same argmax as the
 * logits (float32 rounding could tie close classes), as when models scored epochs themselves.
 */
function probabilitiesOf(z: Float64Array): Float64Array {
  logSoftmaxInPlace(z);
  for (let k = 0; k < z.length; k++) z[k] = Math.exp(z[k] as number);
  return z;
}

/** Mean negative log-likelihood of `scores * t` (rows of logits) for the true classes (`-1`: unknown class, skipped). */
function meanNll(scores: readonly Float64Array[], y: readonly number[], t: number): number {
  let loss = 0;
  let count = 0;
  const z = new Float64Array(scores[0]?.length ?? 0);
  scores.forEach((s, i) => {
    const label = y[i] as number;
    if (label < 0) return;
    for (let k = 0; k < z.length; k++) z[k] = (s[k] as number) * t;
    logSoftmaxInPlace(z);
    loss -= z[label] as number;
    count++;
  });
  return count ? loss / count : 0;
}

function bestTemperature(scores: readonly Float64Array[], y: readonly number[], grid: readonly number[]): number {
  let best = grid[0] as number;
  let bestLoss = Infinity;
  for (const t of grid) {
    const loss = meanNll(scores, y, t);
    if (loss < bestLoss - 1e-12) {
      bestLoss = loss;
      best = t;
    }
  }
  return best;
}

/** Everything a trained model holds. */
interface ModelState {
  classes: number[];
  params: TextImageParams;
  history: EpochReport[];
  vectorizer: TextVectorizer;
  nb: LinearWeights;
  ft: FastTextWeights;
  temperatures: { nb: number; ft: number };
  image: ImageHead | null;
  extractor: ImageExtractor | null;
  /** The 8-bit form of `nb.weights` and `ft.embeddings` when params.quantise (what is saved). */
  quantised: { nb: QuantisedRows; ft: QuantisedRows } | null;
}

/** Turns pictures into the feature vectors the image head reads. */
interface ImageExtractor {
  backbone: string;
  /** {@link ImageFeatureExtractor.id}: vectors stored under it stand for `compute`'s. */
  id: string;
  featureSize: number;
  compute(images: readonly { readonly pixels: Uint8Array; readonly size: number }[]): Float32Array[];
}

async function imageExtractor(params: TextImageParams): Promise<ImageExtractor> {
  if (params.imageBackbone === 'fixed') {
    return { backbone: 'fixed', id: builtInImageExtractor('fixed', params.imageSize).id, featureSize: IMAGE_FEATURE_SIZE, compute: (images) => images.map((i) => imageFeatures(i.pixels, i.size)) };
  }
  if (params.imageBackbone === 'mobilenet') {
    await initBackend();
    const network = await MobileNetFeatures.load(params.imageSize);
    return {
      backbone: 'mobilenet',
      id: builtInImageExtractor('mobilenet', params.imageSize).id,
      featureSize: MOBILENET_FEATURE_SIZE,
      compute: (images) => network.compute(images) };
  }
  throw new TypeError(`param imageBackbone: expected 'mobilenet' or 'fixed', got ${JSON.stringify(params.imageBackbone)}`);
}

/** Image feature vectors of the inputs that have an image (`null` for the others), through a per-picture cache. */
function imageVectors(
  extractor: ImageExtractor,
  inputs: readonly ModelInput[],
  cache?: WeakMap<object, Float32Array>,
): (Float32Array | null)[] {
  const out: (Float32Array | null)[] = inputs.map((input) => {
    if (!input.image) return null;
    const stored = input.image.features?.[extractor.id];
    if (stored) {
      if (stored.length !== extractor.featureSize) throw new RangeError(`image features ${extractor.id}: ${stored.length} values, expected ${extractor.featureSize}`);
      return stored;
    }
    return cache?.get(input.image) ?? null;
  });
  const missing = inputs.flatMap((input, i) => (input.image && !out[i] ? [i] : []));
  for (const i of missing) {
    // Pixels are left out only for the extractor the stages computed vectors for: not ours.
    if ((inputs[i] as ModelInput).image?.pixels.length === 0) throw new Error(`image of input ${i}: no pixels and no stored ${extractor.id} features`);
  }
  const computed = extractor.compute(missing.map((i) => (inputs[i] as ModelInput).image as { pixels: Uint8Array; size: number }));
  missing.forEach((i, j) => {
    const vector = computed[j] as Float32Array;
    out[i] = vector;
    cache?.set((inputs[i] as ModelInput).image as object, vector);
  });
  return out;
}

/**
 * A trained `text-image-v1` classifier: the `TextImageModel` of the design, trained and loaded by
 * the {@link textImageModel} factory.
 *
 * @example
 * ```ts
 * import { textImageModel } from 'rakuten-pipeline/models/text-image';
 *
 * const model = await textImageModel.train(inputs, labels, { seed: 42, validation: { inputs: valInputs, labels: valLabels, score } });
 * const probabilities = await model.predict(inputs.slice(0, 10)); // one Float32Array per input, in model.classes order
 * const artifact = await model.save(); // manifest + weight files; textImageModel.load(artifact) predicts identically
 * model.dispose();
 * ```
 */
export class TextImageModel implements ProductClassifier {
  /** Always `text-image-v1`. */
  readonly kind = TEXT_IMAGE_KIND;
  /** Class codes, in the order of the probability vectors. */
  readonly classes: readonly number[];
  /** Hyper-parameters used. */
  readonly params: Readonly<Record<string, JsonValue>>;
  /** Epoch reports of its training. */
  readonly history: readonly EpochReport[];
  /** Validation probabilities from before the refit (see {@link ProductClassifier.heldOutValidation}). */
  heldOutValidation?: HeldOutProbabilities;
  private readonly state: ModelState;

  /** @internal Use {@link textImageModel} to train or load one. */
  constructor(state: ModelState) {
    this.state = state;
    this.classes = state.classes;
    this.params = { ...state.params } as unknown as Record<string, JsonValue>;
    this.history = state.history;
  }

  /** The extractor whose stored vectors the image branch reads (`null` without an image branch). */
  get imageFeatures(): ImageFeatureExtractor | null {
    const { extractor } = this.state;
    return this.state.image && extractor ? builtInImageExtractor(extractor.backbone, this.state.params.imageSize) : null;
  }

  /** Whether the model has an image branch (otherwise images are ignored). */
  get hasImageBranch(): boolean {
    return this.state.image !== null;
  }

  /** Number of text features. */
  get featureCount(): number {
    return this.state.vectorizer.size;
  }

  /** Class probabilities of each input, aligned with {@link TextImageModel.classes}. */
  async predict(inputs: readonly ModelInput[]): Promise<Float32Array[]> {
    return this.predictSync(inputs);
  }

  /** Synchronous {@link TextImageModel.predict} (the backend is ready once the model exists). */
  predictSync(inputs: readonly ModelInput[]): Float32Array[] {
    const logits = textLogits(this.state, inputs.map((input) => this.state.vectorizer.transform(input)));
    const imageProbabilities = imageProbabilitiesOf(this.state, inputs);
    return logits.map((z, i) => {
      addImageEvidence(z, imageProbabilities[i] ?? null, this.state.params);
      logSoftmaxInPlace(z);
      const p = new Float32Array(z.length);
      for (let k = 0; k < z.length; k++) p[k] = Math.exp(z[k] as number);
      return p;
    });
  }

  /** Serialises the model: a JSON manifest and little-endian binary arrays. */
  async save(): Promise<ModelArtifact> {
    const { vectorizer, nb, ft, image, quantised } = this.state;
    const vstate = vectorizer.state();
    const files: Record<string, Uint8Array> = {
      'text/keys.u32': bytesOf(vstate.keys),
      'text/idf.f32': bytesOf(vstate.idf),
      ...(quantised
        ? {
            'text/nbsvm.i8': bytesOf(quantised.nb.values),
            'text/nbsvm-scales.f32': bytesOf(quantised.nb.scales),
            'text/fasttext-embeddings.i8': bytesOf(quantised.ft.values),
            'text/fasttext-embeddings-scales.f32': bytesOf(quantised.ft.scales),
          }
        : { 'text/nbsvm.f32': bytesOf(nb.weights), 'text/fasttext-embeddings.f32': bytesOf(ft.embeddings) }),
      'text/fasttext-output.f32': bytesOf(ft.output),
      'text/fasttext-bias.f32': bytesOf(ft.bias),
    };
    let imageManifest: JsonValue = null;
    if (image) {
      const saved = await image.save();
      files['image/weights.bin'] = saved.weights;
      files['image/mean.f32'] = bytesOf(saved.mean);
      files['image/std.f32'] = bytesOf(saved.std);
      imageManifest = {
        topology: saved.topology,
        weightSpecs: saved.weightSpecs,
        featureSize: saved.mean.length,
        backbone: this.state.extractor?.backbone ?? 'fixed',
      };
    }
    const manifest: JsonValue = {
      format: FORMAT,
      classes: [...this.state.classes],
      params: this.params as Record<string, JsonValue>,
      history: this.state.history.map((h) => ({ ...h })),
      vectorizer: { ...vstate.config },
      features: vectorizer.size,
      fastTextDim: ft.dim,
      temperatures: { ...this.state.temperatures },
      image: imageManifest,
    };
    return { kind: TEXT_IMAGE_KIND, manifest, files };
  }

  /** Releases the image head's tensors. */
  dispose(): void {
    this.state.image?.dispose();
    this.state.image = null;
  }
}

/** Rows of 8-bit weights with one scale per row. */
interface QuantisedRows {
  values: Int8Array;
  scales: Float32Array;
}

function quantiseRows(weights: Float32Array, columns: number): QuantisedRows {
  const rows = weights.length / columns;
  const values = new Int8Array(weights.length);
  const scales = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    let max = 0;
    for (let c = 0; c < columns; c++) max = Math.max(max, Math.abs(weights[r * columns + c] as number));
    const scale = Math.fround(max / 127);
    scales[r] = scale;
    if (scale === 0) continue;
    for (let c = 0; c < columns; c++) values[r * columns + c] = Math.round((weights[r * columns + c] as number) / scale);
  }
  return { values, scales };
}

function dequantiseRows(q: QuantisedRows, columns: number): Float32Array {
  const out = new Float32Array(q.values.length);
  for (let r = 0; r < q.scales.length; r++) {
    const scale = q.scales[r] as number;
    for (let c = 0; c < columns; c++) out[r * columns + c] = (q.values[r * columns + c] as number) * scale;
  }
  return out;
}

function bytesOf(array: Float32Array | Uint32Array | Int8Array): Uint8Array {
  return new Uint8Array(ownArrayBuffer(array));
}

function readF32(files: Record<string, Uint8Array>, name: string, length?: number): Float32Array {
  const bytes = files[name];
  if (!bytes) throw new Error(`model artifact: missing file ${name}`);
  const out = new Float32Array(ownArrayBuffer(bytes));
  if (length !== undefined && out.length !== length) throw new Error(`model artifact: ${name} holds ${out.length} values, expected ${length}`);
  return out;
}

function readU32(files: Record<string, Uint8Array>, name: string): Uint32Array {
  const bytes = files[name];
  if (!bytes) throw new Error(`model artifact: missing file ${name}`);
  return new Uint32Array(ownArrayBuffer(bytes));
}

function textLogits(state: Pick<ModelState, 'nb' | 'ft' | 'temperatures'>, vectors: readonly SparseVector[]): Float64Array[] {
  const K = state.nb.classes;
  const nbScores = new Float64Array(K);
  const ftScores = new Float64Array(K);
  const hidden = new Float64Array(state.ft.dim);
  return vectors.map((x) => {
    linearScores(state.nb, x, nbScores);
    fastTextScores(state.ft, x, ftScores, hidden);
    const z = new Float64Array(K);
    for (let k = 0; k < K; k++) z[k] = state.temperatures.nb * (nbScores[k] as number) + state.temperatures.ft * (ftScores[k] as number);
    return z;
  });
}

function imageProbabilitiesOf(
  state: Pick<ModelState, 'image' | 'extractor'>,
  inputs: readonly ModelInput[],
  cache?: WeakMap<object, Float32Array>,
): (Float32Array | null)[] {
  const out: (Float32Array | null)[] = inputs.map(() => null);
  if (!state.image || !state.extractor) return out;
  const vectors = imageVectors(state.extractor, inputs, cache);
  const rows = vectors.flatMap((v, i) => (v ? [i] : []));
  const probabilities = state.image.predict(rows.map((i) => vectors[i] as Float32Array));
  rows.forEach((row, j) => {
    out[row] = probabilities[j] ?? null;
  });
  return out;
}

function addImageEvidence(z: Float64Array, p: Float32Array | null, params: TextImageParams): void {
  if (!p || params.imageWeight === 0) return;
  const uniform = params.imageSmoothing / z.length;
  for (let k = 0; k < z.length; k++) {
    z[k] = (z[k] as number) + params.imageWeight * Math.log((1 - params.imageSmoothing) * (p[k] as number) + uniform);
  }
}

function classWeightsOf(y: Int32Array, classes: number): Float64Array {
  const counts = new Float64Array(classes);
  for (const k of y) counts[k] = (counts[k] as number) + 1;
  return counts.map((c) => (c > 0 ? y.length / (classes * c) : 1));
}

async function trainImageHead(
  inputs: readonly ModelInput[],
  y: Int32Array,
  classes: number,
  params: TextImageParams,
  classWeights: Float64Array | null,
  seed: number,
  cache: WeakMap<object, Float32Array>,
): Promise<{ head: ImageHead; extractor: ImageExtractor } | null> {
  const rows = params.image ? inputs.flatMap((input, i) => (input.image ? [i] : [])) : [];
  const seen = new Set(rows.map((i) => y[i]));
  if (rows.length < params.imageMinExamples || seen.size < 2) return null;
  await initBackend();
  const extractor = await imageExtractor(params);
  const vectors = imageVectors(
    extractor,
    rows.map((i) => inputs[i] as ModelInput),
    cache,
  ) as Float32Array[];
  const epochs = Math.max(3, Math.min(params.imageEpochs, Math.ceil(30_000 / rows.length)));
  const head = await ImageHead.train(
    vectors,
    rows.map((i) => y[i] as number),
    classes,
    {
      hidden: params.imageHidden,
      l2: params.imageL2,
      epochs,
      batchSize: 32,
      learningRate: params.imageLearningRate,
      classWeights,
      seed: seed ^ 0x1b873593,
    },
  );
  return { head, extractor };
}

/** One training run on fixed data: features, image head, then text epochs. */
interface Run {
  vectorizer: TextVectorizer;
  image: ImageHead | null;
  extractor: ImageExtractor | null;
  nb: LinearWeights;
  ft: FastTextWeights;
  temperatures: { nb: number; ft: number };
  bestEpoch: number;
  epochs: number;
}

interface RunSettings {
  params: TextImageParams;
  classes: readonly number[];
  seed: number;
  classWeighting: boolean;
  /** Text epochs to run at most. */
  epochs: number;
  /** Span of the fastText learning-rate schedule. */
  schedule: number;
  patience: number;
  /** Validation data (empty: keep the last epoch, default temperatures). */
  validation: { inputs: readonly ModelInput[]; labels: readonly number[] };
  /** Scores validation probabilities (`null` exactly when there is no validation data). */
  score: ValidationScorer | null;
  onEpoch?: (report: EpochReport) => void;
  signal?: AbortSignal;
  /** Image feature vectors by picture, shared by the runs of one training. */
  imageCache: WeakMap<object, Float32Array>;
}

/**
 * One fastText model whose scores are the mean of the given models' scores: embeddings side by
 * side, output weights stacked and divided by the count, biases averaged.
 */
function mergeFastText(models: readonly FastTextWeights[]): FastTextWeights {
  const first = models[0] as FastTextWeights;
  const { features, classes: K } = first;
  const m = models.length;
  const dim = models.reduce((sum, model) => sum + model.dim, 0);
  const embeddings = new Float32Array(features * dim);
  const output = new Float32Array(dim * K);
  const bias = new Float32Array(K);
  let offset = 0;
  for (const model of models) {
    const d = model.dim;
    for (let f = 0; f < features; f++) embeddings.set(model.embeddings.subarray(f * d, (f + 1) * d), f * dim + offset);
    for (let i = 0; i < d * K; i++) output[offset * K + i] = (model.output[i] as number) / m;
    for (let k = 0; k < K; k++) bias[k] = (bias[k] as number) + (model.bias[k] as number) / m;
    offset += d;
  }
  return { features, classes: K, dim, embeddings, output, bias };
}

async function run(inputs: readonly ModelInput[], y: Int32Array, settings: RunSettings): Promise<Run> {
  const { params, classes, seed } = settings;
  const K = classes.length;
  const classWeights = settings.classWeighting ? classWeightsOf(y, K) : null;
  const vectorizer = TextVectorizer.fit(inputs, vectorizerConfig(params));
  const X = vectorizer.transformAll(inputs);
  const imageBranch = await trainImageHead(inputs, y, K, params, classWeights, seed, settings.imageCache);
  const image = imageBranch?.head ?? null;
  const extractor = imageBranch?.extractor ?? null;

  const index = new Map(classes.map((c, i) => [c, i]));
  const valLabels = settings.validation.labels;
  const valY = valLabels.map((l) => index.get(l) ?? -1);
  const valX = vectorizer.transformAll(settings.validation.inputs);
  const valImage = imageProbabilitiesOf({ image, extractor }, settings.validation.inputs, settings.imageCache);
  const score = valX.length > 0 ? settings.score : null;
  const hasValidation = score !== null;

  // On a large set the NBSVM passes run in a worker thread, beside the fastText epochs.
  const nbRunner = nbSvmRunner(
    { X, y, features: vectorizer.size, classes: K, options: { c: params.nbC, alpha: params.nbAlpha, classWeights, seed: seed ^ 0x85ebca6b } },
    nbSvmWorkerPays(X),
  );
  try {
    const ftTrainers = Array.from(
      { length: Math.max(1, params.ftModels) },
      (_, m) =>
        new FastTextTrainer(X, y, vectorizer.size, K, {
          dim: params.ftDim,
          learningRate: params.ftLearningRate,
          epochs: settings.schedule,
          classWeights,
          seed: (seed ^ 0xc2b2ae35) + m * 0x9e3779b1,
        }),
    );
    let best: { f1: number; epoch: number; nb: LinearWeights; ft: FastTextWeights; temperatures: { nb: number; ft: number } } | null = null;
    let sinceBest = 0;
    let epoch = 0;
    while (epoch < settings.epochs) {
      epoch++;
      const started = performance.now();
      const nbPass = nbRunner.pass();
      const loss = ftTrainers.reduce((sum, trainer) => sum + trainer.epoch(), 0) / ftTrainers.length;
      const nb = await nbPass;
      // A merged model is already a copy; a single one is live until snapshotted.
      const ft = ftTrainers.length === 1 ? (ftTrainers[0] as FastTextTrainer).current() : mergeFastText(ftTrainers.map((t) => t.current()));
      let temperatures = DEFAULT_TEMPERATURES;
      let f1 = 0;
      if (hasValidation) {
        const hidden = new Float64Array(ft.dim);
        const nbScores: Float64Array[] = [];
        const ftScores: Float64Array[] = [];
        for (const x of valX) {
          const a = new Float64Array(K);
          linearScores(nb, x, a);
          nbScores.push(a);
          const b = new Float64Array(K);
          fastTextScores(ft, x, b, hidden);
          ftScores.push(b);
        }
        temperatures = { nb: bestTemperature(nbScores, valY, NB_TEMPERATURES), ft: bestTemperature(ftScores, valY, FT_TEMPERATURES) };
        const probabilities = textLogits({ nb, ft, temperatures }, valX).map((z, i) => {
          addImageEvidence(z, valImage[i] ?? null, params);
          return probabilitiesOf(z);
        });
        f1 = score(probabilities, classes);
      }
      settings.onEpoch?.({ epoch, loss, valWeightedF1: f1, seconds: (performance.now() - started) / 1000 });
      // Without validation the latest epoch is the best.
      if (!best || !hasValidation || f1 > best.f1) {
        best = { f1, epoch, nb, ft: ftTrainers.length === 1 ? (ftTrainers[0] as FastTextTrainer).snapshot() : ft, temperatures };
        sinceBest = 0;
      } else {
        sinceBest++;
      }
      if (settings.signal?.aborted) break;
      if (hasValidation && epoch >= params.minEpochs && sinceBest >= settings.patience) break;
    }
    if (!best) throw new Error('training ran no epoch');
    return { vectorizer, image, extractor, nb: best.nb, ft: best.ft, temperatures: best.temperatures, bestEpoch: best.epoch, epochs: epoch };
  } finally {
    await nbRunner.close();
  }
}

async function train(inputs: readonly ModelInput[], labels: readonly number[], options: TrainModelOptions): Promise<TextImageModel> {
  if (inputs.length !== labels.length) throw new RangeError(`${inputs.length} inputs but ${labels.length} labels`);
  if (inputs.length === 0) throw new RangeError('no training examples');
  const { validation } = options;
  if (validation.inputs.length !== validation.labels.length) {
    throw new RangeError(`${validation.inputs.length} validation inputs but ${validation.labels.length} labels`);
  }
  const params = resolveParams(options.params);
  const classes = [...new Set(labels)].sort((a, b) => a - b);
  const K = classes.length;
  const index = new Map(classes.map((c, i) => [c, i]));
  const y = Int32Array.from(labels, (l) => index.get(l) as number);
  const maxEpochs = Math.max(1, options.maxEpochs ?? params.epochs);
  const history: EpochReport[] = [];
  const settings: RunSettings = {
    params,
    classes,
    seed: options.seed >>> 0,
    classWeighting: options.classWeighting ?? false,
    epochs: maxEpochs,
    schedule: maxEpochs,
    patience: Math.max(1, options.patience ?? 2),
    validation,
    score: validationScorer(validation, TEXT_IMAGE_KIND),
    onEpoch: (report) => {
      history.push(report);
      options.onEpoch?.(report);
    },
    signal: options.signal,
    imageCache: new WeakMap(),
  };
  let result = await run(inputs, y, settings);
  // Refit on training + validation products for the best epoch count, keeping the temperatures.
  const known = validation.labels.flatMap((l, i) => (index.has(l) ? [i] : []));
  let heldOut: { withImage: Float32Array[]; textOnly: Float32Array[] } | undefined;
  if (params.refit && known.length > 0 && !options.signal?.aborted) {
    // Score the validation set before training on it, so the stage's validation scores stay held-out.
    const before = new TextImageModel({
      classes, params, history, vectorizer: result.vectorizer, nb: result.nb, ft: result.ft,
      temperatures: result.temperatures, image: result.image, extractor: result.extractor, quantised: null,
    });
    heldOut = {
      withImage: await before.predict(validation.inputs),
      textOnly: await before.predict(validation.inputs.map((input) => ({ ...input, image: null }))),
    };
    const allInputs = [...inputs, ...known.map((i) => validation.inputs[i] as ModelInput)];
    const allY = Int32Array.from([...y, ...known.map((i) => index.get(validation.labels[i] as number) as number)]);
    const refit = await run(allInputs, allY, {
      ...settings,
      epochs: result.bestEpoch,
      validation: { inputs: [], labels: [] },
      score: null,
      onEpoch: undefined,
      signal: undefined,
    });
    result.image?.dispose();
    result = { ...refit, temperatures: result.temperatures, bestEpoch: result.bestEpoch, epochs: result.epochs };
  }
  const quantised = params.quantise ? { nb: quantiseRows(result.nb.weights, K), ft: quantiseRows(result.ft.embeddings, result.ft.dim) } : null;
  const nb = quantised ? { ...result.nb, weights: dequantiseRows(quantised.nb, K) } : result.nb;
  const ft = quantised ? { ...result.ft, embeddings: dequantiseRows(quantised.ft, result.ft.dim) } : result.ft;
  const model = new TextImageModel({
    classes,
    params,
    history,
    vectorizer: result.vectorizer,
    nb,
    ft,
    temperatures: result.temperatures,
    image: result.image,
    extractor: result.extractor,
    quantised,
  });
  if (heldOut) model.heldOutValidation = heldOut;
  return model;
}

function isRecord(value: JsonValue | undefined): value is { [key: string]: JsonValue } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

async function load(artifact: ModelArtifact): Promise<TextImageModel> {
  if (artifact.kind !== TEXT_IMAGE_KIND) throw new Error(`cannot load a ${artifact.kind} model as ${TEXT_IMAGE_KIND}`);
  const m = artifact.manifest;
  if (!isRecord(m) || m['format'] !== FORMAT) throw new Error(`model artifact: unsupported manifest format`);
  const classes = m['classes'] as number[];
  const params = resolveParams(m['params'] as Record<string, JsonValue>);
  const history = (m['history'] as unknown as EpochReport[]).map((h) => ({ ...h }));
  const vconfig = m['vectorizer'] as unknown as TextVectorizerConfig;
  const features = m['features'] as number;
  const dim = m['fastTextDim'] as number;
  const temperatures = m['temperatures'] as { nb: number; ft: number };
  const K = classes.length;
  const files = artifact.files;
  const keys = readU32(files, 'text/keys.u32');
  const idf = readF32(files, 'text/idf.f32', features);
  if (keys.length !== features) throw new Error('model artifact: vocabulary size mismatch');
  const vectorizer = TextVectorizer.fromState({ config: { ...vconfig }, keys, idf });
  const readRows = (name: string, rows: number): QuantisedRows => {
    const bytes = files[`${name}.i8`];
    if (!bytes || bytes.length % rows !== 0) throw new Error(`model artifact: missing or bad file ${name}.i8`);
    return { values: new Int8Array(ownArrayBuffer(bytes)), scales: readF32(files, `${name}-scales.f32`, rows) };
  };
  const quantised = params.quantise ? { nb: readRows('text/nbsvm', features + 1), ft: readRows('text/fasttext-embeddings', features) } : null;
  const nb: LinearWeights = {
    features,
    classes: K,
    weights: quantised ? dequantiseRows(quantised.nb, K) : readF32(files, 'text/nbsvm.f32', (features + 1) * K),
  };
  const ft: FastTextWeights = {
    features,
    classes: K,
    dim,
    embeddings: quantised ? dequantiseRows(quantised.ft, dim) : readF32(files, 'text/fasttext-embeddings.f32', features * dim),
    output: readF32(files, 'text/fasttext-output.f32', dim * K),
    bias: readF32(files, 'text/fasttext-bias.f32', K),
  };
  let image: ImageHead | null = null;
  let extractor: ImageExtractor | null = null;
  const im = m['image'];
  if (isRecord(im)) {
    await initBackend();
    const weights = files['image/weights.bin'];
    if (!weights) throw new Error('model artifact: missing file image/weights.bin');
    extractor = await imageExtractor({ ...params, imageBackbone: String(im['backbone']) });
    const featureSize = im['featureSize'] as number;
    if (featureSize !== extractor.featureSize) {
      throw new Error(`model artifact: image features of size ${featureSize}, this version computes ${extractor.featureSize}`);
    }
    image = await ImageHead.load({
      topology: im['topology'] as JsonValue,
      weightSpecs: im['weightSpecs'] as JsonValue,
      weights,
      mean: readF32(files, 'image/mean.f32', featureSize),
      std: readF32(files, 'image/std.f32', featureSize),
    });
  }
  return new TextImageModel({ classes, params, history, vectorizer, nb, ft, temperatures: { ...temperatures }, image, extractor, quantised });
}

/** @deprecated Renamed {@link TextImageModel}; this alias will be removed in a future major version. */
export const TextImageClassifier = TextImageModel;
/** @deprecated Renamed {@link TextImageModel}; this alias will be removed in a future major version. */
export type TextImageClassifier = TextImageModel;

/** {@link ModelFactory} of the built-in model, with its concrete classifier type. */
export { TEXT_IMAGE_KIND };

export interface TextImageModelFactory extends ModelFactory {
  /** Always `text-image-v1`. */
  readonly kind: typeof TEXT_IMAGE_KIND;
  /** Trains a new model (see {@link TextImageParams} for `options.params`). */
  train(inputs: readonly ModelInput[], labels: readonly number[], options: TrainModelOptions): Promise<TextImageModel>;
  /** Rebuilds a saved model. */
  load(artifact: ModelArtifact): Promise<TextImageModel>;
  /** The extractor a model trained with these params reads (`null` when `image` is false). */
  imageFeatures(params: Readonly<Record<string, JsonValue>> | undefined): ImageFeatureExtractor | null;
}

/** Factory of the built-in `text-image-v1` model. */
export const textImageModel: TextImageModelFactory = {
  specificationVersion: 'v1',
  kind: TEXT_IMAGE_KIND,
  train,
  load,
  imageFeatures: textImageFeatureExtractor,
};
