import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { initBackend } from '../../src/models/backend.js';
import { MOBILENET_FEATURE_SIZE, MobileNetFeatures } from '../../src/models/mobilenet-features.js';
import { OnnxMobileNet, type OrtModule } from '../../src/models/mobilenet-onnx.js';
import { encodeOnnxModel, OnnxType, varint } from '../../src/models/onnx-proto.js';
import { mulberry32 } from '../../src/util/random.js';

type Picture = { pixels: Uint8Array; size: number };

const REAL_IMAGES = '/work/shared/data/rakuten/image_train';

function randomPictures(n: number, side: number, seed: number): Picture[] {
  const random = mulberry32(seed);
  return Array.from({ length: n }, () => ({ pixels: Uint8Array.from({ length: side * side * 3 }, () => Math.floor(random() * 256)), size: side }));
}

/** A few real product photos, decoded and resized to 64 px as the preprocessing does (Lanczos). */
async function realPictures(n: number): Promise<Picture[]> {
  const files = readdirSync(REAL_IMAGES).filter((f) => f.endsWith('.jpg')).sort().slice(0, n);
  return Promise.all(
    files.map(async (file) => ({
      pixels: new Uint8Array(await sharp(path.join(REAL_IMAGES, file)).removeAlpha().resize(64, 64, { fit: 'fill', kernel: 'lanczos3' }).raw().toBuffer()),
      size: 64,
    })),
  );
}

function worstDifference(a: Float32Array[], b: Float32Array[]): number {
  expect(a).toHaveLength(b.length);
  let worst = 0;
  for (let r = 0; r < a.length; r++) {
    expect(a[r]).toHaveLength(MOBILENET_FEATURE_SIZE);
    for (let j = 0; j < MOBILENET_FEATURE_SIZE; j++) worst = Math.max(worst, Math.abs((a[r]?.[j] ?? NaN) - (b[r]?.[j] ?? NaN)));
  }
  return worst;
}

async function compare(images: Picture[], size: number): Promise<number> {
  await initBackend('wasm');
  const ort = (await import('onnxruntime-node')) as unknown as OrtModule;
  const reference = (await MobileNetFeatures.load(size)).compute(images);
  const onnx = await OnnxMobileNet.load(ort, size, { threads: 2 });
  try {
    return worstDifference(await onnx.compute(images), reference);
  } finally {
    await onnx.close();
  }
}

describe('MobileNetV2 on ONNX Runtime', () => {
  // 128: the model's size (resize x2); 100: a fractional resize and odd maps (25 px: explicit pads); 64: no resize.
  it.each([128, 100, 64])('computes the features of the folded tfjs network within 1e-4 on random pixels (%i px)', async (size) => {
    // 21 pictures: three runs of the session, the last one partial.
    expect(await compare(randomPictures(21, 64, size), size)).toBeLessThan(1e-4);
  });

  it('keeps pictures of different sides apart (one batch per side)', async () => {
    const images = [...randomPictures(2, 64, 1), ...randomPictures(1, 48, 2), ...randomPictures(2, 64, 3)];
    expect(await compare(images, 128)).toBeLessThan(1e-4);
  });

  it.skipIf(!existsSync(REAL_IMAGES))(`computes the same features on real product photos (${REAL_IMAGES}; skipped when absent)`, async () => {
    expect(await compare(await realPictures(12), 128)).toBeLessThan(1e-4);
  });
});

describe('ONNX protobuf writer', () => {
  it('writes varints as protobuf does (negative int64 in ten bytes)', () => {
    expect([...varint(1)]).toEqual([1]);
    expect([...varint(300)]).toEqual([0xac, 0x02]);
    expect([...varint(-1)]).toEqual([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
  });

  it('writes a model ONNX Runtime runs (attributes, int64 and float initializers)', async () => {
    const ort = (await import('onnxruntime-node')) as unknown as OrtModule;
    // y = clip(transpose(x) * w, 0, 6) + 0.5, with a float attribute read back through LeakyRelu.
    const model = encodeOnnxModel({
      opset: 18,
      irVersion: 8,
      producer: 'test',
      graph: {
        name: 'g',
        nodes: [
          { op: 'Transpose', inputs: ['x'], outputs: ['t'], attributes: { perm: [1, 0] } },
          { op: 'Mul', inputs: ['t', 'w'], outputs: ['m'] },
          { op: 'Clip', inputs: ['m', 'lo', 'hi'], outputs: ['c'] },
          { op: 'LeakyRelu', inputs: ['c'], outputs: ['l'], attributes: { alpha: { float: 0.25 } } },
          { op: 'Add', inputs: ['l', 'half'], outputs: ['y'] },
          { op: 'Reshape', inputs: ['y', 'shape'], outputs: ['z'] },
        ],
        initializers: [
          { name: 'w', dims: [2], data: Float32Array.of(2, -3) },
          { name: 'lo', dims: [], data: Float32Array.of(-1) },
          { name: 'hi', dims: [], data: Float32Array.of(6) },
          { name: 'half', dims: [], data: Float32Array.of(0.5) },
          { name: 'shape', dims: [1], data: BigInt64Array.of(-1n) },
        ],
        inputs: [{ name: 'x', type: OnnxType.FLOAT, dims: [2, 'n'] }],
        outputs: [{ name: 'z', type: OnnxType.FLOAT, dims: ['k'] }],
      },
    });
    const session = await ort.InferenceSession.create(model);
    try {
      const out = await session.run({ x: new ort.Tensor('float32', Float32Array.of(1, 2, 5, 1), [2, 2]) });
      // transpose: [[1, 5], [2, 1]]; * [2, -3]: [[2, -15], [4, -3]]; clip: [[2, -1], [4, -1]]; leaky: -0.25; + 0.5.
      expect([...(out['z']?.data as Float32Array)]).toEqual([2.5, 0.25, 4.5, 0.25]);
    } finally {
      await session.release();
    }
  });
});
