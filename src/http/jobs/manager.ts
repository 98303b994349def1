import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { ProgressEvent } from '../../progress.js';
import type { DocumentCollection, JsonValue } from '../../stores/types.js';
import type { JobExecutor } from './executor.js';
import { conflicts, type JobKind, type JobParamsByKind } from '../../pipeline/jobs.js';
import { FINAL_JOB_STATES, type JobRecord, type JobState } from './types.js';

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
  /** Where jobs run. */
  executor: JobExecutor;
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
 * `api_jobs` collection — so every server instance on the store, and a restarted one, can answer
 * for them — and cancels them on request or on close.
 */
export class JobManager {
  /** This instance's name in the `owner` field of its jobs. */
  readonly owner = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private readonly active = new Map<string, ActiveJob>();
  private readonly persistEveryMs: number;
  private readonly staleAfterMs: number;
  private heartbeat: NodeJS.Timeout | undefined;

  /** Creates a manager over the jobs collection. */
  constructor(
    private readonly jobs: DocumentCollection<JobRecord>,
    private readonly options: JobManagerOptions,
  ) {
    this.persistEveryMs = options.persistEveryMs ?? 1_000;
    this.staleAfterMs = options.staleAfterMs ?? 60_000;
  }

  /** Indexes the collection and marks jobs left running by a dead instance as failed. */
  async init(): Promise<void> {
    await this.jobs.ensureIndex(['state']);
    await this.jobs.ensureIndex(['createdAt']);
    for (const job of await this.othersRunning()) await this.reconcile(job);
    this.heartbeat = setInterval(() => void this.beat(), Math.max(1_000, this.staleAfterMs / 4));
    this.heartbeat.unref();
  }

  /** Jobs currently running in this instance. */
  get running(): readonly JobRecord[] {
    return [...this.active.values()].map((a) => a.record);
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
   * Starts a job and returns its record at once (state `running`). Throws
   * {@link JobConflictError} when a job it conflicts with runs here or in another live instance
   * on the same store. The check across instances reads the store, so two instances starting
   * at the same instant can both pass it; within one instance it is exact.
   */
  async start<K extends JobKind>(kind: K, params: JobParamsByKind[K]): Promise<JobRecord> {
    const clash = (jobs: readonly JobRecord[]) => jobs.find((j) => conflicts(kind, j.kind));
    const local = clash(this.running);
    if (local) throw new JobConflictError(kind, local);
    const remote = clash((await this.othersRunning()).filter((j) => !this.isStale(j)));
    // Checked again after the await: another request may have started one meanwhile.
    const after = clash(this.running) ?? remote;
    if (after) throw new JobConflictError(kind, after);

    const now = new Date().toISOString();
    const record: JobRecord = {
      _id: randomUUID(),
      kind,
      state: 'running',
      params: params as unknown as { [key: string]: JsonValue },
      createdAt: now,
      startedAt: now,
      finishedAt: null,
      progress: null,
      result: null,
      error: null,
      cancelRequested: false,
      owner: this.owner,
      heartbeatAt: now,
    };
    const controller = new AbortController();
    const entry: ActiveJob = { record, controller, done: Promise.resolve(), writes: Promise.resolve(), finishing: false };
    this.active.set(record._id, entry);
    try {
      await this.jobs.upsertMany([record]);
    } catch (e) {
      this.active.delete(record._id);
      throw e;
    }
    entry.done = this.run(entry, kind, params);
    return record;
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
      const result = await this.options.executor.execute(kind, params, { onProgress, signal: entry.controller.signal });
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
    this.options.onFinish?.(record);
    return record;
  }

  // A job left queued or running by an instance that has gone silent is over: it is recorded as
  // failed when read, so clients polling it are not left waiting for ever.
  private async reconcile(job: JobRecord): Promise<JobRecord> {
    if (this.active.has(job._id) || isFinal(job.state) || !this.isStale(job)) return job;
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
   * Asks a job to stop. Returns its record (`cancelRequested` set), `undefined` when there is no
   * such job, or the final record unchanged when it had already finished. A job running in
   * another instance cannot be reached from here: its record is returned with `cancelRequested`
   * false.
   */
  async cancel(id: string): Promise<JobRecord | undefined> {
    const entry = this.active.get(id);
    if (!entry) return this.jobs.get(id);
    entry.record = { ...entry.record, cancelRequested: true };
    entry.controller.abort(new Error('cancelled by request'));
    await this.persist(entry);
    return entry.record;
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
    const entries = [...this.active.values()];
    for (const e of entries) e.controller.abort(new Error('server shutting down'));
    await Promise.all(entries.map((e) => e.done));
  }
}

/** Whether a job state is final. */
export function isFinal(state: JobState): boolean {
  return FINAL_JOB_STATES.includes(state);
}
