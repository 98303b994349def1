import { afterEach, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/models/backend.js';
import { IMAGE_BACKEND_ENV, loadImageBackbone, type ImageBackbone } from '../../src/models/image-backbone.js';
import { MOBILENET_FEATURE_SIZE, MobileNetFeatures } from '../../src/models/mobilenet-features.js';
import { mulberry32 } from '../../src/util/random.js';

function pictures(n: number, seed: number): { pixels: Uint8Array; size: number }[] {
  const random = mulberry32(seed);
  return Array.from({ length: n }, () => ({ pixels: Uint8Array.from({ length: 64 * 64 * 3 }, () => Math.floor(random() * 256)), size: 64 }));
}

/** The real importer, except for the packages listed, which fail as when they are not installed. */
const without =
  (...missing: string[]) =>
  (name: string): Promise<unknown> =>
    missing.includes(name) ? Promise.reject(new Error(`Cannot find package '${name}'`)) : (import(name) as Promise<unknown>);

const SIZE = 64;
const opened: ImageBackbone[] = [];
async function open(...args: Parameters<typeof loadImageBackbone>): Promise<ImageBackbone> {
  const backbone = await loadImageBackbone(...args);
  opened.push(backbone);
  return backbone;
}

afterEach(async () => {
  delete process.env[IMAGE_BACKEND_ENV];
  await Promise.all(opened.splice(0).map((b) => b.close()));
});

/** Features of the reference: the folded network on this thread's wasm backend. */
async function reference(images: { pixels: Uint8Array; size: number }[]): Promise<Float32Array[]> {
  await initBackend('wasm');
  return (await MobileNetFeatures.load(SIZE)).compute(images);
}

function expectSameFeatures(actual: Float32Array[], expected: Float32Array[]): void {
  expect(actual).toHaveLength(expected.length);
  let worst = 0;
  for (let r = 0; r < expected.length; r++) {
    expect(actual[r]).toHaveLength(MOBILENET_FEATURE_SIZE);
    for (let j = 0; j < MOBILENET_FEATURE_SIZE; j++) worst = Math.max(worst, Math.abs((actual[r]?.[j] ?? NaN) - (expected[r]?.[j] ?? NaN)));
  }
  expect(worst).toBeLessThan(1e-4);
}

describe('loadImageBackbone', () => {
  it('prefers onnxruntime-node when it can be imported, on every core asked for', async () => {
    const backbone = await open(SIZE, { threads: 2 });
    expect(backbone.backend).toBe('onnxruntime');
    expect(backbone.threads).toBe(2);
    const images = pictures(5, 1);
    expectSameFeatures(await backbone.compute(images), await reference(images));
  });

  it('falls back to the pool of wasm workers without onnxruntime-node and tfjs-node, features in order', async () => {
    const backbone = await open(SIZE, { threads: 2, importModule: without('onnxruntime-node', '@tensorflow/tfjs-node') });
    expect(backbone.backend).toBe('wasm');
    expect(backbone.threads).toBe(2);
    // 40 pictures: three chunks shared by the two workers, answered out of order.
    const images = pictures(40, 2);
    expectSameFeatures(await backbone.compute(images), await reference(images));
    // Two calls at once share the pool.
    const [a, b] = await Promise.all([backbone.compute(images.slice(0, 3)), backbone.compute(images.slice(3, 20))]);
    expectSameFeatures([...a, ...b], await reference(images.slice(0, 20)));
  });

  it('honours RAKUTEN_IMAGE_BACKEND even when a faster runtime is there', async () => {
    process.env[IMAGE_BACKEND_ENV] = 'wasm';
    const backbone = await open(SIZE, { threads: 1 });
    expect(backbone.backend).toBe('wasm');
    expect(backbone.threads).toBe(1);
    expect(await backbone.compute(pictures(1, 3))).toHaveLength(1);
  });

  it('ignores an unknown RAKUTEN_IMAGE_BACKEND; the option wins over the variable', async () => {
    process.env[IMAGE_BACKEND_ENV] = 'gpu';
    expect((await open(SIZE, { threads: 1 })).backend).toBe('onnxruntime');
    process.env[IMAGE_BACKEND_ENV] = 'wasm';
    expect((await open(SIZE, { threads: 1, backend: 'onnxruntime' })).backend).toBe('onnxruntime');
  });

  it('hands a forced tensorflow over to the wasm pool when tfjs-node is missing', async () => {
    process.env[IMAGE_BACKEND_ENV] = 'tensorflow';
    const backbone = await open(SIZE, { threads: 1, importModule: without('@tensorflow/tfjs-node') });
    expect(backbone.backend).toBe('wasm');
  });

  it('runs on plain JavaScript when cpu is forced', async () => {
    process.env[IMAGE_BACKEND_ENV] = 'cpu';
    // Another side than the tests above: the cached network of SIZE lives on the wasm backend.
    const backbone = await open(32);
    expect(backbone.backend).toBe('cpu');
    expect(backbone.threads).toBe(1);
    expect(await backbone.compute(pictures(1, 4))).toHaveLength(1);
  });
});
