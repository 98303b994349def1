/**
 * Pretrained image features: the first blocks of the MobileNetV2 of the npm package `nsfwjs`
 * (MIT). Its blocks 0–10 keep the original ImageNet weights (the later blocks were fine-tuned for
 * another task and are cut off). This package ships that model in `weights/mobilenet_v2/`
 * (extracted from nsfwjs at build time by `scripts/extract-weights.mjs`, its licence in
 * `weights/NOTICE.md`) and reads it from there: nothing is downloaded at run time.
 *
 * A picture is resized to `size` x `size` (default 128), scaled to [-1, 1], and the outputs of
 * three layers are averaged over space: `block_10_expand_relu` (384), `block_10_project_BN` (96)
 * and `block_6_expand_relu` (192), 672 values in all.
 *
 * The Keras graph is not run as it is: at load time every convolution absorbs the batch
 * normalisation after it (weights and bias folded) and the ReLU6 after that, so a forward pass
 * is 33 fused convolution kernels and 6 additions instead of about 150 kernels. Same outputs up
 * to float rounding; about 2.5x faster on the `wasm` backend (one 128 px picture: 6 ms instead of
 * 15 ms).
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tf } from './backend.js';
import { DEFAULT_MOBILENET_SIZE } from './image-extractors.js';

/** Layers whose spatial means make the feature vector, in order. */
export const MOBILENET_LAYERS: readonly string[] = ['block_10_expand_relu', 'block_10_project_BN', 'block_6_expand_relu'];

/** Length of a MobileNet feature vector. */
export const MOBILENET_FEATURE_SIZE = 384 + 96 + 192;

/** Default input side of the network (defined with the extractors, which load without TensorFlow.js). */
export { DEFAULT_MOBILENET_SIZE };

/** Pictures per forward pass. */
const BATCH = 16;

interface KerasTopology {
  model_config: { config: { layers: { name: string; config: { batch_input_shape?: (number | null)[] } }[]; output_layers: unknown } };
}

/** The shipped model's `model.json` (TensorFlow.js layers-model format). */
interface ModelJson {
  modelTopology: KerasTopology;
  weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
}

/** Folder of the shipped model, relative to the package root. */
const MODEL_DIR = path.join('weights', 'mobilenet_v2');

/**
 * Folder holding the shipped MobileNetV2 (`model.json`, its weight shard, `SHA256SUMS`): the
 * `weights/mobilenet_v2` folder of this package, found from this module's own location (in
 * `dist/` once built, in `src/models/` in the sources).
 *
 * @throws When the package has no such folder (a build that skipped `scripts/extract-weights.mjs`).
 */
export function mobileNetDirectory(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  // The package root is the first folder up with a package.json; the weights sit in it.
  for (let dir = here; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) {
      const candidate = path.join(dir, MODEL_DIR);
      if (existsSync(path.join(candidate, 'model.json'))) return candidate;
      throw new Error(`MobileNetV2: no ${MODEL_DIR}/model.json in ${dir} (a build runs scripts/extract-weights.mjs to write it)`);
    }
    if (path.dirname(dir) === dir) throw new Error(`MobileNetV2: no package folder above ${here}`);
  }
}

/** Reads the shipped model, checking its weight bytes against `SHA256SUMS`. */
async function readShippedModel(): Promise<{ json: ModelJson; weights: Buffer }> {
  const dir = mobileNetDirectory();
  const json = JSON.parse(await readFile(path.join(dir, 'model.json'), 'utf8')) as ModelJson;
  const sums = new Map(
    (await readFile(path.join(dir, 'SHA256SUMS'), 'utf8'))
      .split('\n')
      .filter(Boolean)
      .map((line) => [line.slice(66), line.slice(0, 64)] as const),
  );
  const shards = await Promise.all(
    json.weightsManifest.flatMap((group) => group.paths).map(async (file) => {
      const bytes = await readFile(path.join(dir, file));
      const sha = createHash('sha256').update(bytes).digest('hex');
      if (sums.get(file) !== sha) throw new Error(`MobileNetV2: ${path.join(dir, file)} does not match its SHA-256 in SHA256SUMS (damaged install?)`);
      return bytes;
    }),
  );
  return { json, weights: Buffer.concat(shards) };
}

/** Zero padding of the two spatial dimensions: `[[top, bottom], [left, right]]`. */
export type Padding2 = [[number, number], [number, number]];

/**
 * One convolution of the folded network (batch normalisation and activation absorbed), its
 * weights as plain arrays so that other runtimes (ONNX) can be built from the same steps.
 */
