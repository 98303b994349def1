/**
 * Scale-out on BullMQ and Redis: {@link bullmqQueue} carries jobs from servers
 * (`rakuten-pipeline serve --queue redis://...`, or `rakutenApi`'s `queue` option) to worker
 * processes ({@link startQueueWorker}, or `rakuten-pipeline worker`) on any number of machines.
 * Job records, progress, cancellations, conflicts and pipeline runs stay in the store; Redis
 * carries which worker runs what and notices workers that die. Loaded only by this entry, so
 * the core entry never imports BullMQ.
 *
 * @example
 * ```ts
 * import { createPipeline } from 'rakuten-pipeline';
 * import { bullmqQueue, startBullmqWorker, startQueueWorker } from 'rakuten-pipeline/queue';
 *
 * const url = 'redis://127.0.0.1:6379';
 * const pipeline = await createPipeline({ store: 'mongodb://user:password@db/rakuten_db' });
 * const queue = await bullmqQueue(url);
 * const worker = await startQueueWorker({ pipeline, queue, listen: (handlers, o) => startBullmqWorker(url, handlers, o), concurrency: 1 });
 * process.once('SIGTERM', async () => { await worker.close(); await queue.close(); await pipeline.close(); });
 * ```
 *
 * @module rakuten-pipeline/queue
 */
export { bullmqQueue, startBullmqWorker, type BullmqQueueOptions } from './http/jobs/bullmq.js';
export { startQueueWorker, type QueueWorkerRuntimeOptions } from './http/jobs/queue-worker.js';
export { redactQueueUrl } from './http/jobs/queue.js';
export type {
  JobChunk,
  JobQueue,
  QueueHandlers,
  QueuedJob,
  QueuedJobState,
  QueuedJobStatus,
  QueueWorker,
  QueueWorkerOptions,
  ScheduleInfo,
  ScheduleSpec,
} from './http/jobs/queue.js';
