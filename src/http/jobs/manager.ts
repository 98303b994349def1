import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { ProgressEvent } from '../../progress.js';
import { COLLECTIONS } from '../../collections.js';
import type { BaseDocument, DocumentCollection, DocumentStore, JsonValue } from '../../stores/types.js';
import type { JobExecutor } from './executor.js';
import { conflicts, type JobKind, type JobParamsByKind } from '../../pipeline/jobs.js';
import { JobAdmission, type AdmissionDoc, type AdmittedJob } from './admission.js';
import type { JobQueue } from './queue.js';
import { FINAL_JOB_STATES, type JobRecord, type JobState } from './types.js';

// The owner of a job waiting in a queue, until a worker takes it.
const QUEUED_OWNER_PREFIX = 'queue ';

/** A request to cancel a job, in `job_cancellations`: read by whichever process runs the job. */
export interface CancellationDoc extends BaseDocument {
  /** When it was asked (ISO-8601). */
  requestedAt: string;
}

/**
 * Job kinds run again when the worker running them died: their stages commit atomically and
 * write by key, so a second run leaves what one run leaves. A training is not: it would silently
 * spend its hours again and register another version; it fails, to be started again on purpose.
 */
export const RETRIED_AFTER_WORKER_DEATH: readonly JobKind[] = ['load', 'prepare', 'evaluate', 'predict'];

/** A job was refused because a conflicting one is running. */
export class JobConflictError extends Error {
  /** The running job in the way. */
  readonly running: JobRecord;
  /** Creates the error. */
  constructor(kind: JobKind, running: JobRecord) {
    super(`cannot start a ${kind} job while ${running.kind} job ${running._id} is ${running.state}`);
    this.name = 'JobConflictError';
    this.running = running;
  }
}

/** Options of {@link JobManager}. */
export interface JobManagerOptions {
  /** Where jobs run in this process (a server without a queue, or a queue worker). */
  executor: JobExecutor;
  /** When set, {@link JobManager.start} enqueues jobs for queue workers instead of running them here. */
  queue?: JobQueue;
  /** Called when a job reaches a final state (after it is stored). */
  onFinish?: (job: JobRecord) => void;
  /** How often progress and heartbeats are written to the store, in ms (default 1,000). */
  persistEveryMs?: number;
  /** A running job whose owner has been silent this long is taken as dead, in ms (default 60,000). */
  staleAfterMs?: number;
}

interface ActiveJob {
  record: JobRecord;
  controller: AbortController;
  done: Promise<void>;
  /** The job's writes, one after the other: a progress write must never land after the final one. */
  writes: Promise<void>;
  /** Set once the final record is queued: later progress and heartbeat writes are dropped. */
  finishing: boolean;
}

/**
 * Jobs of one store: starts them (refusing conflicting ones), tracks state and progress in the
 * `api_jobs` collection — so every server instance and worker on the store, and a restarted one,
 * can answer for them — and cancels them on request or on close.
 *
 * Without a queue, jobs run in this process. With one, {@link JobManager.start} enqueues them and
 * queue workers run them through {@link JobManager.runQueued}. Either way conflicts are exact across
 * processes (one compare-and-set admission document), and a cancellation reaches the process
 * running the job within a second (a `job_cancellations` document it polls).
 */
export class JobManager {
  /** This instance's name in the `owner` field of its jobs. */
  readonly owner = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private readonly active = new Map<string, ActiveJob>();
  private readonly persistEveryMs: number;
  private readonly staleAfterMs: number;
  private readonly jobs: DocumentCollection<JobRecord>;
  private readonly cancellations: DocumentCollection<CancellationDoc>;
  private readonly admission: JobAdmission;
  private heartbeat: NodeJS.Timeout | undefined;
  private cancelPoll: NodeJS.Timeout | undefined;

  /** Creates a manager over the store's job collections. */
  constructor(
    store: DocumentStore,
    private readonly options: JobManagerOptions,
  ) {
    this.jobs = store.collection<JobRecord>(COLLECTIONS.jobs);
    this.cancellations = store.collection<CancellationDoc>(COLLECTIONS.jobCancellations);
    this.admission = new JobAdmission(store.collection<AdmissionDoc>(COLLECTIONS.jobAdmission));
    this.persistEveryMs = options.persistEveryMs ?? 1_000;
    this.staleAfterMs = options.staleAfterMs ?? 60_000;
  }

  /** The queue jobs go to, if any. */
  get queue(): JobQueue | undefined {
    return this.options.queue;
  }

