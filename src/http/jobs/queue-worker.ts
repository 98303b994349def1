import type { Pipeline } from '../../pipeline/pipeline.js';
import type { JobParamsByKind } from '../../pipeline/jobs.js';
import type { StageRunOptions } from '../../progress.js';
import type { BatchPredictionSummary } from '../../stages/predict/predictor.js';
import { currentData } from '../../stages/views.js';
import type { JsonValue } from '../../stores/types.js';
import { workerExecutor, type JobExecutor } from './executor.js';
import { isFinal, JobManager } from './manager.js';
import type { JobQueue, QueueWorker, QueueWorkerOptions } from './queue.js';
import { PipelineRuns, type PipelineRunSpec } from './runs.js';

/** Options of {@link startQueueWorker}. */
export interface QueueWorkerRuntimeOptions extends QueueWorkerOptions {
  /** The pipeline jobs run on (its store, plugins, model kinds); jobs run in worker threads rebuilt from its blueprint. */
  pipeline: Pipeline;
  /** The queue jobs are enqueued on (to start the next step of a pipeline run, and to spread chunks). */
  queue: JobQueue;
  /** Starts taking work: `startBullmqWorker` bound to the queue's URL. */
  listen: (handlers: import('./queue.js').QueueHandlers, options: QueueWorkerOptions) => Promise<QueueWorker>;
  /** Rows per chunk of a spread batch prediction (default: the rows split four ways per worker, 200 to 5,000). */
  chunkRows?: number;
  /** Where to say what it does (default: nowhere). */
  log?: (line: string) => void;
}

const BATCH_SUMMARY_KEYS = ['count', 'withImage', 'seconds'] as const;

function summaryOf(value: JsonValue): BatchPredictionSummary {
  const v = value as unknown as BatchPredictionSummary;
  for (const key of BATCH_SUMMARY_KEYS) if (typeof v?.[key] !== 'number') throw new Error(`a prediction chunk answered without ${key}`);
  return v;
}

/**
 * A job executor for queue workers: batch predictions of more rows than one chunk are cut into
 * slices of the stored test rows, run by every worker of the queue, and merged in slice order;
 * every other job runs in a worker thread of this process.
 */
function spreadingExecutor(pipeline: Pipeline, queue: JobQueue, threads: JobExecutor, chunkRows: number | undefined): JobExecutor {
  return {
    async execute(kind, params, options) {
      if (kind !== 'predict' || !options.jobId) return threads.execute(kind, params, options);
      const { signal, onProgress } = options;
      const started = Date.now();
      const ref = (params as JobParamsByKind['predict']).model ?? 'champion';
      const version = (await pipeline.registry.get(ref))?.version;
      if (version === undefined) throw new Error(`no model version ${JSON.stringify(ref)} to predict with`);
      const total = await (await currentData(pipeline.store)).rows.xTest.count();
      const workers = Math.max(1, await queue.workers());
      const size = chunkRows ?? Math.min(5_000, Math.max(200, Math.ceil(total / (workers * 4))));
      const count = Math.ceil(total / size);
      // Every chunk predicts with the same version, even if the champion changes meanwhile.
      if (count <= 1) return threads.execute('predict', { model: version }, options);
      let done = 0;
      const results = await queue.spread(
        Array.from({ length: count }, (_, index) => ({
          jobId: options.jobId as string,
          index,
          work: { model: version, skip: index * size, limit: size },
        })),
        {
          ...(signal ? { signal } : {}),
          onChunkDone: (_i, result) => {
            done += summaryOf(result).count;
            onProgress?.({
              stage: 'predict',
              phase: 'test',
              done,
              total,
              unit: 'products',
            });
          },
        }
      );
      const parts = results.map(summaryOf);
      const perClass: Record<string, number> = {};
      for (const p of parts) for (const [code, n] of Object.entries(p.perClass)) perClass[code] = (perClass[code] ?? 0) + n;
      const seconds = (Date.now() - started) / 1000;
      const merged = parts.reduce(
        (a, p) => ({
          count: a.count + p.count,
          withImage: a.withImage + p.withImage,
        }),
        { count: 0, withImage: 0 }
      );
      const summary: BatchPredictionSummary = {
        modelVersion: version,
        ...merged,
        seconds,
        productsPerSecond: merged.count / seconds,
        output: parts[0]?.output ?? 'predictions',
        perClass,
      };
      return { ...summary, chunks: count } as unknown as JsonValue;
    },
  };
}

/**
 * A queue worker process's work: runs queued jobs (in worker threads), predicts chunks of spread
 * batch predictions (on this thread, keeping the model loaded between chunks), starts the
 * pipeline runs schedules fire, and starts the next step of a run when it finishes one.
 */
export async function startQueueWorker(options: QueueWorkerRuntimeOptions): Promise<QueueWorker> {
  const { pipeline, queue } = options;
  const log = options.log ?? (() => undefined);
  const threads = workerExecutor(pipeline.blueprint());
  let runs: PipelineRuns | undefined;
  const jobs = new JobManager(pipeline.store.documents, {
    executor: spreadingExecutor(pipeline, queue, threads, options.chunkRows),
    queue,
    onFinish: (job) => {
      log(`job ${job._id} (${job.kind}) ${job.state}${job.error ? `: ${job.error.message}` : ''}`);
      if (job.runId) void runs?.jobFinished(job).catch((e: unknown) => log(`pipeline run ${job.runId}: could not advance: ${(e as Error).message}`));
    },
  });
  await jobs.init();
  runs = new PipelineRuns(pipeline.store.documents, jobs);
  const pipelineRuns = runs;

  const predictChunk = async (jobId: string, work: { [key: string]: JsonValue }, signal: AbortSignal) => {
    const controller = new AbortController();
    const onAbort = () => controller.abort(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    // The job's cancellation reaches its chunks through its record (its coordinator may be elsewhere).
    const poll = setInterval(() => {
      void jobs.get(jobId).then((job) => {
        if (!job || isFinal(job.state) || job.cancelRequested) controller.abort(new Error(`job ${jobId} is ${job?.state ?? 'gone'}`));
      });
    }, 1_000);
    try {
      const run: StageRunOptions & {
        model: number;
        rows: { skip: number; limit: number };
      } = {
        model: work.model as number,
        rows: { skip: work.skip as number, limit: work.limit as number },
        signal: controller.signal,
      };
      return (await pipeline.predict(run)) as unknown as JsonValue;
    } finally {
      clearInterval(poll);
      signal.removeEventListener('abort', onAbort);
    }
  };

  const worker = await options.listen(
    {
      job: (job, attempt, signal) => {
        log(`job ${job.id} (${job.kind}) taken${attempt > 1 ? ` again (attempt ${attempt}: its worker died)` : ''}`);
        return jobs.runQueued(job.id, attempt, signal);
      },
      chunk: (chunk, signal) => predictChunk(chunk.jobId, chunk.work, signal),
      fire: async (schedule) => {
        const run = await pipelineRuns.start(schedule.run as unknown as PipelineRunSpec, { scheduleId: schedule.id });
        log(`schedule ${schedule.id} fired: pipeline run ${run._id}`);
        return { runId: run._id };
      },
    },
    options
  );
  return {
    async close() {
      await worker.close();
      await jobs.close();
    },
  };
}
