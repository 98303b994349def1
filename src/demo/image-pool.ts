/**
 * Writes the generator's pictures from worker threads, so that drawing (JavaScript) and JPEG
 * encoding use every core: on the calling thread alone, drawing is serialised and the generator
 * used about one core.
 *
 * @module
 */
import { Worker } from 'node:worker_threads';
import type { ImageJob } from './render.js';
import { startEntryWorker } from '../util/worker-entry.js';

/** `workerData` of an image worker. */
export interface ImageWorkerData {
  outDir: string;
  size: number;
  seed: number;
}

/** Answer of an image worker to one job. */
export interface ImageWorkerReply {
  id: number;
  error?: string;
}

// Jobs posted to a worker and not yet answered: two, so that a worker draws its next picture
// while sharp encodes the previous one, and the queue (and memory) stays bounded however many
// pictures there are.
const IN_FLIGHT_PER_WORKER = 2;

// The worker is a bundle entry of its own (dist/demo-image-worker.js); from the sources, the TypeScript file.
function startWorker(data: ImageWorkerData): Worker {
  return startEntryWorker(import.meta.url, 'demo-image-worker.js', './image-worker.ts', { workerData: data });
}

/**
 * Renders and writes `jobs` with `workers` threads, at most two jobs in flight per thread;
 * `onDone` is called once per written picture. Rejects on the first failure (or a thread that
 * exits early) after terminating every thread.
 */
export async function writeImagesInWorkers(
  jobs: readonly ImageJob[],
  workers: number,
  data: ImageWorkerData,
  onDone: () => void,
): Promise<void> {
  if (jobs.length === 0) return;
  const threads = Array.from({ length: Math.min(workers, jobs.length) }, () => startWorker(data));
  let next = 0;
  let remaining = jobs.length;
  try {
    await new Promise<void>((resolve, reject) => {
      const feed = (w: Worker): void => {
        if (next < jobs.length) {
          const id = next++;
          w.postMessage({ id, job: jobs[id] });
        }
      };
      for (const w of threads) {
        w.on('message', (m: ImageWorkerReply) => {
          if (m.error !== undefined) {
            reject(new Error(`${jobs[m.id]?.file ?? 'image'}: ${m.error}`));
            return;
          }
          onDone();
          if (--remaining === 0) resolve();
          else feed(w);
        });
        w.on('error', reject);
        w.on('exit', (code) => {
          if (remaining > 0) reject(new Error(`demo image worker exited with code ${code} before the pictures were written`));
        });
        for (let k = 0; k < IN_FLIGHT_PER_WORKER; k++) feed(w);
      }
    });
  } finally {
    await Promise.all(threads.map((w) => w.terminate()));
  }
}
