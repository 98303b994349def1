/**
 * {@link MobileNetFeatures} on several cores without native code: the tfjs `wasm` backend is
 * single-threaded in Node, so the pool runs one copy of the network per worker thread and hands
 * each worker a slice of the pictures.
 *
 * @module
 */
import os from 'node:os';
import type { Worker } from 'node:worker_threads';
import { startEntryWorker } from '../util/worker-entry.js';
import type { BackendName } from './backend.js';
import { DEFAULT_MOBILENET_SIZE, type MobileNetFeatures } from './mobilenet-features.js';

/** Pictures per message to a worker: the network's own batch, and small enough to balance. */
const CHUNK = 16;

/** What a MobileNet worker is started with. */
export interface MobileNetWorkerData {
  /** Input side of the network. */
  size: number;
  /** TensorFlow.js backend of the worker (falls back as `initBackend` does). */
  backend: BackendName;
}

/** A batch of pictures sent to a MobileNet worker. */
export interface MobileNetWorkerRequest {
  id: number;
  images: { pixels: Uint8Array; size: number }[];
}

/** Message from a MobileNet worker (`failed` with id -1: it could not start). */
export type MobileNetWorkerReply =
  | { type: 'ready'; backend: string }
  | { type: 'done'; id: number; features: Float32Array[] }
  | { type: 'failed'; id: number; message: string };

interface Task {
  id: number;
  images: { pixels: Uint8Array; size: number }[];
  resolve(features: Float32Array[]): void;
  reject(error: Error): void;
}

/** Options of {@link MobileNetPool.start}. */
export interface MobileNetPoolOptions {
  /** Worker threads (default: `os.availableParallelism()`). */
  threads?: number;
  /** TensorFlow.js backend of the workers (default `wasm`). */
  backend?: BackendName;
}

/** MobileNetV2 features computed by a pool of worker threads, one network each. */
export class MobileNetPool {
  private readonly queue: Task[] = [];
  private readonly busy = new Map<Worker, Task>();
  private nextId = 0;
  private failure: Error | null = null;

  private constructor(
    private readonly workers: readonly Worker[],
    /** Input side of the network. */
    readonly size: number,
    /** TensorFlow.js backend the workers run on. */
    readonly backend: string,
  ) {
    for (const worker of workers) {
      worker.on('message', (m: MobileNetWorkerReply) => this.settle(worker, m));
      worker.on('error', (e) => this.fail(e));
      worker.on('exit', (code) => this.fail(new Error(`MobileNet worker exited (code ${code})`)));
      // Idle workers do not keep the process alive (a caller that forgets close() still exits);
      // a worker with a batch in hand does, until it answers. After the listeners: adding a
      // 'message' listener refs the worker's port again.
      worker.unref();
    }
  }

  /** Worker threads of the pool. */
  get threads(): number {
    return this.workers.length;
  }

  /**
   * Starts the workers and waits until each has loaded the network.
   *
   * @throws When a worker cannot load it (missing or damaged weights).
   */
  static async start(size = DEFAULT_MOBILENET_SIZE, options: MobileNetPoolOptions = {}): Promise<MobileNetPool> {
    const threads = Math.max(1, options.threads ?? os.availableParallelism());
    const workerData: MobileNetWorkerData = { size, backend: options.backend ?? 'wasm' };
    const workers = Array.from({ length: threads }, () => startEntryWorker(import.meta.url, 'mobilenet-worker.js', './mobilenet-worker.ts', { workerData }));
    try {
      const backends = await Promise.all(
        workers.map(
          (worker) =>
            new Promise<string>((resolve, reject) => {
              worker.once('message', (m: MobileNetWorkerReply) => (m.type === 'ready' ? resolve(m.backend) : reject(new Error(m.type === 'failed' ? m.message : 'MobileNet worker: unexpected message'))));
              worker.once('error', reject);
              worker.once('exit', (code) => reject(new Error(`MobileNet worker exited (code ${code}) before it was ready`)));
            }),
        ),
      );
      return new MobileNetPool(workers, size, backends[0] ?? 'wasm');
    } catch (e) {
      await Promise.all(workers.map((w) => w.terminate()));
      throw e;
    }
  }

  /** Feature vectors of square RGB pictures (any side; resized to {@link MobileNetPool.size}), in order. */
  async compute(images: readonly { readonly pixels: Uint8Array; readonly size: number }[]): Promise<Float32Array[]> {
    const chunks: Promise<Float32Array[]>[] = [];
    for (let start = 0; start < images.length; start += CHUNK) {
      const slice = images.slice(start, start + CHUNK).map((i) => ({ pixels: i.pixels, size: i.size }));
      chunks.push(new Promise((resolve, reject) => this.queue.push({ id: this.nextId++, images: slice, resolve, reject })));
    }
    this.dispatch();
    return (await Promise.all(chunks)).flat();
  }

  /** Stops the workers; pending computations are rejected. */
  async close(): Promise<void> {
    this.failure ??= new Error('MobileNet pool closed');
    for (const task of this.queue.splice(0)) task.reject(this.failure);
    await Promise.all(this.workers.map((w) => w.terminate()));
  }

  private dispatch(): void {
    if (this.failure) {
      for (const task of this.queue.splice(0)) task.reject(this.failure);
      return;
    }
    for (const worker of this.workers) {
      if (this.busy.has(worker)) continue;
      const task = this.queue.shift();
      if (!task) return;
      this.busy.set(worker, task);
      worker.ref();
      // Pixels are copied, not transferred: they belong to the caller.
      worker.postMessage({ id: task.id, images: task.images } satisfies MobileNetWorkerRequest);
    }
  }

  private settle(worker: Worker, m: MobileNetWorkerReply): void {
    const task = this.busy.get(worker);
    if (!task || m.type === 'ready' || m.id !== task.id) return;
    this.busy.delete(worker);
    worker.unref();
    if (m.type === 'done') task.resolve(m.features);
    else task.reject(new Error(`MobileNet worker: ${m.message}`));
    this.dispatch();
  }

  private fail(error: Error): void {
    if (!this.failure) this.failure = error;
    for (const task of this.busy.values()) task.reject(this.failure);
    this.busy.clear();
    this.dispatch();
  }
}
