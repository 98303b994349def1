/**
 * The MobileNetV2 image features of {@link MobileNetFeatures} on ONNX Runtime
 * (`onnxruntime-node`, an optional peer dependency): the same folded steps written as an ONNX
 * graph in memory at load time, run on native kernels over every core.
 *
 * The graph's input `pixels` is NHWC float32 `[n, side, side, 3]`: the RGB bytes of the pictures
 * as they are stored (0–255, any side, 64 px in practice), converted to float and nothing else.
 * The graph scales them to [-1, 1], resizes them to `size` as `tf.image.resizeBilinear` does
 * (Resize `linear`, `asymmetric` coordinates: source = destination x side / size, no half-pixel
 * shift, edge pixels repeated), runs the 33 fused convolutions (TensorFlow's `same` padding as
 * explicit pads, ReLU6 as Clip 0..6) and the additions, and returns the spatial means of the
 * three {@link MOBILENET_LAYERS} concatenated: output `features`, `[n, 672]`.
 *
 * @module
 */
import os from 'node:os';
import { encodeOnnxModel, OnnxType, type OnnxInitializer, type OnnxNode } from './onnx-proto.js';
import { tf, type initBackend } from './backend.js';
import {
  DEFAULT_MOBILENET_SIZE,
  loadFoldedMobileNet,
  MOBILENET_FEATURE_SIZE,
  MOBILENET_LAYERS,
  samePadding,
  type FoldedConvolution,
  type FoldedStep,
  type MobileNetFeatures,
} from './mobilenet-features.js';

/** Name of the graph input (NHWC float32 pixel values 0–255). */
export const ONNX_INPUT = 'pixels';
/** Name of the graph output (`[n, 672]` float32). */
export const ONNX_OUTPUT = 'features';

/** Operator set of the graph: 18 is the first whose Resize takes `axes` (the spatial sizes only). */
const OPSET = 18;
/** IR version of opset 18. */
const IR_VERSION = 8;
/**
 * Pictures per inference run. Measured at 512 pictures, 128 px, 1 thread: 1.4 ms CPU per picture
 * at 8, 1.5 at 1 and 32, 3.7 at 128 (the maps outgrow the caches), RSS 290 MiB at 8, 880 at 128.
 */
const BATCH = 8;

/** The parts of `onnxruntime-node` this module uses (the package is optional: no type import). */
export interface OrtModule {
  InferenceSession: {
    create(
      model: Uint8Array,
      options?: {
        intraOpNumThreads?: number;
        interOpNumThreads?: number;
        executionMode?: 'sequential' | 'parallel';
        graphOptimizationLevel?: 'disabled' | 'basic' | 'extended' | 'all';
        /** Session configuration entries, nested by the dots of their keys. */
        extra?: Record<string, unknown>;
      },
    ): Promise<OrtSession>;
  };
  Tensor: new (type: 'float32', data: Float32Array, dims: readonly number[]) => unknown;
}

/** An ONNX Runtime inference session, as {@link OrtModule} creates it. */
export interface OrtSession {
  run(feeds: Record<string, unknown>): Promise<Record<string, { readonly data: unknown; readonly dims: readonly number[] } | undefined>>;
  release(): Promise<void>;
}

/** ONNX weights `[out, in / group, kH, kW]` of a TensorFlow filter `[kH, kW, in, out]` (depthwise `[kH, kW, C, m]`). */
function onnxFilter(step: FoldedConvolution): { dims: number[]; data: Float32Array } {
  const [kh, kw, c, m] = step.filterShape;
  const data = new Float32Array(step.filter.length);
  // Output channel o, input channel i (depthwise: o = i * m + j, one input channel per group).
  for (let y = 0; y < kh; y++)
    for (let x = 0; x < kw; x++)
      for (let i = 0; i < c; i++)
        for (let j = 0; j < m; j++) {
          const from = ((y * kw + x) * c + i) * m + j;
          const to = step.op === 'depthwise' ? ((i * m + j) * kh + y) * kw + x : ((j * c + i) * kh + y) * kw + x;
          data[to] = step.filter[from] as number;
        }
  return { dims: step.op === 'depthwise' ? [c * m, 1, kh, kw] : [m, c, kh, kw], data };
}