  /** Indexes the collection and marks jobs left running by a dead instance as failed. */
  async init(): Promise<void> {
    await this.jobs.ensureIndex(['state']);
    await this.jobs.ensureIndex(['createdAt']);
    for (const job of await this.othersRunning()) await this.reconcile(job);
    this.heartbeat = setInterval(() => void this.beat(), Math.max(1_000, this.staleAfterMs / 4));
    this.heartbeat.unref();
    // Cancellations sent to another server (or to the server that queued a job a worker runs).
    this.cancelPoll = setInterval(() => void this.pollCancellations(), 1_000);
    this.cancelPoll.unref();
  }

  private async pollCancellations(): Promise<void> {
    for (const entry of this.active.values()) {
      if (entry.controller.signal.aborted) continue;
      const asked = await this.cancellations.get(entry.record._id).catch(() => undefined);
      if (asked) this.abortActive(entry, 'cancelled by request');
    }
  }

  private abortActive(entry: ActiveJob, reason: string): void {
    entry.record = { ...entry.record, cancelRequested: true };
    entry.controller.abort(new Error(reason));
    void this.persist(entry);
  }

  /** Jobs currently running in this instance. */
  get running(): readonly JobRecord[] {
    // Not those whose final record is written and which only wait for their slot's release.
    return [...this.active.values()].map((a) => a.record).filter((r) => !isFinal(r.state));
  }

  private isStale(job: JobRecord): boolean {
    return Date.now() - Date.parse(job.heartbeatAt) > this.staleAfterMs;
  }

  private async othersRunning(): Promise<JobRecord[]> {
    const out: JobRecord[] = [];
    for await (const job of this.jobs.find({ state: { $in: ['queued', 'running'] } })) if (!this.active.has(job._id)) out.push(job);
    return out;
  }

  private async beat(): Promise<void> {
    await Promise.all([...this.active.values()].map((a) => this.persist(a)));
  }

  /**
   * Writes a running job's current record, with a fresh heartbeat, after its earlier writes
   * (the store may run concurrent writes in any order: MongoDB sends them on pooled
   * connections), unless its final record is already queued.
   */
  private persist(entry: ActiveJob): Promise<void> {
    entry.writes = entry.writes.then(async () => {
      if (entry.finishing) return;
      entry.record = { ...entry.record, heartbeatAt: new Date().toISOString() };
      await this.jobs.upsertMany([entry.record]).catch(() => undefined);
    });
    return entry.writes;
  }

  /**
   * Starts a job and returns its record at once: `running` here, or `queued` for a queue's
   * workers. Throws {@link JobConflictError} when a job it conflicts with is queued or running
   * anywhere on the store; of two conflicting jobs started at the same instant on two servers,
   * exactly one starts.
   */
  async start<K extends JobKind>(kind: K, params: JobParamsByKind[K], options: { id?: string; runId?: string } = {}): Promise<JobRecord> {
    const local = this.running.find((j) => conflicts(kind, j.kind));
    if (local) throw new JobConflictError(kind, local);
    const queue = this.options.queue;
    const now = new Date().toISOString();
    const record: JobRecord = {
      _id: options.id ?? randomUUID(),
      kind,
      state: queue ? 'queued' : 'running',
      params: params as unknown as { [key: string]: JsonValue },
      createdAt: now,
      startedAt: queue ? null : now,
      finishedAt: null,
      progress: null,
      result: null,
      error: null,
      cancelRequested: false,
      owner: queue ? `${QUEUED_OWNER_PREFIX}${queue.url}` : this.owner,
      heartbeatAt: now,
      ...(options.runId ? { runId: options.runId } : {}),
    };
    const blocker = await this.admission.admit({ id: record._id, kind, admittedAt: now }, (held) => this.isOver(held));
    if (blocker) {
      const holder = (await this.jobs.get(blocker.id)) ?? placeholder(blocker);
      throw new JobConflictError(kind, holder);
    }
    if (!queue) {
      const entry = this.track(record);
      try {
        await this.jobs.upsertMany([record]);
      } catch (e) {
        this.active.delete(record._id);
        await this.admission.release(record._id);
        throw e;
      }
      entry.done = this.run(entry, kind, params);
      return record;
    }
    try {
      await this.jobs.upsertMany([record]);
      await queue.enqueue({ id: record._id, kind });
    } catch (e) {
      await this.finish(record, 'failed', null, `could not enqueue: ${e instanceof Error ? e.message : String(e)}`);
      throw e;
    }
    return record;
  }

