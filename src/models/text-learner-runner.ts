/**
 * Runs the NBSVM passes of a training run beside its fastText epochs: the two learners are
 * independent, so on a large training set the NBSVM trains in a worker thread that reads the
 * training matrix through its `SharedArrayBuffer`s (no copy) while the calling thread runs
 * fastText. Results are the same as in one thread: each learner is deterministic on its own.
 *
 * @module
 */
import { availableParallelism } from 'node:os';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { SparseVector } from './text-features.js';
import { type LinearWeights, NbSvmTrainer, type NbSvmOptions } from './text-learners.js';

/** What the NBSVM worker is started with. */
export interface NbSvmWorkerData {
  /** Training vectors (views into shared buffers). */
  X: readonly SparseVector[];
  /** Class index of each vector. */
  y: Int32Array;
  /** Feature count. */
  features: number;
  /** Class count. */
  classes: number;
  /** NBSVM settings. */
  options: NbSvmOptions;
}

/** A message of the NBSVM worker. */
export type NbSvmWorkerReply = { type: 'weights'; weights: Float32Array } | { type: 'error'; message: string };

/** Runs NBSVM passes, here or in a worker thread. */
export interface NbSvmRunner {
  /** Starts one pass; resolves with the weights after it. Call again only once it has resolved. */
  pass(): Promise<LinearWeights>;
  /** Ends the worker thread, if any. */
  close(): Promise<void>;
}

/**
 * Training-matrix entries (non-zero features over all rows) from which the NBSVM gets a thread of
 * its own. Below, a pass takes less than the worker's start (its module loading: about 0.1 s from
 * the build, 1 s or more from the sources under tsx), so it stays on the calling thread.
 */
export const NBSVM_WORKER_MIN_ENTRIES = 3_000_000;

/** Whether a training matrix is large enough for {@link nbSvmRunner} to use a worker thread. */
export function nbSvmWorkerPays(X: readonly SparseVector[]): boolean {
  if (availableParallelism() < 2) return false;
  let entries = 0;
  for (const x of X) entries += x.indices.length;
  return entries >= NBSVM_WORKER_MIN_ENTRIES;
}

/**
 * An NBSVM trainer over `X`: in a worker thread when `worker` is true (the rows of `X` should then
 * live in `SharedArrayBuffer`s, as `TextVectorizer.transformAll` makes them, or they are copied),
 * on the calling thread otherwise.
 */
export function nbSvmRunner(data: NbSvmWorkerData, worker: boolean): NbSvmRunner {
  if (!worker) {
    const trainer = new NbSvmTrainer(data.X, data.y, data.features, data.classes, data.options);
    return {
      pass: () => {
        trainer.pass();
        return Promise.resolve(trainer.weights());
      },
      close: () => Promise.resolve(),
    };
  }
  const thread = startWorker(data);
  let pending: { resolve: (w: LinearWeights) => void; reject: (e: Error) => void } | null = null;
  let failure: Error | null = null;
  const fail = (error: Error): void => {
    failure ??= error;
    pending?.reject(failure);
    pending = null;
  };
  thread.on('message', (m: NbSvmWorkerReply) => {
    if (m.type === 'error') return fail(new Error(`NBSVM worker: ${m.message}`));
    pending?.resolve({ features: data.features, classes: data.classes, weights: m.weights });
    pending = null;
  });
  thread.on('error', fail);
  thread.on('exit', (code) => fail(new Error(`NBSVM worker exited (code ${code})`)));
  return {
    pass: () =>
      new Promise<LinearWeights>((resolve, reject) => {
        if (failure) return reject(failure);
        pending = { resolve, reject };
        thread.postMessage({ type: 'pass' });
      }),
    close: async () => {
      failure ??= new Error('NBSVM worker closed');
      await thread.terminate();
    },
  };
}

// The worker's code is a bundle entry of its own (dist/text-learner-worker.js, beside the chunk
// this code is in). From the sources (tests, tsx) it is the TypeScript file, imported through
// tsx's API: Node 20 does not pass `--import` loaders on to worker threads.
function startWorker(data: NbSvmWorkerData): Worker {
  const here = import.meta.url;
  if (!here.endsWith('.ts')) return new Worker(new URL('./text-learner-worker.js', here), { workerData: data });
  const tsx = pathToFileURL(createRequire(here).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href;
  const entry = new URL('./text-learner-worker.ts', here).href;
  const source = `import { tsImport } from ${JSON.stringify(tsx)}; await tsImport(${JSON.stringify(entry)}, ${JSON.stringify(here)});`;
  return new Worker(new URL(`data:text/javascript,${encodeURIComponent(source)}`), { workerData: data });
}