/**
 * Writes the folded MobileNetV2 as an ONNX model (see the module comment for its input and output).
 *
 * @param steps - The folded network ({@link loadFoldedMobileNet}).
 * @param size - Side the pictures are resized to before the network.
 * @returns The bytes of the `.onnx` model.
 */
export function buildMobileNetOnnx(steps: readonly FoldedStep[], size: number): Uint8Array {
  const nodes: OnnxNode[] = [];
  const initializers: OnnxInitializer[] = [
    { name: 'scale', dims: [], data: Float32Array.of(127.5) },
    { name: 'one', dims: [], data: Float32Array.of(1) },
    { name: 'zero', dims: [], data: Float32Array.of(0) },
    { name: 'six', dims: [], data: Float32Array.of(6) },
    { name: 'size', dims: [2], data: BigInt64Array.of(BigInt(size), BigInt(size)) },
  ];
  nodes.push(
    { op: 'Transpose', inputs: [ONNX_INPUT], outputs: ['nchw'], attributes: { perm: [0, 3, 1, 2] } },
    // The same order as MobileNetFeatures (scale, then resize): the float rounding matches too.
    { op: 'Div', inputs: ['nchw', 'scale'], outputs: ['halved'] },
    { op: 'Sub', inputs: ['halved', 'one'], outputs: ['scaled'] },
    { op: 'Resize', inputs: ['scaled', '', '', 'size'], outputs: ['input_1'], attributes: { mode: 'linear', coordinate_transformation_mode: 'asymmetric', axes: [2, 3] } },
  );
  // Spatial side of every value: the explicit pads of TensorFlow's `same` depend on it.
  const sides = new Map<string, number>([['input_1', size]]);
  for (const step of steps) {
    if (step.op === 'add') {
      nodes.push({ op: step.inputs.length === 2 ? 'Add' : 'Sum', inputs: step.inputs, outputs: [step.output] });
      sides.set(step.output, sides.get(step.inputs[0] as string) ?? 0);
      continue;
    }
    const side = sides.get(step.input);
    if (side === undefined) throw new Error(`MobileNetV2 ONNX: no value for ${step.input}`);
    const [[top, bottom], [left, right]] = step.prePad ?? [
      [0, 0],
      [0, 0],
    ];
    const paddedSide = side + top + bottom; // square maps: rows and columns alike
    const [sh0, sh1] = step.padding === 'same' ? samePadding(paddedSide, step.kernel[0], step.strides[0]) : [0, 0];
    const [sw0, sw1] = step.padding === 'same' ? samePadding(side + left + right, step.kernel[1], step.strides[1]) : [0, 0];
    const pads = [top + sh0, left + sw0, bottom + sh1, right + sw1];
    const filter = onnxFilter(step);
    initializers.push({ name: `${step.output}/W`, dims: filter.dims, data: filter.data }, { name: `${step.output}/B`, dims: [step.bias.length], data: step.bias });
    const convOut = step.activation === 'linear' ? step.output : `${step.output}/conv`;
    nodes.push({
      op: 'Conv',
      name: step.output,
      inputs: [step.input, `${step.output}/W`, `${step.output}/B`],
      outputs: [convOut],
      attributes: { kernel_shape: step.kernel, strides: step.strides, pads, group: step.op === 'depthwise' ? step.filterShape[2] : 1 },
    });
    if (step.activation === 'relu6') nodes.push({ op: 'Clip', inputs: [convOut, 'zero', 'six'], outputs: [step.output] });
    if (step.activation === 'relu') nodes.push({ op: 'Relu', inputs: [convOut], outputs: [step.output] });
    sides.set(step.output, Math.floor((paddedSide + sh0 + sh1 - step.kernel[0]) / step.strides[0]) + 1);
  }
  for (const layer of MOBILENET_LAYERS) {
    if (!sides.has(layer)) throw new Error(`MobileNetV2 ONNX: the folded network has no ${layer}`);
    nodes.push({ op: 'GlobalAveragePool', inputs: [layer], outputs: [`${layer}/mean`] });
  }
  nodes.push(
    { op: 'Concat', inputs: MOBILENET_LAYERS.map((layer) => `${layer}/mean`), outputs: ['means'], attributes: { axis: 1 } },
    { op: 'Flatten', inputs: ['means'], outputs: [ONNX_OUTPUT], attributes: { axis: 1 } },
  );
  return encodeOnnxModel({
    opset: OPSET,
    irVersion: IR_VERSION,
    producer: 'rakuten-pipeline',
    graph: {
      name: 'mobilenet_v2_features',
      nodes,
      initializers,
      inputs: [{ name: ONNX_INPUT, type: OnnxType.FLOAT, dims: ['n', 'side', 'side', 3] }],
      outputs: [{ name: ONNX_OUTPUT, type: OnnxType.FLOAT, dims: ['n', MOBILENET_FEATURE_SIZE] }],
    },
  });
}

