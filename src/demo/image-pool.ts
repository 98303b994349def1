/**
 * Writes the generator's pictures from worker threads, so that drawing (JavaScript) and JPEG
 * encoding use every core: on the calling thread alone, drawing is serialised and the generator
 * used about one core.
 *
 * @module
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { ImageJob } from './render.js';

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

// The worker is a bundle entry of its own (dist/demo-image-worker.js, beside the chunk this code
// is in). From the sources (tests, tsx) it is the TypeScript file, imported through tsx's API:
// Node 20 does not pass `--import` loaders on to worker threads. (Same scheme as the job worker.)
function startWorker(data: ImageWorkerData): Worker {
  const here = import.meta.url;
  if (!here.endsWith('.ts')) return new Worker(new URL('./demo-image-worker.js', here), { workerData: data });
  const tsx = pathToFileURL(createRequire(here).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href;
  const entry = new URL('./image-worker.ts', here).href;
  const source = `import { tsImport } from ${JSON.stringify(tsx)}; await tsImport(${JSON.stringify(entry)}, ${JSON.stringify(here)});`;
  return new Worker(new URL(`data:text/javascript,${encodeURIComponent(source)}`), { workerData: data });
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