export interface FoldedConvolution {
  /** `conv` (full) or `depthwise` (one filter per channel, multiplier 1 here). */
  op: 'conv' | 'depthwise';
  /** Name of the value it reads (`input_1` for the picture). */
  input: string;
  /** Name of the last Keras layer it stands for. */
  output: string;
  /** TensorFlow layout: `[kernelH, kernelW, inChannels, outChannels]` (depthwise: `[kH, kW, channels, multiplier]`). */
  filterShape: [number, number, number, number];
  /** Folded filter weights, row-major in {@link FoldedConvolution.filterShape}. */
  filter: Float32Array;
  /** Folded bias, one per output channel. */
  bias: Float32Array;
  /** Strides `[rows, columns]`. */
  strides: [number, number];
  /** Kernel size `[rows, columns]`. */
  kernel: [number, number];
  /** Keras padding mode of the convolution itself. */
  padding: 'same' | 'valid';
  /** Zero padding of a `ZeroPadding2D` layer folded in front of the convolution. */
  prePad: Padding2 | null;
  /** Activation folded after the batch normalisation (`relu6`: clipped to [0, 6]). */
  activation: 'linear' | 'relu' | 'relu6';
}

/** One step of the folded network: a fused convolution or the sum of earlier values. */
export type FoldedStep = FoldedConvolution | { op: 'add'; inputs: string[]; output: string };

/** A {@link FoldedConvolution} with its weights as tensors, as {@link MobileNetFeatures} runs it. */
type Step =
  | (Omit<FoldedConvolution, 'filter' | 'bias'> & { filter: tf.Tensor4D; bias: tf.Tensor1D })
  | Extract<FoldedStep, { op: 'add' }>;

interface LayerConfig {
  padding?: unknown;
  strides?: [number, number];
  kernelSize?: [number, number];
  activation?: string;
  epsilon?: number;
  maxValue?: number | null;
  center?: boolean;
  scale?: boolean;
}

function inboundNames(layer: tf.layers.Layer): string[] {
  return layer.inboundNodes[0]?.inboundLayers.map((l) => l.name) ?? [];
}

/**
 * Folds the Keras layers into {@link FoldedStep}s. Only the layer types of this MobileNetV2 are
 * supported; anything else throws (the topology comes from a pinned dependency).
 */
