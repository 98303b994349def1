/**
 * Image feature latency: `npx tsx bench/image-latency.ts [sizes]` (default `128,112,96`).
 *
 * One 64 px picture at a time (the online case) through the MobileNetV2 feature extractor as the
 * model runs it (batch norm and ReLU6 folded into fused convolutions) and, as the reference in
 * the same run, through the original Keras graph. The two are timed alternately, call after call,
 * so that load from other processes on the machine hits both alike; the load average is printed.
 */
import os from 'node:os';
import { initBackend, tf } from '../src/models/backend.js';
import { loadKerasMobileNet, MobileNetFeatures } from '../src/models/mobilenet-features.js';

const sizes = (process.argv[2] ?? '128,112,96').split(',').map(Number);
const ROUNDS = Number(process.env['ROUNDS'] ?? 200);

function stats(times: number[]): string {
  const s = [...times].sort((a, b) => a - b);
  const at = (q: number) => (s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? 0).toFixed(2);
  return `p50 ${at(0.5)} ms, p95 ${at(0.95)} ms`;
}

async function main(): Promise<void> {
  const backend = await initBackend();
  const load = () => os.loadavg()[0]?.toFixed(2);
  console.log(`image feature latency on ${os.cpus().length} cores, backend ${backend}, load average ${load()}`);
  let seed = 1;
  const picture = { pixels: Uint8Array.from({ length: 64 * 64 * 3 }, () => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24), size: 64 };
  for (const size of sizes) {
    const folded = await MobileNetFeatures.load(size);
    const keras = await loadKerasMobileNet(size);
    const reference = (): void => {
      tf.tidy(() => {
        const x = tf.expandDims(tf.sub(tf.div(tf.image.resizeBilinear(tf.cast(tf.tensor3d(picture.pixels, [64, 64, 3], 'int32'), 'float32'), [size, size]), 127.5), 1), 0);
        const outputs = keras.predict(x) as tf.Tensor[];
        return tf.concat(outputs.map((o) => tf.mean(o, [1, 2])), 1).dataSync();
      });
    };
    const times = { folded: [] as number[], keras: [] as number[] };
    for (let i = 0; i < 10; i++) {
      folded.compute([picture]);
      reference();
    }
    for (let i = 0; i < ROUNDS; i++) {
      let t = performance.now();
      folded.compute([picture]);
      times.folded.push(performance.now() - t);
      t = performance.now();
      reference();
      times.keras.push(performance.now() - t);
    }
    keras.dispose();
    console.log(`${size} px: folded ${stats(times.folded)} | reference Keras graph ${stats(times.keras)} | load average ${load()}`);
  }
}

await main();
