import { describe, expect, it } from 'vitest';
import { initBackend, tf } from '../../src/models/backend.js';
import { loadKerasMobileNet, MOBILENET_FEATURE_SIZE, MobileNetFeatures } from '../../src/models/mobilenet-features.js';
import { mulberry32 } from '../../src/util/random.js';

function pictures(n: number, side: number, seed: number): { pixels: Uint8Array; size: number }[] {
  const random = mulberry32(seed);
  return Array.from({ length: n }, () => ({ pixels: Uint8Array.from({ length: side * side * 3 }, () => Math.floor(random() * 256)), size: side }));
}

/** Spatial means of the Keras graph's outputs: what the folded network must reproduce. */
async function reference(size: number, images: { pixels: Uint8Array; size: number }[]): Promise<Float32Array[]> {
  const model = await loadKerasMobileNet(size);
  try {
    const features = tf.tidy(() => {
      const x = tf.stack(images.map((i) => tf.image.resizeBilinear(tf.cast(tf.tensor3d(i.pixels, [i.size, i.size, 3], 'int32'), 'float32'), [size, size])));
      const outputs = model.predict(tf.sub(tf.div(x, 127.5), 1)) as tf.Tensor[];
      return tf.concat(outputs.map((o) => tf.mean(o, [1, 2])), 1);
    });
    const data = features.dataSync() as Float32Array;
    features.dispose();
    return images.map((_, r) => data.slice(r * MOBILENET_FEATURE_SIZE, (r + 1) * MOBILENET_FEATURE_SIZE));
  } finally {
    model.dispose();
  }
}

describe('MobileNetFeatures', () => {
  // 64: 'same' padding stands for the ZeroPadding2D layers; 100: odd maps (25 px) need the explicit pad.
  it.each([64, 100])('folds batch norm and ReLU6 into the convolutions without changing the features (%i px)', async (size) => {
    await initBackend();
    const images = pictures(3, 48, size);
    const network = await MobileNetFeatures.load(size);
    const before = tf.memory().numTensors;
    const folded = network.compute(images);
    expect(tf.memory().numTensors).toBe(before);
    const expected = await reference(size, images);
    expect(folded).toHaveLength(3);
    for (let r = 0; r < images.length; r++) {
      const a = folded[r] as Float32Array;
      const b = expected[r] as Float32Array;
      expect(a).toHaveLength(MOBILENET_FEATURE_SIZE);
      let worst = 0;
      for (let j = 0; j < a.length; j++) worst = Math.max(worst, Math.abs((a[j] as number) - (b[j] as number)));
      expect(worst).toBeLessThan(1e-4);
    }
  });
});
