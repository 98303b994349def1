/**
 * The two text learners of the built-in model, written directly in TypeScript over sparse
 * feature vectors (no tensor library: sparse updates make them fast on any machine):
 *
 * - {@link NbSvmTrainer}: one-vs-rest L2-loss linear SVM over features scaled by their naive
 *   Bayes log-count ratio per class (NBSVM, Wang & Manning 2012), solved by dual coordinate
 *   descent (the LIBLINEAR algorithm); one {@link NbSvmTrainer.pass} visits every example once
 *   for every class.
 * - {@link FastTextTrainer}: a fastText-style classifier: a weighted bag of feature embeddings,
 *   a linear softmax layer, SGD with a linearly decaying learning rate and sparse updates.
 *
 * Both are seeded and deterministic.
 *
 * @module
 */
import { mulberry32, shuffleInPlace } from '../util/random.js';
import type { SparseVector } from './text-features.js';

/** Trained NBSVM weights, feature-major: `weights[f * classes + k]`, the bias row last (`f = features`). */
export interface LinearWeights {
  /** Number of features. */
  features: number;
  /** Number of classes. */
  classes: number;
  /** `(features + 1) * classes` weights. */
  weights: Float32Array;
}

/** Adds the linear scores of `x` to `out` (length `classes`), bias included. */
export function linearScores(model: LinearWeights, x: SparseVector, out: Float64Array): void {
  const { features, classes: k, weights } = model;
  const bias = features * k;
  for (let c = 0; c < k; c++) out[c] = weights[bias + c] as number;
  const { indices, values } = x;
  for (let j = 0; j < indices.length; j++) {
    const o = (indices[j] as number) * k;
    const v = values[j] as number;
    for (let c = 0; c < k; c++) out[c] = (out[c] as number) + (weights[o + c] as number) * v;
  }
}

/** Settings of {@link NbSvmTrainer}. */
export interface NbSvmOptions {
  /** SVM cost (default 1). */
  c: number;
  /** Naive Bayes smoothing, in units of feature value (default 0.125). */
  alpha: number;
  /** Per-class multiplier of the cost (class weighting), or `null`. */
  classWeights: Float64Array | null;
  /** Seed of the visiting order. */
  seed: number;
}

/** Trains an NBSVM one dual coordinate descent pass at a time. */
export class NbSvmTrainer {
  private readonly ratio: Float32Array; // class-major: ratio[k * F + f]
  private readonly w: Float64Array; // class-major: w[k * (F + 1) + f], bias at f = F
  private readonly dual: Float64Array; // dual[k * n + i]
  private readonly diag: Float64Array; // diag[k * n + i] = |x_i * r_k|^2 + 1
  private readonly active: Uint8Array; // active[k * n + i]: visited by shrunk passes
  private readonly order: number[];
  private readonly random: () => number;
  private passes = 0;

  /**
   * @param X - Training vectors.
   * @param y - Class index of each vector.
   * @param features - Feature count.
   * @param classes - Class count.
   */
  constructor(
    private readonly X: readonly SparseVector[],
    private readonly y: Int32Array,
    private readonly features: number,
    private readonly classes: number,
    private readonly options: NbSvmOptions,
  ) {
    const F = features;
    const K = classes;
    const n = X.length;
    const perClass = new Float64Array(F * K);
    const total = new Float64Array(F);
    for (let i = 0; i < n; i++) {
      const x = X[i] as SparseVector;
      const k = y[i] as number;
      for (let j = 0; j < x.indices.length; j++) {
        const f = x.indices[j] as number;
        const v = x.values[j] as number;
        perClass[k * F + f] = (perClass[k * F + f] as number) + v;
        total[f] = (total[f] as number) + v;
      }
    }
    const { alpha } = options;
    this.ratio = new Float32Array(F * K);
    for (let k = 0; k < K; k++) {
      let p = 0;
      let q = 0;
      for (let f = 0; f < F; f++) {
        const a = perClass[k * F + f] as number;
        p += alpha + a;
        q += alpha + (total[f] as number) - a;
      }
      for (let f = 0; f < F; f++) {
        const a = perClass[k * F + f] as number;
        this.ratio[k * F + f] = Math.log((alpha + a) / p) - Math.log((alpha + (total[f] as number) - a) / q);
      }
    }
    this.w = new Float64Array((F + 1) * K);
    this.dual = new Float64Array(n * K);
    this.diag = new Float64Array(n * K);
    for (let k = 0; k < K; k++) {
      for (let i = 0; i < n; i++) {
        const x = X[i] as SparseVector;
        let s = 1;
        for (let j = 0; j < x.indices.length; j++) {
          const v = (x.values[j] as number) * (this.ratio[k * F + (x.indices[j] as number)] as number);
          s += v * v;
        }
        this.diag[k * n + i] = s;
      }
    }
    this.active = new Uint8Array(n * K).fill(1);
    this.order = Array.from({ length: n }, (_, i) => i);
    this.random = mulberry32(options.seed);
  }

