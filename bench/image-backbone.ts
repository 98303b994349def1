/**
 * Image backbone throughput: `npm run bench:backbone [-- N]` (default 2,000 pictures of 64 px,
 * resized to 128 as the model does).
 *
 * The same pictures, in the same run, through each runtime of the MobileNetV2 features: the tfjs
 * `wasm` backend on this thread (one core, as before the pool), the pool of `wasm` worker
 * threads (one per core), and ONNX Runtime with 1 and with `os.availableParallelism()` threads.
 * Prints pictures per second (wall) and CPU milliseconds per picture (every thread of the
 * process: workers and ONNX Runtime's pool included), with the load average beside each line:
 * the machine may be shared, CPU time is the steadier figure.
 */
import os from 'node:os';
import { initBackend } from '../src/models/backend.js';
import { MobileNetFeatures } from '../src/models/mobilenet-features.js';
import { OnnxMobileNet, type OrtModule } from '../src/models/mobilenet-onnx.js';
import { MobileNetPool } from '../src/models/mobilenet-pool.js';
import { mulberry32 } from '../src/util/random.js';

const N = Number(process.argv[2] ?? process.env['N'] ?? 2000);
const SIDE = 64;
const SIZE = 128;
/** Pictures per call, as a feature cache filling itself would send them. */
const CALL = 256;

type Picture = { pixels: Uint8Array; size: number };

const random = mulberry32(12);
const pictures: Picture[] = Array.from({ length: N }, () => ({ pixels: Uint8Array.from({ length: SIDE * SIDE * 3 }, () => Math.floor(random() * 256)), size: SIDE }));
const load = (): string => os.loadavg().map((l) => l.toFixed(2)).join(' ');

async function time(name: string, compute: (images: Picture[]) => Promise<Float32Array[]>): Promise<void> {
  await compute(pictures.slice(0, 32)); // warm-up: memory, JIT
  const before = load();
  const cpu = process.cpuUsage();
  const start = performance.now();
  let done = 0;
  for (let at = 0; at < N; at += CALL) done += (await compute(pictures.slice(at, at + CALL))).length;
  const wall = performance.now() - start;
  const used = process.cpuUsage(cpu);
  const cpuMs = (used.user + used.system) / 1000;
  if (done !== N) throw new Error(`${name}: ${done} features for ${N} pictures`);
  console.log(
    `${name.padEnd(34)} ${((N / wall) * 1000).toFixed(0).padStart(5)} pictures/s | ${(cpuMs / N).toFixed(2).padStart(6)} ms CPU/picture | ${(wall / 1000).toFixed(1)} s wall | RSS ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB | load average ${before} -> ${load()}`,
  );
}

async function main(): Promise<void> {
  const cores = os.availableParallelism();
  console.log(`image backbone: ${N} pictures ${SIDE} px -> ${SIZE} px, ${cores} cores, load average ${load()}`);
  await initBackend('wasm');
  const single = await MobileNetFeatures.load(SIZE);
  await time('tfjs wasm, this thread', (images) => Promise.resolve(single.compute(images)));

  const pool = await MobileNetPool.start(SIZE, { threads: cores });
  await time(`wasm pool, ${pool.threads} workers`, (images) => pool.compute(images));
  await pool.close();

  let ort: OrtModule;
  try {
    ort = (await import('onnxruntime-node')) as unknown as OrtModule;
  } catch (e) {
    console.log(`onnxruntime-node not importable (${e instanceof Error ? e.message : String(e)}): skipped`);
    return;
  }
  const runs = [...new Set([1, cores])].map((threads) => ({ threads, spinning: false }));
  if (cores > 1) runs.push({ threads: cores, spinning: true });
  for (const { threads, spinning } of runs) {
    const network = await OnnxMobileNet.load(ort, SIZE, { threads, spinning });
    await time(`onnxruntime, ${threads} thread${threads > 1 ? 's' : ''}${spinning ? ', spinning' : ''}`, (images) => network.compute(images));
    await network.close();
  }
}

await main();