function foldLayers(model: tf.LayersModel, outputs: ReadonlySet<string>): FoldedStep[] {
  const layers = model.layers;
  const consumers = new Map<string, string[]>();
  for (const layer of layers) for (const from of inboundNames(layer)) consumers.set(from, [...(consumers.get(from) ?? []), layer.name]);
  const byName = new Map(layers.map((l) => [l.name, l]));
  /** The single consumer of `name`, when it may be fused into it (not an output, one consumer). */
  const soleConsumer = (name: string): tf.layers.Layer | null => {
    const next = consumers.get(name);
    if (outputs.has(name) || next?.length !== 1) return null;
    return byName.get(next[0] as string) ?? null;
  };
  const steps: FoldedStep[] = [];
  const done = new Set<string>();
  for (const layer of layers) {
    if (done.has(layer.name)) continue;
    const type = layer.getClassName();
    const config = layer.getConfig() as LayerConfig;
    const input = inboundNames(layer)[0] ?? '';
    if (type === 'InputLayer') continue;
    if (type === 'Add') {
      steps.push({ op: 'add', inputs: inboundNames(layer), output: layer.name });
      continue;
    }
    let prePad: Padding2 | null = null;
    let conv = layer;
    if (type === 'ZeroPadding2D') {
      const next = soleConsumer(layer.name);
      if (!next || (next.getClassName() !== 'Conv2D' && next.getClassName() !== 'DepthwiseConv2D')) throw new Error(`MobileNetV2: unsupported use of ${layer.name}`);
      prePad = config.padding as Padding2;
      conv = next;
    } else if (type !== 'Conv2D' && type !== 'DepthwiseConv2D') {
      throw new Error(`MobileNetV2: unsupported layer ${layer.name} (${type})`);
    }
    const convConfig = conv.getConfig() as LayerConfig;
    if ((convConfig.activation ?? 'linear') !== 'linear') throw new Error(`MobileNetV2: unsupported activation in ${conv.name}`);
    const depthwise = conv.getClassName() === 'DepthwiseConv2D';
    const [kernel, convBias] = conv.getWeights() as [tf.Tensor4D, tf.Tensor1D | undefined];
    let filter = kernel.clone();
    const channels = depthwise ? kernel.shape[2] * kernel.shape[3] : kernel.shape[3];
    let bias: tf.Tensor1D = convBias ? convBias.clone() : tf.zeros([channels]);
    let output = conv.name;
    let activation: 'linear' | 'relu' | 'relu6' = 'linear';
    done.add(conv.name);
    const bn = soleConsumer(output);
    if (bn?.getClassName() === 'BatchNormalization') {
      const c = bn.getConfig() as LayerConfig;
      const weights = new Map(bn.weights.map((w, i) => [w.originalName.split('/').pop() ?? '', bn.getWeights()[i] as tf.Tensor1D]));
      const mean = weights.get('moving_mean');
      const variance = weights.get('moving_variance');
      if (!mean || !variance) throw new Error(`MobileNetV2: missing statistics in ${bn.name}`);
      // y = gamma * (conv(x) + b - mean) / sqrt(var + eps) + beta = conv(x; W * s) + (b - mean) * s + beta
      const [folded, foldedBias] = tf.tidy(() => {
        const gamma = c.scale === false ? tf.onesLike(mean) : (weights.get('gamma') as tf.Tensor1D);
        const beta = c.center === false ? tf.zerosLike(mean) : (weights.get('beta') as tf.Tensor1D);
        // Functional ops, not chained ones (`a.div(b)`): tfjs-core alone does not register those.
        const s = tf.div(gamma, tf.sqrt(tf.add(variance, c.epsilon ?? 1e-3)));
        const scale = depthwise ? tf.reshape(s, [1, 1, kernel.shape[2], kernel.shape[3]]) : s;
        return [tf.mul(filter, scale) as tf.Tensor4D, tf.add(tf.mul(tf.sub(bias, mean), s), beta) as tf.Tensor1D];
      });
      filter.dispose();
      bias.dispose();
      filter = folded;
      bias = foldedBias;
      output = bn.name;
      done.add(bn.name);
      const relu = soleConsumer(output);
      const rc = relu?.getConfig() as LayerConfig | undefined;
      if (relu?.getClassName() === 'ReLU' && rc && (rc.maxValue === 6 || rc.maxValue == null)) {
        activation = rc.maxValue === 6 ? 'relu6' : 'relu';
        output = relu.name;
        done.add(relu.name);
      }
    }
    steps.push({
      op: depthwise ? 'depthwise' : 'conv',
      input,
      output,
      filterShape: [...filter.shape],
      filter: filter.dataSync() as Float32Array,
      bias: bias.dataSync() as Float32Array,
      strides: convConfig.strides ?? [1, 1],
      kernel: convConfig.kernelSize ?? [kernel.shape[0], kernel.shape[1]],
      padding: convConfig.padding === 'same' ? 'same' : 'valid',
      prePad,
      activation,
    });
    filter.dispose();
    bias.dispose();
  }
  return steps;
}

/**
 * TensorFlow's `same` padding of one dimension (the smaller half first).
 *
 * @internal Shared with the ONNX export of the folded network.
 */