  /**
   * One pass of dual coordinate descent, for every class. Every third pass (the first included)
   * visits every example; the others skip the examples whose dual variable is 0 and whose margin
   * was already met (shrinking, as LIBLINEAR does), which most of the one-vs-rest negatives are.
   */
  pass(): void {
    const F = this.features;
    const n = this.X.length;
    const { c, classWeights } = this.options;
    const full = this.passes++ % 3 === 0;
    for (let k = 0; k < this.classes; k++) {
      shuffleInPlace(this.order, this.random);
      const wo = k * (F + 1);
      const ro = k * F;
      for (const i of this.order) {
        if (!full && this.active[k * n + i] === 0) continue;
        const x = this.X[i] as SparseVector;
        const label = this.y[i] as number;
        const yi = label === k ? 1 : -1;
        const cost = classWeights ? c * (classWeights[label] as number) : c;
        const d = 1 / (2 * cost);
        const { indices, values } = x;
        let dot = this.w[wo + F] as number;
        for (let j = 0; j < indices.length; j++) {
          const f = indices[j] as number;
          dot += (this.w[wo + f] as number) * (values[j] as number) * (this.ratio[ro + f] as number);
        }
        const a = this.dual[k * n + i] as number;
        const g = yi * dot - 1 + d * a;
        const projected = a === 0 ? Math.min(g, 0) : g;
        this.active[k * n + i] = a === 0 && g > 0 ? 0 : 1;
        if (projected === 0) continue;
        const next = Math.max(a - g / ((this.diag[k * n + i] as number) + d), 0);
        const step = (next - a) * yi;
        if (step === 0) continue;
        this.dual[k * n + i] = next;
        for (let j = 0; j < indices.length; j++) {
          const f = indices[j] as number;
          this.w[wo + f] = (this.w[wo + f] as number) + step * (values[j] as number) * (this.ratio[ro + f] as number);
        }
        this.w[wo + F] = (this.w[wo + F] as number) + step;
      }
    }
  }

  /** Current weights, folded with the ratios into plain linear weights. */
  weights(): LinearWeights {
    const F = this.features;
    const K = this.classes;
    const out = new Float32Array((F + 1) * K);
    for (let k = 0; k < K; k++) {
      const wo = k * (F + 1);
      for (let f = 0; f < F; f++) out[f * K + k] = (this.w[wo + f] as number) * (this.ratio[k * F + f] as number);
      out[F * K + k] = this.w[wo + F] as number;
    }
    return { features: F, classes: K, weights: out };
  }
}

/** A fastText-style model: `scores = output * (sum_j x_j * embeddings[f_j]) + bias`. */
export interface FastTextWeights {
  /** Number of features. */
  features: number;
  /** Number of classes. */
  classes: number;
  /** Embedding size. */
  dim: number;
  /** `features * dim` embeddings, feature-major. */
  embeddings: Float32Array;
  /** `dim * classes` output weights, `output[t * classes + k]`. */
  output: Float32Array;
  /** `classes` output biases. */
  bias: Float32Array;
}

/** Writes the class scores (logits) of `x` to `out`; `hidden` (length `dim`) is scratch space. */
export function fastTextScores(model: FastTextWeights, x: SparseVector, out: Float64Array, hidden: Float64Array): void {
  const { dim: d, classes: K, embeddings: E, output: W, bias } = model;
  hidden.fill(0);
  for (let j = 0; j < x.indices.length; j++) {
    const o = (x.indices[j] as number) * d;
    const v = x.values[j] as number;
    for (let t = 0; t < d; t++) hidden[t] = (hidden[t] as number) + (E[o + t] as number) * v;
  }
  for (let k = 0; k < K; k++) out[k] = bias[k] as number;
  for (let t = 0; t < d; t++) {
    const h = hidden[t] as number;
    const o = t * K;
    for (let k = 0; k < K; k++) out[k] = (out[k] as number) + (W[o + k] as number) * h;
  }
}

