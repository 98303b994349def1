/**
 * Runs the NBSVM passes of a training run beside its fastText epochs: the two learners are
 * independent, so on a large training set the NBSVM trains in a worker thread that reads the
 * training matrix through its `SharedArrayBuffer`s (no copy) while the calling thread runs
 * fastText. Results are the same as in one thread: each learner is deterministic on its own.
 *
 * @module
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { SparseVector } from './text-features.js';
import { type LinearWeights, NbSvmTrainer, type NbSvmOptions } from './text-learners.js';
import { startEntryWorker } from '../util/worker-entry.js';

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
 * on the calling thread otherwise. Should the worker fail (e.g. a bundler left its entry file
 * out), training goes on on the calling thread, replaying the passes already made: passes are
 * deterministic, so the weights are the same.
 *
 * @param entry - The worker's module (tests only; default: the built or source entry beside this module).
 */
export function nbSvmRunner(data: NbSvmWorkerData, worker: boolean, entry?: URL): NbSvmRunner {
  let local: NbSvmTrainer | null = null;
  let passes = 0;
  const passHere = (): LinearWeights => {
    if (!local) {
      local = new NbSvmTrainer(data.X, data.y, data.features, data.classes, data.options);
      for (let i = 0; i < passes; i++) local.pass();
    }
    local.pass();
    passes++;
    return local.weights();
  };
  if (!worker) return { pass: () => Promise.resolve(passHere()), close: () => Promise.resolve() };
  let thread: Worker | null = startWorker(data, entry);
  let pending: { resolve: (w: LinearWeights) => void; reject: (e: Error) => void } | null = null;
  let closed = false;
  const fallBack = (): void => {
    thread?.removeAllListeners();
    void thread?.terminate();
    thread = null;
    const p = pending;
    pending = null;
    if (!p || closed) return;
    try {
      p.resolve(passHere());
    } catch (error) {
      p.reject(error as Error);
    }
  };
  thread.on('message', (m: NbSvmWorkerReply) => {
    if (m.type === 'error') return fallBack();
    passes++;
    pending?.resolve({ features: data.features, classes: data.classes, weights: m.weights });
    pending = null;
  });
  thread.on('error', fallBack);
  thread.on('exit', fallBack);
  return {
    pass: () =>
      new Promise<LinearWeights>((resolve, reject) => {
        if (closed) return reject(new Error('NBSVM runner closed'));
        if (!thread) return resolve(passHere());
        pending = { resolve, reject };
        thread.postMessage({ type: 'pass' });
      }),
    close: async () => {
      closed = true;
      const t = thread;
      thread = null;
      t?.removeAllListeners();
      await t?.terminate();
    },
  };
}

// The worker is a bundle entry of its own (dist/text-learner-worker.js); from the sources, the TypeScript file.
function startWorker(data: NbSvmWorkerData, entry?: URL): Worker {
  if (entry) return new Worker(entry, { workerData: data });
  return startEntryWorker(import.meta.url, 'text-learner-worker.js', './text-learner-worker.ts', { workerData: data });
}
