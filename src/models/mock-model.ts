/**
 * A tiny deterministic model, kind `mock-v1`, for tests and for plugin authors: the smallest
 * complete implementation of the model interface, with no TensorFlow.
 *
 * @module
 */
import { ownArrayBuffer } from '../util/bytes.js';
import type { JsonValue } from '../stores/types.js';
import { validationScorer } from './util.js';
import type { EpochReport, ModelArtifact, ModelFactory, ModelInput, ProductClassifier } from './types.js';

/** Kind of the mock model. */
export const MOCK_MODEL_KIND = 'mock-v1';

/** Hyper-parameters of the mock model (pass any subset as `TrainModelOptions.params`). */
interface MockParams {
  /** Hash buckets the tokens fall into. */
  buckets: number;
  /** Additive smoothing of the bucket counts. */
  alpha: number;
}

const DEFAULT_PARAMS: MockParams = { buckets: 64, alpha: 1 };
const FORMAT = 1;
const TABLE_FILE = 'log-likelihood.f64';

function resolveParams(params: Readonly<Record<string, JsonValue>> | undefined): MockParams {
  const out = { ...DEFAULT_PARAMS };
  for (const key of ['buckets', 'alpha'] as const) {
    const value = params?.[key];
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) throw new RangeError(`${MOCK_MODEL_KIND} params.${key}: expected a positive number`);
    out[key] = key === 'buckets' ? Math.floor(value) : value;
  }
  return out;
}

/** FNV-1a hash of a token, into `buckets` buckets. */
function bucketOf(token: string, buckets: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < token.length; i++) h = Math.imul(h ^ token.charCodeAt(i), 0x01000193);
  return (h >>> 0) % buckets;
}

function tokensOf(input: ModelInput): readonly string[] {
  return [...input.designationTokens, ...input.descriptionTokens];
}

class MockClassifier implements ProductClassifier {
  readonly kind = MOCK_MODEL_KIND;

  /**
   * @param logLikelihood - Row-major `buckets x classes` log-probabilities of a token's bucket.
   */
  constructor(
    readonly classes: readonly number[],
    readonly params: Readonly<Record<string, JsonValue>>,
    private readonly buckets: number,
    private readonly logPrior: readonly number[],
    private readonly logLikelihood: Float64Array,
    readonly history: readonly EpochReport[],
  ) {}

  async predict(inputs: readonly ModelInput[]): Promise<Float32Array[]> {
    const K = this.classes.length;
    return inputs.map((input) => {
      const scores = Float64Array.from(this.logPrior);
      for (const token of tokensOf(input)) {
        const row = bucketOf(token, this.buckets) * K;
        for (let k = 0; k < K; k++) scores[k] = (scores[k] as number) + (this.logLikelihood[row + k] as number);
      }
      // Softmax, shifted by the largest score so that no exponential overflows.
      const max = Math.max(...scores);
      const exp = scores.map((s) => Math.exp(s - max));
      const sum = exp.reduce((a, b) => a + b, 0);
      return Float32Array.from(exp, (e) => e / sum);
    });
  }

  async save(): Promise<ModelArtifact> {
    const manifest = {
      format: FORMAT,
      classes: [...this.classes],
      params: { ...this.params },
      buckets: this.buckets,
      logPrior: [...this.logPrior],
      history: this.history.map((h) => ({ ...h })),
    };
    const table = new Uint8Array(this.logLikelihood.buffer, this.logLikelihood.byteOffset, this.logLikelihood.byteLength).slice();
    return { kind: MOCK_MODEL_KIND, manifest, files: { [TABLE_FILE]: table } };
  }

  dispose(): void {}
}

function isRecord(value: JsonValue | undefined): value is { [key: string]: JsonValue } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Factory of the mock model, kind `mock-v1`: class priors plus a naive Bayes over the title and
 * description tokens hashed into `params.buckets` buckets (default 64, smoothing `params.alpha`,
 * default 1). One pass over the data, one epoch reported, no TensorFlow: it trains in
 * milliseconds, ignores images and the seed (the result depends on the data alone), and saves
 * bit-exactly. An already aborted `options.signal` makes `train` reject with the signal's reason
 * (the other behaviour the model contract allows, beside returning early).
 *
 * It passes `testModelFactory`; use it where a test needs a model kind that is not built in, or
 * as a starting point for a plugin.
 */
export const mockModel: ModelFactory = {
  specificationVersion: 'v1',
  kind: MOCK_MODEL_KIND,
  async train(inputs, labels, options) {
    options.signal?.throwIfAborted();
    if (inputs.length !== labels.length) throw new RangeError(`${inputs.length} inputs but ${labels.length} labels`);
    if (inputs.length === 0) throw new RangeError('no training examples');
    const started = performance.now();
    const params = resolveParams(options.params);
    const classes = [...new Set(labels)].sort((a, b) => a - b);
    const K = classes.length;
    const index = new Map(classes.map((c, i) => [c, i]));
    const docs = new Float64Array(K);
    const counts = new Float64Array(params.buckets * K);
    const totals = new Float64Array(K);
    inputs.forEach((input, i) => {
      const k = index.get(labels[i] as number) as number;
      docs[k] = (docs[k] as number) + 1;
      for (const token of tokensOf(input)) {
        const cell = bucketOf(token, params.buckets) * K + k;
        counts[cell] = (counts[cell] as number) + 1;
        totals[k] = (totals[k] as number) + 1;
      }
    });
    const logPrior = Array.from(docs, (d) => Math.log((d + 1) / (inputs.length + K)));
    const logLikelihood = counts.map((c, cell) => Math.log((c + params.alpha) / ((totals[cell % K] as number) + params.alpha * params.buckets)));
    const recorded = { ...(options.params ?? {}) };
    const unscored = new MockClassifier(classes, recorded, params.buckets, logPrior, logLikelihood, []);
    const trainProbabilities = await unscored.predict(inputs);
    const loss = -trainProbabilities.reduce((sum, p, i) => sum + Math.log(Math.max(p[index.get(labels[i] as number) as number] as number, 1e-12)), 0) / inputs.length;
    // The trainer's scorer (weighted F1): a model reports probabilities, the core scores them.
    const score = validationScorer(options.validation, MOCK_MODEL_KIND);
    const valWeightedF1 = score ? score(await unscored.predict(options.validation.inputs), classes) : 0;
    const report: EpochReport = { epoch: 1, loss, valWeightedF1, seconds: (performance.now() - started) / 1000 };
    options.onEpoch?.(report);
    return new MockClassifier(classes, recorded, params.buckets, logPrior, logLikelihood, [report]);
  },
  async load(artifact) {
    if (artifact.kind !== MOCK_MODEL_KIND) throw new Error(`cannot load a ${artifact.kind} model as ${MOCK_MODEL_KIND}`);
    const m = artifact.manifest;
    if (!isRecord(m) || m['format'] !== FORMAT) throw new Error(`${MOCK_MODEL_KIND} artifact: unsupported manifest format`);
    const classes = m['classes'] as number[];
    const buckets = m['buckets'] as number;
    const bytes = artifact.files[TABLE_FILE];
    if (!bytes || bytes.byteLength !== buckets * classes.length * 8) throw new Error(`${MOCK_MODEL_KIND} artifact: missing or bad file ${TABLE_FILE}`);
    const history = (m['history'] as unknown as EpochReport[]).map((h) => ({ ...h }));
    const params = m['params'] as Record<string, JsonValue>;
    return new MockClassifier(classes, params, buckets, m['logPrior'] as number[], new Float64Array(ownArrayBuffer(bytes)), history);
  },
};