/** Settings of {@link FastTextTrainer}. */
export interface FastTextOptions {
  /** Embedding size (default 32). */
  dim: number;
  /** Initial learning rate (default 0.3), decaying linearly to 0 over `epochs`. */
  learningRate: number;
  /** Epochs of the learning-rate schedule. */
  epochs: number;
  /** Per-class loss multiplier (class weighting), or `null`. */
  classWeights: Float64Array | null;
  /** Seed of the initialisation and of the visiting order. */
  seed: number;
}

/** Trains a fastText-style classifier one epoch at a time. */
export class FastTextTrainer {
  private readonly model: FastTextWeights;
  private readonly order: number[];
  private readonly random: () => number;
  private step = 0;

  /**
   * @param X - Training vectors.
   * @param y - Class index of each vector.
   * @param features - Feature count.
   * @param classes - Class count.
   */
  constructor(
    private readonly X: readonly SparseVector[],
    private readonly y: Int32Array,
    features: number,
    classes: number,
    private readonly options: FastTextOptions,
  ) {
    this.random = mulberry32(options.seed);
    const d = options.dim;
    const embeddings = new Float32Array(features * d);
    for (let i = 0; i < embeddings.length; i++) embeddings[i] = (this.random() * 2 - 1) / d;
    this.model = { features, classes, dim: d, embeddings, output: new Float32Array(d * classes), bias: new Float32Array(classes) };
    this.order = Array.from({ length: X.length }, (_, i) => i);
  }

  /** One epoch of SGD. @returns The mean cross-entropy of the epoch's examples (before their update). */
  epoch(): number {
    const { dim: d, classes: K, embeddings: E, output: W, bias } = this.model;
    const { learningRate, epochs, classWeights } = this.options;
    const total = Math.max(1, epochs * this.X.length);
    const hidden = new Float64Array(d);
    const gradHidden = new Float64Array(d);
    const p = new Float64Array(K);
    let loss = 0;
    shuffleInPlace(this.order, this.random);
    for (const i of this.order) {
      const lr = learningRate * Math.max(0, 1 - this.step++ / total);
      const x = this.X[i] as SparseVector;
      const label = this.y[i] as number;
      fastTextScores(this.model, x, p, hidden);
      let max = -Infinity;
      for (let k = 0; k < K; k++) if ((p[k] as number) > max) max = p[k] as number;
      let z = 0;
      for (let k = 0; k < K; k++) {
        const e = Math.exp((p[k] as number) - max);
        p[k] = e;
        z += e;
      }
      loss -= Math.log(Math.max((p[label] as number) / z, 1e-12));
      const weight = classWeights ? (classWeights[label] as number) : 1;
      for (let k = 0; k < K; k++) p[k] = weight * ((p[k] as number) / z - (k === label ? 1 : 0));
      for (let t = 0; t < d; t++) {
        const h = hidden[t] as number;
        const o = t * K;
        let g = 0;
        for (let k = 0; k < K; k++) {
          g += (W[o + k] as number) * (p[k] as number);
          W[o + k] = (W[o + k] as number) - lr * (p[k] as number) * h;
        }
        gradHidden[t] = g;
      }
      for (let k = 0; k < K; k++) bias[k] = (bias[k] as number) - lr * (p[k] as number);
      const { indices, values } = x;
      for (let j = 0; j < indices.length; j++) {
        const o = (indices[j] as number) * d;
        const v = (values[j] as number) * lr;
        for (let t = 0; t < d; t++) E[o + t] = (E[o + t] as number) - v * (gradHidden[t] as number);
      }
    }
    return this.X.length ? loss / this.X.length : 0;
  }

  /** The live weights (changed by the next {@link FastTextTrainer.epoch}). */
  current(): FastTextWeights {
    return this.model;
  }

  /** A copy of the current weights. */
  snapshot(): FastTextWeights {
    const m = this.model;
    return { ...m, embeddings: m.embeddings.slice(), output: m.output.slice(), bias: m.bias.slice() };
  }
}
