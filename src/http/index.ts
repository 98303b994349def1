/**
 * The HTTP API of rakuten-pipeline: a Fastify plugin ({@link rakutenApi}) with the classic
 * endpoints as jobs, a ready server ({@link createServer}), API keys and job execution.
 *
 * @example
 * ```ts
 * import { createServer } from 'rakuten-pipeline/http';
 * const app = await createServer({ storeUri: 'mongodb://user:password@db/rakuten_db', plugins: ['./my-plugin.js'] });
 * await app.listen({ port: 8000 });
 * ```
 *
 * @module rakuten-pipeline/http
 */
export { rakutenApi, DEFAULT_KEPT_ONLINE_PREDICTIONS, DEFAULT_MAX_IMAGE_BYTES } from './plugin.js';
export type { AuthOptions, RakutenApiOptions, RecordPredictions } from './options.js';
export { createServer, type ServerOptions } from './server.js';
export { ApiKeys, apiKeysFromEnv, parseApiKeys, API_KEYS_ENV, API_KEYS_FILE_ENV, MIN_API_KEY_LENGTH } from './auth.js';
export { ApiMetrics, type MetricSources } from './metrics.js';
export { HttpError } from './context.js';
export { JobManager, JobConflictError, isFinal, type JobManagerOptions } from './jobs/manager.js';
export { inlineExecutor, workerExecutor, type JobExecutor } from './jobs/executor.js';
export { FINAL_JOB_STATES, type JobRecord, type JobState, type JobView } from './jobs/types.js';
export { RETRIED_AFTER_WORKER_DEATH, type CancellationDoc } from './jobs/manager.js';
export { JobAdmission, type AdmissionDoc, type AdmittedJob } from './jobs/admission.js';
export {
  PipelineRuns,
  RunStateError,
  type PipelineRunRecord,
  type PipelineRunSpec,
  type PipelineRunState,
  type RunError,
  type RunStep,
  type RunStepState,
} from './jobs/runs.js';
// The rest of the queue's types come with its implementation, from `rakuten-pipeline/queue`.
export type { JobQueue } from './jobs/queue.js';