/** Options of {@link OnnxMobileNet.load}. */
export interface OnnxMobileNetOptions {
  /** Threads of ONNX Runtime's operator pool (default: `os.availableParallelism()`). */
  threads?: number;
  /**
   * Whether idle operator threads spin waiting for work (ONNX Runtime's default). Default
   * false: on a machine shared with other work the spinning burns the cores it waits for.
   */
  spinning?: boolean;
}

/** {@link MobileNetFeatures} on an ONNX Runtime session: the same 672 features. */
export class OnnxMobileNet {
  private constructor(
    private readonly ort: OrtModule,
    private readonly session: OrtSession,
    /** Input side of the network. */
    readonly size: number,
    /** Threads of the session's operator pool. */
    readonly threads: number,
  ) {}

  /**
   * Builds the ONNX graph from the shipped weights and opens a session on it. Initialise the
   * TensorFlow.js backend first ({@link initBackend}): the folding of the Keras model runs on it.
   *
   * @param ort - The `onnxruntime-node` module (imported by the caller: it is optional).
   * @param size - Side the pictures are resized to.
   * @throws When the shipped weights are missing or damaged, or ONNX Runtime rejects the graph.
   */
  static async load(ort: OrtModule, size = DEFAULT_MOBILENET_SIZE, options: OnnxMobileNetOptions = {}): Promise<OnnxMobileNet> {
    const threads = Math.max(1, options.threads ?? os.availableParallelism());
    // The folding reads the Keras model through TensorFlow.js: any backend serves (a few
    // products); the caller's (initBackend), else the best registered one.
    await tf.ready();
    const model = buildMobileNetOnnx(await loadFoldedMobileNet(), size);
    // One operator at a time, each split over the threads: the graph is a chain.
    const spinning = options.spinning ? '1' : '0';
    const session = await ort.InferenceSession.create(model, {
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
      extra: { session: { intra_op: { allow_spinning: spinning }, inter_op: { allow_spinning: spinning } } },
    });
    return new OnnxMobileNet(ort, session, size, threads);
  }

  /** Feature vectors of square RGB pictures (any side; resized to {@link OnnxMobileNet.size}). */
  async compute(images: readonly { readonly pixels: Uint8Array; readonly size: number }[]): Promise<Float32Array[]> {
    const out: Float32Array[] = [];
    let start = 0;
    while (start < images.length) {
      // A batch holds pictures of one side (the input's spatial dimensions are shared).
      const side = (images[start] as { size: number }).size;
      let end = start + 1;
      while (end < images.length && end - start < BATCH && (images[end] as { size: number }).size === side) end++;
      const pixels = new Float32Array((end - start) * side * side * 3);
      for (let i = start; i < end; i++) {
        const image = images[i] as { pixels: Uint8Array; size: number };
        if (image.pixels.length !== side * side * 3) throw new RangeError(`expected ${side}x${side} RGB pixels, got ${image.pixels.length} bytes`);
        pixels.set(image.pixels, (i - start) * side * side * 3);
      }
      const results = await this.session.run({ [ONNX_INPUT]: new this.ort.Tensor('float32', pixels, [end - start, side, side, 3]) });
      const data = results[ONNX_OUTPUT]?.data;
      if (!(data instanceof Float32Array)) throw new Error('MobileNetV2 ONNX: no float output');
      for (let r = 0; r < end - start; r++) out.push(data.slice(r * MOBILENET_FEATURE_SIZE, (r + 1) * MOBILENET_FEATURE_SIZE));
      start = end;
    }
    return out;
  }

  /** Releases the session. */
  async close(): Promise<void> {
    await this.session.release();
  }
}