  /**
   * Runs a queued job in this process (a queue worker took it), writing its state, progress and
   * outcome like a job started here. `attempt` above 1 means a worker died running it: kinds not
   * in {@link RETRIED_AFTER_WORKER_DEATH} then fail with the reason instead of running again.
   * Resolves the result; rejects when the job failed or was cancelled.
   */
  async runQueued(id: string, attempt: number, signal?: AbortSignal): Promise<JsonValue> {
    const stored = await this.jobs.get(id);
    if (!stored) throw new Error(`job ${id} has no record in ${COLLECTIONS.jobs}`);
    if (isFinal(stored.state)) return stored.result;
    if (attempt > 1 && !RETRIED_AFTER_WORKER_DEATH.includes(stored.kind)) {
      const message = `interrupted: the worker running it stopped (killed or crashed) before it finished; ${stored.kind} jobs are not retried, start it again`;
      await this.finish(stored, 'failed', null, message);
      throw new Error(message);
    }
    const now = new Date().toISOString();
    const record: JobRecord = { ...stored, state: 'running', startedAt: now, owner: this.owner, heartbeatAt: now, progress: null, attempt };
    const entry = this.track(record);
    signal?.addEventListener('abort', () => entry.controller.abort(signal.reason), { once: true });
    if (await this.cancellations.get(id)) this.abortActive(entry, 'cancelled by request');
    await this.persist(entry);
    entry.done = this.run(entry, stored.kind, stored.params as never);
    await entry.done;
    const final = await this.jobs.get(id);
    if (final?.state !== 'succeeded') throw new Error(final?.error?.message ?? `job ${id} ended ${final?.state ?? 'without a record'}`);
    return final.result;
  }

  // A job this process runs from now on.
  private track(record: JobRecord): ActiveJob {
    const entry: ActiveJob = { record, controller: new AbortController(), done: Promise.resolve(), writes: Promise.resolve(), finishing: false };
    this.active.set(record._id, entry);
    return entry;
  }

  /** Whether an admitted job is over (its slot then goes to others): finished, or lost with its process. */
  private async isOver(held: AdmittedJob): Promise<boolean> {
    // A job of this process is over once its final record is written, its slot released next.
    const live = this.active.get(held.id);
    if (live) return isFinal(live.record.state);
    const job = await this.jobs.get(held.id);
    // Admitted but not yet written: the starting process is between its two writes.
    if (!job) return Date.now() - Date.parse(held.admittedAt) > this.staleAfterMs;
    return isFinal((await this.reconcile(job)).state);
  }

  private async run<K extends JobKind>(entry: ActiveJob, kind: K, params: JobParamsByKind[K]): Promise<void> {
    let lastWrite = 0;
    const onProgress = (event: ProgressEvent) => {
      entry.record = { ...entry.record, progress: event };
      const now = Date.now();
      if (now - lastWrite >= this.persistEveryMs) {
        lastWrite = now;
        void this.persist(entry);
      }
    };
    try {
      const result = await this.options.executor.execute(kind, params, { onProgress, signal: entry.controller.signal, jobId: entry.record._id });
      // The outcome decides, not the request: a stage that returned has committed its work even
      // if a cancellation arrived after its last checkpoint.
      await this.finishActive(entry, 'succeeded', result, null);
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      await this.finishActive(entry, entry.controller.signal.aborted ? 'cancelled' : 'failed', null, message);
    } finally {
      this.active.delete(entry.record._id);
    }
  }

  // The final record of a job running here: written after its pending writes, and last.
  private async finishActive(entry: ActiveJob, state: JobState, result: JsonValue, message: string | null): Promise<void> {
    entry.finishing = true;
    await entry.writes;
    await this.finish(entry.record, state, result, message);
  }

