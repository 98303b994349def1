/**
 * Pretrained image features: the first blocks of the MobileNetV2 shipped inside the npm package
 * `nsfwjs` (MIT). Its blocks 0–10 keep the original ImageNet weights (the later blocks were
 * fine-tuned for another task and are cut off). The weights are read from `node_modules`:
 * nothing is downloaded at run time.
 *
 * A picture is resized to `size` x `size` (default 128), scaled to [-1, 1], and the outputs of
 * three layers are averaged over space: `block_10_expand_relu` (384), `block_10_project_BN` (96)
 * and `block_6_expand_relu` (192), 672 values in all. About 57 images/s on the `wasm` backend
 * (14 ms for one image).
 *
 * @module
 */
import { tf } from './backend.js';

/** Layers whose spatial means make the feature vector, in order. */
export const MOBILENET_LAYERS: readonly string[] = ['block_10_expand_relu', 'block_10_project_BN', 'block_6_expand_relu'];

/** Length of a MobileNet feature vector. */
export const MOBILENET_FEATURE_SIZE = 384 + 96 + 192;

/** Default input side of the network. */
export const DEFAULT_MOBILENET_SIZE = 128;

/** Pictures per forward pass. */
const BATCH = 16;

interface KerasTopology {
  model_config: { config: { layers: { name: string; config: { batch_input_shape?: (number | null)[] } }[]; output_layers: unknown } };
}

interface NsfwModelModule {
  MobileNetV2Model: { modelJson: () => Promise<unknown>; weightBundles: (() => Promise<unknown>)[] };
}

function defaultExport(module: unknown): unknown {
  return typeof module === 'object' && module !== null && 'default' in module ? (module as { default: unknown }).default : module;
}

const cache = new Map<number, Promise<MobileNetFeatures>>();

/** A MobileNetV2 feature extractor (one per input size, shared by every model in the process). */
export class MobileNetFeatures {
  private constructor(
    private readonly model: tf.LayersModel,
    /** Input side of the network. */
    readonly size: number,
  ) {}

  /**
   * Loads the network truncated after block 10, for pictures resized to `size` pixels.
   * The backend must be initialised first.
   *
   * @throws When the package `nsfwjs` cannot be loaded.
   */
  static load(size = DEFAULT_MOBILENET_SIZE): Promise<MobileNetFeatures> {
    let loading = cache.get(size);
    if (!loading) {
      loading = MobileNetFeatures.build(size);
      cache.set(size, loading);
      loading.catch(() => cache.delete(size));
    }
    return loading;
  }

  private static async build(size: number): Promise<MobileNetFeatures> {
    const nsfw = (await import('nsfwjs/models/mobilenet_v2')) as unknown as NsfwModelModule;
    const json = defaultExport(await nsfw.MobileNetV2Model.modelJson()) as { modelTopology: KerasTopology; weightsManifest: { weights: tf.io.WeightsManifestEntry[] }[] };
    const shards = await Promise.all(nsfw.MobileNetV2Model.weightBundles.map(async (bundle) => Buffer.from(defaultExport(await bundle()) as string, 'base64')));
    const weights = Buffer.concat(shards);
    const topology = JSON.parse(JSON.stringify(json.modelTopology)) as KerasTopology;
    const config = topology.model_config.config;
    const first = config.layers[0];
    if (!first) throw new Error('MobileNetV2: empty topology');
    first.config.batch_input_shape = [null, size, size, 3];
    const last = Math.max(...MOBILENET_LAYERS.map((name) => config.layers.findIndex((layer) => layer.name === name)));
    config.layers = config.layers.slice(0, last + 1);
    config.output_layers = MOBILENET_LAYERS.map((name) => [name, 0, 0]);
    const model = await tf.loadLayersModel(
      tf.io.fromMemory({
        modelTopology: topology,
        weightSpecs: json.weightsManifest.flatMap((group) => group.weights),
        weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength),
      }),
      { strict: false },
    );
    return new MobileNetFeatures(model, size);
  }

  /** Feature vectors of square RGB pictures (any side; resized to {@link MobileNetFeatures.size}). */
  compute(images: readonly { readonly pixels: Uint8Array; readonly size: number }[]): Float32Array[] {
    const out: Float32Array[] = [];
    for (let start = 0; start < images.length; start += BATCH) {
      const batch = images.slice(start, start + BATCH);
      const features = tf.tidy(() => {
        const pictures = batch.map((image) => {
          const picture = tf.tensor3d(image.pixels, [image.size, image.size, 3], 'int32').toFloat();
          return image.size === this.size ? picture : tf.image.resizeBilinear(picture, [this.size, this.size]);
        });
        const x = tf.stack(pictures).div(127.5).sub(1);
        const outputs = this.model.predict(x) as tf.Tensor[];
        return tf.concat(
          outputs.map((o) => o.mean([1, 2])),
          1,
        );
      });
      const data = features.dataSync() as Float32Array;
      features.dispose();
      for (let r = 0; r < batch.length; r++) out.push(data.slice(r * MOBILENET_FEATURE_SIZE, (r + 1) * MOBILENET_FEATURE_SIZE));
    }
    return out;
  }
}
