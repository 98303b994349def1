import type { JsonValue } from '../../stores/types.js';
import { redactUri } from '../../stores/uri.js';
import type { JobKind } from '../../pipeline/jobs.js';

/** Where a job stands in a queue. */
export type QueuedJobState = 'waiting' | 'active' | 'completed' | 'failed' | 'missing';

/** What a queue knows about a job. */
export interface QueuedJobStatus {
  /** `waiting` (not started, or back in line after its worker died), `active`, `completed`, `failed`, or `missing` (never enqueued, or removed). */
  state: QueuedJobState;
  /** Why it failed, for `failed`. */
  reason?: string;
}

/** A job as it travels through a queue: plain data, no secrets. */
export interface QueuedJob {
  /** Job id (the `api_jobs` record's `_id`). */
  id: string;
  /** What it does. */
  kind: JobKind;
}

/** A repeatable pipeline run. */
export interface ScheduleSpec {
  /** Schedule id, e.g. `weekly-retrain`. */
  id: string;
  /** Cron expression with 5 or 6 fields, e.g. `0 3 * * 1` (Mondays at 03:00). */
  cron: string;
  /** IANA time zone of the expression (default UTC). */
  timezone?: string;
  /** The pipeline run each firing starts (the body of `POST /pipeline-runs`). */
  run: { [key: string]: JsonValue };
}

/** A schedule as listed: its spec and when it fires next. */
export interface ScheduleInfo extends ScheduleSpec {
  /** Next firing (ISO-8601), `null` when unknown. */
  next: string | null;
}

/** A piece of a job's work spread over the queue's workers (a slice of a batch prediction). */
export interface JobChunk {
  /** The job it belongs to. */
  jobId: string;
  /** Its position among the job's chunks (the merge order). */
  index: number;
  /** What to do: interpreted by the workers' chunk handler. */
  work: { [key: string]: JsonValue };
}

/**
 * A queue that carries jobs from the servers that accept them to worker processes (see
 * `bullmqQueue`). Jobs' records, progress, cancellation requests and admission stay in the store;
 * the queue only decides which worker runs what, and notices workers that die.
 */
export interface JobQueue {
  /** Where it is, credentials replaced by `***` (for logs and errors). */
  readonly url: string;
  /** Enqueues a job; a job already in the queue under this id is left as it is. */
  enqueue(job: QueuedJob): Promise<void>;
  /** Removes a job that no worker has started; resolves `false` when one has (or it is gone). */
  remove(id: string): Promise<boolean>;
  /** What the queue knows about a job. */
  status(id: string): Promise<QueuedJobStatus>;
  /**
   * Runs chunks of a job on every worker and resolves their results in chunk order; rejects with
   * the first chunk's failure. Aborting `signal` removes the chunks no worker has started.
   */
  spread(
    chunks: readonly JobChunk[],
    options?: {
      signal?: AbortSignal;
      onChunkDone?: (index: number, result: JsonValue) => void;
    }
  ): Promise<JsonValue[]>;
  /** Creates or replaces a schedule. */
  upsertSchedule(schedule: ScheduleSpec): Promise<ScheduleInfo>;
  /** Every schedule. */
  listSchedules(): Promise<ScheduleInfo[]>;
  /** Removes a schedule; resolves `false` when there was none. */
  removeSchedule(id: string): Promise<boolean>;
  /** Number of worker processes listening. */
  workers(): Promise<number>;
  /** Closes its connections. */
  close(): Promise<void>;
}

/** What a worker process does with what it takes from the queue. */
export interface QueueHandlers {
  /** Runs a job; `attempt` is 2 when a worker died running it and the queue handed it out again. */
  job(job: QueuedJob, attempt: number, signal: AbortSignal): Promise<JsonValue>;
  /** Runs one chunk of a spread job. */
  chunk(chunk: JobChunk, signal: AbortSignal): Promise<JsonValue>;
  /** A schedule fired: starts its pipeline run. */
  fire(schedule: ScheduleSpec): Promise<JsonValue>;
}

/** Options of a queue worker. */
export interface QueueWorkerOptions {
  /** Jobs run at once by this process (default 1); as many chunks of spread jobs run beside them. */
  concurrency?: number;
  /**
   * A job whose worker has not renewed its lock for this long is taken from it and handed out
   * again or failed (default 30,000 ms). Jobs run in worker threads, so the lock is renewed even
   * while a training holds its thread.
   */
  lockDurationMs?: number;
  /** How often this worker looks for jobs of dead workers (default 30,000 ms). */
  stalledIntervalMs?: number;
}

/** A running queue worker. */
export interface QueueWorker {
  /** Stops taking jobs, cancels the running ones and waits for them. */
  close(): Promise<void>;
}

/** A queue's connection string with its password replaced by `***`. */
export function redactQueueUrl(url: string): string {
  // A user name alone is a password (`redis://secret@host`); `user:password` (up to the last `@`)
  // and a `?password=` (ioredis reads it) are hidden by `redactUri`.
  return redactUri(url.replace(/^(\w+:\/\/)[^@/:?#]*@/, '$1***@'));
}

/**
 * Why `timezone` is not a time zone a schedule can use, or `undefined` when it is (an IANA name;
 * the cron library would otherwise fail with an unrelated message).
 */
export function timeZoneProblem(timezone: string): string | undefined {
  try {
    new Intl.DateTimeFormat('en', { timeZone: timezone });
    return undefined;
  } catch {
    return `unknown time zone ${JSON.stringify(timezone)} (an IANA name, e.g. Europe/Paris or UTC)`;
  }
}
