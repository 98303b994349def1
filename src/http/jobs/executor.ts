import { Worker } from 'node:worker_threads';
import type { ProgressEvent, StageRunOptions } from '../../progress.js';
import type { JsonValue } from '../../stores/types.js';
import { runJob, type JobKind, type JobParamsByKind } from '../../pipeline/jobs.js';
import { scrubSecrets } from '../../stores/uri.js';
import type { Pipeline, PipelineBlueprint } from '../../pipeline/pipeline.js';
import { startEntryWorker } from '../../util/worker-entry.js';

/** Runs the work of a job somewhere: on this thread, in a worker thread, ... */
export interface JobExecutor {
  /** Runs a job's work to its end; rejects with the failure (or the abort reason when cancelled). */
  execute<K extends JobKind>(kind: K, params: JobParamsByKind[K], options: StageRunOptions & { jobId?: string }): Promise<JsonValue>;
}

/**
 * Runs jobs on the calling thread, on `pipeline`. Use it for plugins that cannot be imported by
 * module specifier; CPU-heavy stages (training) then hold up the server's event loop between
 * their awaits.
 */
export function inlineExecutor(pipeline: Pipeline): JobExecutor {
  return { execute: (kind, params, { onProgress, signal }) => runJob(pipeline, kind, params, { ...(onProgress ? { onProgress } : {}), ...(signal ? { signal } : {}) }) };
}

/** Message from a job worker. */
export type WorkerReply =
  | { type: 'progress'; event: ProgressEvent }
  | { type: 'done'; result: JsonValue }
  | { type: 'failed'; message: string };

/** What a job worker is started with. */
export interface JobWorkerData {
  /** Job kind. */
  kind: JobKind;
  /** Its parameters. */
  params: JsonValue;
  /** The pipeline the worker rebuilds (its store's connection string with credentials: memory only). */
  pipeline: PipelineBlueprint;
  /**
   * Cancellation flag shared with the worker (an `Int32Array` over it: 1 once cancelled). The
   * worker reads it at every progress event, so a cancellation reaches work that never yields
   * to the worker's event loop, such as a training's epoch loop, which the `cancel` message
   * alone would only reach once that work is over.
   */
  cancelFlag: SharedArrayBuffer;
}

// The worker is a bundle entry of its own (dist/job-worker.js); from the sources, the TypeScript file.
function startWorker(data: JobWorkerData): Worker {
  return startEntryWorker(import.meta.url, 'job-worker.js', './worker.ts', { workerData: data });
}

/**
 * Runs each job in a worker thread of its own that rebuilds the pipeline from its blueprint (the
 * same store, plugins, model kinds and preprocessing), so training and preprocessing never block
 * the server's event loop: requests are served on one core while the job uses the other.
 * Cancelling asks the worker to stop between batches and terminates it if it has not stopped
 * after `graceMs` (default 30 s).
 */
export function workerExecutor(pipeline: PipelineBlueprint, options: { graceMs?: number } = {}): JobExecutor {
  const graceMs = options.graceMs ?? 30_000;
  return {
    execute(kind, params, { onProgress, signal }) {
      const cancelFlag = new SharedArrayBuffer(4);
      const worker = startWorker({ kind, params: params as unknown as JsonValue, pipeline, cancelFlag });
      return new Promise<JsonValue>((resolve, reject) => {
        let settled = false;
        let killTimer: NodeJS.Timeout | undefined;
        const settle = (fn: () => void) => {
          if (settled) return;
          settled = true;
          clearTimeout(killTimer);
          signal?.removeEventListener('abort', onAbort);
          fn();
        };
        const onAbort = () => {
          Atomics.store(new Int32Array(cancelFlag), 0, 1);
          worker.postMessage({ type: 'cancel' });
          killTimer = setTimeout(() => {
            void worker.terminate();
            settle(() => reject(signal?.reason ?? new Error('cancelled')));
          }, graceMs);
          killTimer.unref();
        };
        if (signal?.aborted) onAbort();
        else signal?.addEventListener('abort', onAbort, { once: true });
        // The job is over when the worker has exited (its store closed), not at its last message.
        let outcome: { ok: true; result: JsonValue } | { ok: false; error: unknown } | undefined;
        worker.on('message', (m: WorkerReply) => {
          if (m.type === 'progress') onProgress?.(m.event);
          else if (m.type === 'done') outcome = { ok: true, result: m.result };
          else outcome = { ok: false, error: signal?.aborted ? (signal.reason ?? new Error(m.message)) : new Error(m.message) };
          if (m.type !== 'progress') setTimeout(() => void worker.terminate(), 10_000).unref();
        });
        // An uncaught exception of the worker (a driver's unhandled 'error' event) may show the connection string.
        worker.on('error', (e) => (outcome ??= { ok: false, error: new Error(scrubSecrets(e.message, pipeline.storeUri)) }));
        worker.on('exit', (code) =>
          settle(() => {
            if (outcome?.ok) resolve(outcome.result);
            else reject(outcome ? outcome.error : new Error(`job worker exited with code ${code} before finishing`));
          }),
        );
      });
    },
  };
}
