import type { ProgressEvent } from '../../progress.js';
import type { BaseDocument, JsonValue } from '../../stores/types.js';
import type { JobKind } from '../../pipeline/jobs.js';

/** Life cycle of a job: `queued` → `running` → one of the final states. */
export type JobState = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

/** States a job does not leave. */
export const FINAL_JOB_STATES: readonly JobState[] = ['succeeded', 'failed', 'cancelled'];

/** A job as stored in `api_jobs` and answered by `GET /jobs/{id}`. */
export interface JobRecord extends BaseDocument {
  /** What the job does. */
  kind: JobKind;
  /** Where it is in its life cycle. */
  state: JobState;
  /** Parameters it was started with. */
  params: { [key: string]: JsonValue };
  /** When it was accepted (ISO-8601). */
  createdAt: string;
  /** When its work started (ISO-8601), `null` before. */
  startedAt: string | null;
  /** When it reached a final state (ISO-8601), `null` before. */
  finishedAt: string | null;
  /** Last progress event, `null` before the first. */
  progress: ProgressEvent | null;
  /** Summary of what it did, once `succeeded`. */
  result: JsonValue;
  /** Why it failed or was cancelled. */
  error: {
    /** Readable reason. */
    message: string;
  } | null;
  /** Whether a client asked to cancel it. */
  cancelRequested: boolean;
  /** Server instance running it (process id and host), so other instances see whose it is. */
  owner: string;
  /** Last sign of life from its owner (ISO-8601); a running job whose owner went silent is stale. */
  heartbeatAt: string;
  /** The pipeline run it is a step of, if any. */
  runId?: string;
  /** How many times its work was started: above 1 when a queue worker died running it and it was retried. */
  attempt?: number;
}

/** A job as the HTTP API answers it: the stored record with `id` for `_id`, without bookkeeping fields. */
export type JobView = Omit<JobRecord, '_id' | 'owner' | 'heartbeatAt'> & {
  /** Job id. */
  id: string;
};