  private async finish(job: JobRecord, state: JobState, result: JsonValue, message: string | null): Promise<JobRecord> {
    const now = new Date().toISOString();
    const latest = this.active.get(job._id)?.record ?? job;
    const record: JobRecord = { ...latest, state, result, error: message === null ? null : { message }, finishedAt: now, heartbeatAt: now };
    // The final state matters most: retried a few times (a store busy with the job's own last
    // writes, say). Should it still fail, the job goes stale and readers mark it interrupted.
    for (let attempt = 0; attempt < 4; attempt++) {
      try {
        await this.jobs.upsertMany([record]);
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 250 * 2 ** attempt));
      }
    }
    // Readers asking while onFinish runs (a pipeline run advancing) see the final record.
    const entry = this.active.get(record._id);
    if (entry) entry.record = record;
    await this.admission.release(record._id).catch(() => undefined);
    await this.cancellations.deleteMany({ _id: record._id }).catch(() => 0);
    this.options.onFinish?.(record);
    return record;
  }

  // A job left queued or running by an instance that has gone silent is over: it is recorded as
  // failed when read, so clients polling it are not left waiting for ever. With a queue, the
  // queue knows: a job waiting or active there is alive (a dead worker's job is handed out
  // again or failed by the queue), one the queue failed is failed with the queue's reason.
  private async reconcile(job: JobRecord): Promise<JobRecord> {
    if (this.active.has(job._id) || isFinal(job.state)) return job;
    const queue = this.options.queue;
    if (queue) {
      const status = await queue.status(job._id).catch(() => undefined);
      if (!status || status.state === 'waiting' || status.state === 'active') return job;
      // Read again: the worker writes the final record before the queue hears of the outcome.
      const latest = (await this.jobs.get(job._id)) ?? job;
      if (isFinal(latest.state)) return latest;
      // Missing but heartbeating: Redis lost it (restarted empty) while its worker runs it.
      if (status.state === 'missing' && !this.isStale(latest)) return latest;
      const reason =
        status.state === 'failed'
          ? `interrupted: ${status.reason ?? 'the queue failed it'}`
          : status.state === 'missing'
            ? 'interrupted: the job is no longer in the queue (was Redis flushed?)'
            : 'interrupted: the worker stopped before it recorded the outcome';
      return this.finish(latest, 'failed', null, reason);
    }
    // Waiting in a queue this manager does not see (a server started without --queue on the
    // store of a queue deployment): only the queue's side can judge it.
    if (job.state === 'queued' && job.owner.startsWith(QUEUED_OWNER_PREFIX)) return job;
    if (!this.isStale(job)) return job;
    return this.finish(job, 'failed', null, 'interrupted: the server running it stopped before it finished');
  }

  /** The job with this id (live state for jobs running here), if any. */
  async get(id: string): Promise<JobRecord | undefined> {
    const live = this.active.get(id)?.record;
    if (live) return live;
    const stored = await this.jobs.get(id);
    return stored && this.reconcile(stored);
  }

  /** The most recent jobs, newest first, optionally of one state. */
  async list(options: { state?: JobState; limit?: number } = {}): Promise<JobRecord[]> {
    const out: JobRecord[] = [];
    const filter = options.state ? { state: options.state } : {};
    for await (const job of this.jobs.find(filter, { sort: { field: 'createdAt', direction: -1 }, limit: options.limit ?? 50 })) {
      out.push(this.active.get(job._id)?.record ?? job);
    }
    return Promise.all(out.map((job) => this.reconcile(job)));
  }

  /**
   * Asks a job to stop, wherever it runs. Returns its record with `cancelRequested` set (a job
   * still waiting in the queue is removed from it and is `cancelled` at once), `undefined` when
   * there is no such job, or the final record unchanged when it had already finished.
   */
  async cancel(id: string): Promise<JobRecord | undefined> {
    const entry = this.active.get(id);
    if (entry) {
      this.abortActive(entry, 'cancelled by request');
      await entry.writes;
      return entry.record;
    }
    const job = await this.get(id);
    if (!job || isFinal(job.state)) return job;
    await this.cancellations.insertIfAbsent({ _id: id, requestedAt: new Date().toISOString() });
    const queue = this.options.queue;
    if (job.state === 'queued' && queue && (await queue.remove(id))) {
      return this.finish({ ...job, cancelRequested: true }, 'cancelled', null, 'cancelled by request before it started');
    }
    return { ...job, cancelRequested: true };
  }

  /** Waits until the job, if running here, has reached a final state. */
  async settled(id: string): Promise<void> {
    await this.active.get(id)?.done;
  }

  /** Number of jobs per state among the most recent ones (for metrics). */
  async countByState(): Promise<Record<JobState, number>> {
    const states: JobState[] = ['queued', 'running', 'succeeded', 'failed', 'cancelled'];
    const counts = await Promise.all(states.map((state) => this.jobs.count({ state })));
    return Object.fromEntries(states.map((s, i) => [s, counts[i] ?? 0])) as Record<JobState, number>;
  }

  /** Cancels every job running here and waits for them to stop. */
  async close(): Promise<void> {
    clearInterval(this.heartbeat);
    clearInterval(this.cancelPoll);
    const entries = [...this.active.values()];
    for (const e of entries) e.controller.abort(new Error('server shutting down'));
    await Promise.all(entries.map((e) => e.done));
  }
}

// A holder whose record could not be read: enough to name it in the conflict.
function placeholder(held: AdmittedJob): JobRecord {
  return {
    _id: held.id, kind: held.kind, state: 'queued', params: {}, createdAt: held.admittedAt, startedAt: null, finishedAt: null,
    progress: null, result: null, error: null, cancelRequested: false, owner: 'unknown', heartbeatAt: held.admittedAt,
  };
}

/** Whether a job state is final. */
export function isFinal(state: JobState): boolean {
  return FINAL_JOB_STATES.includes(state);
}
