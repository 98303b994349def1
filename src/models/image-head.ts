/**
 * Image branch of the built-in model: a small TensorFlow.js classifier (Dense layers only, so it
 * trains on the `wasm` backend) over standardised fixed image features (`imageFeatures`).
 *
 * @module
 */
import { ownArrayBuffer } from '../util/bytes.js';
import { mulberry32, shuffleInPlace } from '../util/random.js';
import { tf } from './backend.js';
import type { JsonValue } from '../stores/types.js';

/** Settings of {@link ImageHead.train}. */
export interface ImageHeadOptions {
  /** Hidden units (0: a linear softmax). */
  hidden: number;
  /** L2 penalty of the kernels. */
  l2: number;
  /** Epochs. */
  epochs: number;
  /** Mini-batch size. */
  batchSize: number;
  /** Adam learning rate. */
  learningRate: number;
  /** Per-class loss multiplier (class weighting), or `null`. */
  classWeights: Float64Array | null;
  /** Seed of the initialisation and of the example order. */
  seed: number;
}

/** A saved {@link ImageHead}. */
export interface ImageHeadState {
  /** Keras-style topology (from `tf.io.withSaveHandler`). */
  topology: JsonValue;
  /** Weight manifest entries. */
  weightSpecs: JsonValue;
  /** Concatenated weights. */
  weights: Uint8Array;
  /** Feature means used for standardisation. */
  mean: Float32Array;
  /** Feature standard deviations used for standardisation. */
  std: Float32Array;
}

/** A trained image classifier over fixed feature vectors. */
export class ImageHead {
  private constructor(
    private readonly model: tf.LayersModel,
    private readonly mean: Float32Array,
    private readonly std: Float32Array,
  ) {}

  /**
   * Trains a head on feature vectors (all of the same length).
   *
   * @param labels - Class index of each vector, in `[0, classes)`.
   */
  static async train(features: readonly Float32Array[], labels: readonly number[], classes: number, options: ImageHeadOptions): Promise<ImageHead> {
    const size = features[0]?.length ?? 0;
    const n = features.length;
    const mean = new Float32Array(size);
    const std = new Float32Array(size);
    for (const f of features) for (let j = 0; j < size; j++) mean[j] = (mean[j] as number) + (f[j] as number) / n;
    for (const f of features) for (let j = 0; j < size; j++) std[j] = (std[j] as number) + ((f[j] as number) - (mean[j] as number)) ** 2 / n;
    for (let j = 0; j < size; j++) std[j] = Math.sqrt(std[j] as number) + 1e-6;

    const seed = options.seed >>> 0;
    const regularizer = options.l2 > 0 ? tf.regularizers.l2({ l2: options.l2 }) : undefined;
    const layers: tf.layers.Layer[] = [];
    if (options.hidden > 0) {
      layers.push(
        tf.layers.dense({
          inputShape: [size],
          units: options.hidden,
          activation: 'relu',
          kernelInitializer: tf.initializers.glorotUniform({ seed }),
          kernelRegularizer: regularizer,
        }),
      );
    }
    layers.push(
      tf.layers.dense({
        ...(options.hidden > 0 ? {} : { inputShape: [size] }),
        units: classes,
        activation: 'softmax',
        kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 1 }),
        kernelRegularizer: regularizer,
      }),
    );
    const model = tf.sequential({ layers });
    model.compile({ optimizer: tf.train.adam(options.learningRate), loss: 'categoricalCrossentropy' });
    const head = new ImageHead(model, mean, std);

    const order = shuffleInPlace(
      Array.from({ length: n }, (_, i) => i),
      mulberry32(seed ^ 0x5bd1e995),
    );
    const x = head.standardise(order.map((i) => features[i] as Float32Array));
    const y = tf.tidy(() => tf.oneHot(tf.tensor1d(order.map((i) => labels[i] as number), 'int32'), classes));
    try {
      const classWeight: Record<number, number> | undefined = options.classWeights
        ? Object.fromEntries(Array.from(options.classWeights, (w, k) => [k, w]))
        : undefined;
      await model.fit(x, y, { epochs: options.epochs, batchSize: options.batchSize, shuffle: false, verbose: 0, classWeight });
    } finally {
      x.dispose();
      y.dispose();
      // The optimizer (and its moment estimates) is only needed for training.
      model.optimizer.dispose();
    }
    return head;
  }

  /** Rebuilds a head from {@link ImageHead.save}. */
  static async load(state: ImageHeadState): Promise<ImageHead> {
    const weightData = ownArrayBuffer(state.weights);
    const model = await tf.loadLayersModel(
      tf.io.fromMemory({
        modelTopology: state.topology as object,
        weightSpecs: state.weightSpecs as unknown as tf.io.WeightsManifestEntry[],
        weightData,
      }),
    );
    return new ImageHead(model, state.mean.slice(), state.std.slice());
  }

  private standardise(rows: readonly Float32Array[]): tf.Tensor2D {
    const size = this.mean.length;
    const data = new Float32Array(rows.length * size);
    rows.forEach((row, r) => {
      for (let j = 0; j < size; j++) data[r * size + j] = ((row[j] as number) - (this.mean[j] as number)) / (this.std[j] as number);
    });
    return tf.tensor2d(data, [rows.length, size]);
  }

  /** Class probabilities of each feature vector. */
  predict(features: readonly Float32Array[]): Float32Array[] {
    if (features.length === 0) return [];
    const probabilities = tf.tidy(() => {
      const x = this.standardise(features);
      return this.model.predict(x) as tf.Tensor2D;
    });
    const data = probabilities.dataSync() as Float32Array;
    const k = probabilities.shape[1];
    probabilities.dispose();
    return features.map((_, r) => data.slice(r * k, (r + 1) * k));
  }

  /** Serialises the head. */
  async save(): Promise<ImageHeadState> {
    let saved: tf.io.ModelArtifacts | null = null;
    await this.model.save(
      tf.io.withSaveHandler(async (artifacts) => {
        saved = artifacts;
        return { modelArtifactsInfo: { dateSaved: new Date(0), modelTopologyType: 'JSON' } };
      }),
    );
    const artifacts = saved as tf.io.ModelArtifacts | null;
    if (!artifacts?.weightData || !artifacts.weightSpecs) throw new Error('image head: nothing saved');
    const data = artifacts.weightData;
    const buffer = Array.isArray(data) ? tf.io.concatenateArrayBuffers(data) : data;
    return {
      topology: JSON.parse(JSON.stringify(artifacts.modelTopology)) as JsonValue,
      weightSpecs: JSON.parse(JSON.stringify(artifacts.weightSpecs)) as JsonValue,
      weights: new Uint8Array(buffer.slice(0)),
      mean: this.mean.slice(),
      std: this.std.slice(),
    };
  }

  /** Releases the model's tensors. */
  dispose(): void {
    this.model.dispose();
  }
}