export function samePadding(size: number, kernel: number, stride: number): [number, number] {
  const total = Math.max((Math.ceil(size / stride) - 1) * stride + kernel - size, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

function runStep(step: Extract<Step, { op: 'conv' | 'depthwise' }>, x: tf.Tensor4D): tf.Tensor4D {
  let input = x;
  let pad: 'same' | 'valid' = step.padding;
  if (step.prePad) {
    const [h, w] = [x.shape[1], x.shape[2]];
    const [ph, pw] = step.prePad;
    const [sh, sw] = [samePadding(h, step.kernel[0], step.strides[0]), samePadding(w, step.kernel[1], step.strides[1])];
    // A ZeroPadding2D + `valid` pair is often exactly TensorFlow's `same`: no padded copy then.
    if (step.padding === 'valid' && ph[0] === sh[0] && ph[1] === sh[1] && pw[0] === sw[0] && pw[1] === sw[1]) pad = 'same';
    else input = tf.pad(x, [[0, 0], ph, pw, [0, 0]]);
  }
  const args = { x: input, filter: step.filter, strides: step.strides, pad, bias: step.bias, activation: step.activation };
  return step.op === 'conv' ? tf.fused.conv2d(args) : tf.fused.depthwiseConv2d(args);
}

/**
 * The shipped Keras MobileNetV2 truncated after the {@link MOBILENET_LAYERS}, whose outputs it
 * returns, for `size` x `size` inputs scaled to [-1, 1].
 *
 * @internal Reference for the folded network (tests); {@link MobileNetFeatures} does not run it.
 */
export async function loadKerasMobileNet(size: number): Promise<tf.LayersModel> {
  const { json, weights } = await readShippedModel();
  const topology = JSON.parse(JSON.stringify(json.modelTopology)) as KerasTopology;
  const config = topology.model_config.config;
  const first = config.layers[0];
  if (!first) throw new Error('MobileNetV2: empty topology');
  first.config.batch_input_shape = [null, size, size, 3];
  const last = Math.max(...MOBILENET_LAYERS.map((name) => config.layers.findIndex((layer) => layer.name === name)));
  config.layers = config.layers.slice(0, last + 1);
  config.output_layers = MOBILENET_LAYERS.map((name) => [name, 0, 0]);
  return tf.loadLayersModel(
    tf.io.fromMemory({
      modelTopology: topology,
      weightSpecs: json.weightsManifest.flatMap((group) => group.weights),
      weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength),
    }),
    { strict: false },
  );
}

/**
 * The shipped MobileNetV2 truncated after the {@link MOBILENET_LAYERS}, folded into fused
 * convolutions with plain weights (independent of the input size). A TensorFlow.js backend must
 * be ready (any: the folding is a few element-wise products).
 *
 * @throws When the shipped weights are missing or damaged (see {@link mobileNetDirectory}).
 */
export async function loadFoldedMobileNet(): Promise<FoldedStep[]> {
  const model = await loadKerasMobileNet(DEFAULT_MOBILENET_SIZE);
  try {
    return foldLayers(model, new Set(MOBILENET_LAYERS));
  } finally {
    model.dispose();
  }
}

const cache = new Map<number, Promise<MobileNetFeatures>>();

/** A MobileNetV2 feature extractor (one per input size, shared by every model in the process). */
export class MobileNetFeatures {
  private constructor(
    private readonly steps: readonly Step[],
    /** Input side of the network. */
    readonly size: number,
  ) {}

  /**
   * Loads the network truncated after block 10, for pictures resized to `size` pixels.
   * The backend must be initialised first.
   *
   * @throws When the shipped weights are missing or damaged (see {@link mobileNetDirectory}).
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
    const steps = (await loadFoldedMobileNet()).map((step): Step =>
      step.op === 'add' ? step : { ...step, filter: tf.tensor4d(step.filter, step.filterShape), bias: tf.tensor1d(step.bias) },
    );
    const network = new MobileNetFeatures(steps, size);
    // Warm up: the first passes allocate wasm memory and JIT the glue (about 100 ms, then 30 ms),
    // which would otherwise land on the first online request.
    const blank = { pixels: new Uint8Array(size * size * 3), size };
    for (let i = 0; i < 2; i++) network.compute([blank]);
    return network;
  }

  /** The three feature maps of a batch of pictures `[n, size, size, 3]` scaled to [-1, 1] (call inside `tf.tidy`). */
  private forward(x: tf.Tensor4D): tf.Tensor4D[] {
    const values = new Map<string, tf.Tensor4D>([['input_1', x]]);
    let last = x;
    for (const step of this.steps) {
      if (step.op === 'add') {
        last = tf.addN(step.inputs.map((name) => values.get(name) as tf.Tensor4D));
      } else {
        const input = values.get(step.input);
        if (!input) throw new Error(`MobileNetV2: no value for ${step.input}`);
        last = runStep(step, input);
      }
      values.set(step.output, last);
    }
    return MOBILENET_LAYERS.map((name) => values.get(name) as tf.Tensor4D);
  }

  /** Feature vectors of square RGB pictures (any side; resized to {@link MobileNetFeatures.size}). */
  compute(images: readonly { readonly pixels: Uint8Array; readonly size: number }[]): Float32Array[] {
    const out: Float32Array[] = [];
    for (let start = 0; start < images.length; start += BATCH) {
      const batch = images.slice(start, start + BATCH);
      const features = tf.tidy(() => {
        // Scaled to [-1, 1] in JS (one pass, no cast/div/sub kernels); resizing commutes with it.
        const pictures = batch.map((image) => {
          const scaled = new Float32Array(image.pixels.length);
          for (let i = 0; i < scaled.length; i++) scaled[i] = (image.pixels[i] as number) / 127.5 - 1;
          const picture = tf.tensor3d(scaled, [image.size, image.size, 3]);
          return image.size === this.size ? picture : tf.image.resizeBilinear(picture, [this.size, this.size]);
        });
        const x = (pictures.length === 1 ? tf.expandDims(pictures[0] as tf.Tensor3D, 0) : tf.stack(pictures)) as tf.Tensor4D;
        return tf.concat(
          this.forward(x).map((o) => tf.mean(o, [1, 2])),
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
