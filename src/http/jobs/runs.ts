import { randomUUID } from 'node:crypto';
import { COLLECTIONS } from '../../collections.js';
import { JOB_KINDS, type JobKind, type JobParamsByKind } from '../../pipeline/jobs.js';
import type { BaseDocument, DocumentCollection, DocumentStore, JsonValue } from '../../stores/types.js';
import { isFinal, type JobManager } from './manager.js';
import type { JobRecord, JobState } from './types.js';

/** State of one step of a pipeline run: `pending` until its job is started, then its job's state. */
export type RunStepState = 'pending' | JobState;

/** State of a pipeline run. */
export type PipelineRunState = 'running' | 'succeeded' | 'failed' | 'cancelled';

/** Why a step or a run failed or was cancelled. */
export interface RunError {
  /** Readable reason. */
  message: string;
}

/** One step of a pipeline run: a job of one kind. */
export interface RunStep {
  /** Its job kind. */
  kind: JobKind;
  /** Parameters its job is started with. */
  params: { [key: string]: JsonValue };
  /** Where it stands. */
  state: RunStepState;
  /** Its current job, `null` before it started. */
  jobId: string | null;
  /** Every job started for it, oldest first (more than one after a resume). */
  attempts: string[];
  /** When its current job was claimed (ISO-8601): its record is written just after. */
  claimedAt: string | null;
  /** Its job's result, once succeeded. */
  result: JsonValue;
  /** Why its job failed or was cancelled. */
  error: RunError | null;
}

/** A pipeline run, in `pipeline_runs`. */
export interface PipelineRunRecord extends BaseDocument {
  /** Bumped by every change: runs advance by compare-and-set, from whichever process finished a step. */
  revision: number;
  /** Where it stands. */
  state: PipelineRunState;
  /** Its steps in pipeline order. */
  steps: RunStep[];
  /** When it was started (ISO-8601). */
  createdAt: string;
  /** When it reached a final state (ISO-8601), `null` before. */
  finishedAt: string | null;
  /** The schedule that started it, if any. */
  scheduleId: string | null;
  /** Whether a client asked to cancel it. */
  cancelRequested: boolean;
  /** Why it failed or was cancelled. */
  error: RunError | null;
}

/** What a pipeline run does: which steps (default all five, in pipeline order) and each step's parameters. */
export interface PipelineRunSpec {
  /** Steps to run; they always run in pipeline order. */
  steps?: JobKind[];
  /** Parameters of the load step. */
  load?: Partial<JobParamsByKind['load']>;
  /** Parameters of the prepare step. */
  prepare?: JobParamsByKind['prepare'];
  /** Parameters of the train step. */
  train?: JobParamsByKind['train'];
  /** Parameters of the evaluate step (default model: the version trained by this run, else the champion). */
  evaluate?: JobParamsByKind['evaluate'];
  /** Parameters of the predict step (default model: the champion). */
  predict?: JobParamsByKind['predict'];
}

/** A run cannot be resumed (it has not failed) or cancelled (it is over). */
export class RunStateError extends Error {
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = 'RunStateError';
  }
}

// A step claimed this long ago whose job has no record was lost with the process claiming it.
const CLAIM_TIMEOUT_MS = 60_000;

const asParams = (v: object | undefined): { [key: string]: JsonValue } => ({
  ...(v as { [key: string]: JsonValue } | undefined),
});

/**
 * Pipeline runs: load → prepare → train → evaluate → predict as a chain of ordinary jobs, with
 * per-step state in `pipeline_runs`. Whichever process finishes a step's job (a server, a queue
 * worker) starts the next step, by compare-and-set on the run, so a step starts once however many
 * processes see its predecessor end; reading a run also advances it, so a run whose process died
 * between two steps goes on. A failed or cancelled run can be resumed from its failed step.
 */
export class PipelineRuns {
  private readonly runs: DocumentCollection<PipelineRunRecord>;

  /** Creates the runs over a store's documents and its jobs. */
  constructor(store: DocumentStore, private readonly jobs: JobManager) {
    this.runs = store.collection<PipelineRunRecord>(COLLECTIONS.pipelineRuns);
  }

  /** Starts a run and returns its record (its first step started). */
  async start(spec: PipelineRunSpec, options: { scheduleId?: string } = {}): Promise<PipelineRunRecord> {
    const kinds = JOB_KINDS.filter((k) => (spec.steps ?? JOB_KINDS).includes(k));
    if (kinds.length === 0) throw new RangeError('a pipeline run needs at least one step');
    const run: PipelineRunRecord = {
      _id: randomUUID(),
      revision: 0,
      state: 'running',
      steps: kinds.map((kind) => ({
        kind,
        params: asParams(spec[kind]),
        state: 'pending',
        jobId: null,
        attempts: [],
        claimedAt: null,
        result: null,
        error: null,
      })),
      createdAt: new Date().toISOString(),
      finishedAt: null,
      scheduleId: options.scheduleId ?? null,
      cancelRequested: false,
      error: null,
    };
    await this.runs.upsertMany([run]);
    return this.advance(run._id);
  }

  private async write(run: PipelineRunRecord, change: Partial<PipelineRunRecord>): Promise<boolean> {
    const next = { ...run, ...change, revision: run.revision + 1 };
    if (next.state !== 'running' && next.finishedAt === null) next.finishedAt = new Date().toISOString();
    return this.runs.compareAndSet(run._id, { revision: run.revision }, next);
  }

  // Parameters of step `i`: an evaluation with no model names the version this run trained.
  private paramsOf(run: PipelineRunRecord, i: number): { [key: string]: JsonValue } {
    const step = run.steps[i] as RunStep;
    if (step.kind !== 'evaluate' || step.params.model !== undefined) return step.params;
    const trained = run.steps.find((s) => s.kind === 'train')?.result;
    const version = trained && typeof trained === 'object' && !Array.isArray(trained) ? trained.version : undefined;
    return typeof version === 'number' ? { ...step.params, model: version } : step.params;
  }

  /**
   * Moves a run forward: records its current step's outcome, starts its next step, or ends it.
   * Safe to call from any process at any time; returns the run as it then is.
   */
  async advance(id: string): Promise<PipelineRunRecord> {
    for (;;) {
      const run = await this.runs.get(id);
      if (!run) throw new RangeError(`no pipeline run ${id}`);
      if (run.state !== 'running') return run;
      const i = run.steps.findIndex((s) => s.state !== 'succeeded');
      if (i < 0) {
        if (await this.write(run, { state: 'succeeded' })) return (await this.runs.get(id)) as PipelineRunRecord;
        continue;
      }
      const step = run.steps[i] as RunStep;
      const steps = [...run.steps];
      if (step.jobId !== null) {
        const job = await this.jobs.get(step.jobId);
        // Claimed by a process that has not written its job yet (or died doing so).
        if (!job && Date.now() - Date.parse(step.claimedAt ?? '') < CLAIM_TIMEOUT_MS) return run;
        const state: JobState = job?.state ?? 'failed';
        if (job && !isFinal(state)) {
          if (state === step.state) return run;
          steps[i] = { ...step, state };
          if (await this.write(run, { steps })) return (await this.runs.get(id)) as PipelineRunRecord;
          continue;
        }
        const error = job ? job.error : { message: `its job ${step.jobId} has no record` };
        steps[i] = { ...step, state, result: job?.result ?? null, error };
        const over: Partial<PipelineRunRecord> =
          state === 'succeeded'
            ? {}
            : {
                state: state === 'cancelled' ? 'cancelled' : 'failed',
                error: {
                  message: `${step.kind} step ${state}: ${error?.message ?? ''}`,
                },
              };
        await this.write(run, { steps, ...over });
        continue;
      }
      if (run.cancelRequested) {
        await this.write(run, {
          state: 'cancelled',
          error: {
            message: `cancelled by request before the ${step.kind} step`,
          },
        });
        continue;
      }
      // Claim the step for a new job first: of the processes advancing the run, one starts it.
      const jobId = randomUUID();
      const params = this.paramsOf(run, i);
      steps[i] = {
        ...step,
        params,
        state: 'queued',
        jobId,
        attempts: [...step.attempts, jobId],
        claimedAt: new Date().toISOString(),
      };
      if (!(await this.write(run, { steps }))) continue;
      try {
        await this.jobs.start(step.kind, params as never, {
          id: jobId,
          runId: id,
        });
      } catch (e) {
        const message = e instanceof Error ? e.message : String(e);
        const claimed = (await this.runs.get(id)) as PipelineRunRecord;
        const failedSteps = claimed.steps.map((s, k) => (k === i ? { ...s, state: 'failed' as const, error: { message } } : s));
        await this.write(claimed, {
          steps: failedSteps,
          state: 'failed',
          error: { message: `${step.kind} step could not start: ${message}` },
        });
      }
    }
  }

  /** A run (advanced first, so a run left behind by a dead process goes on), if any. */
  async get(id: string): Promise<PipelineRunRecord | undefined> {
    const run = await this.runs.get(id);
    return run && run.state === 'running' ? this.advance(id) : run;
  }

  /** The most recent runs, newest first (running ones advanced first). */
  async list(options: { limit?: number } = {}): Promise<PipelineRunRecord[]> {
    const out: PipelineRunRecord[] = [];
    for await (const run of this.runs.find({}, { sort: { field: 'createdAt', direction: -1 }, limit: options.limit ?? 50 })) out.push(run);
    return Promise.all(out.map((run) => (run.state === 'running' ? this.advance(run._id) : run)));
  }

  /**
   * Resumes a failed or cancelled run from its first step that did not succeed; the steps that
   * succeeded are not run again.
   *
   * @throws RunStateError when the run is running or has succeeded.
   */
  async resume(id: string): Promise<PipelineRunRecord | undefined> {
    for (;;) {
      const run = await this.runs.get(id);
      if (!run) return undefined;
      if (run.state === 'running' || run.state === 'succeeded')
        throw new RunStateError(`pipeline run ${id} is ${run.state}: only a failed or cancelled run can be resumed`);
      const steps = run.steps.map((s) =>
        s.state === 'succeeded'
          ? s
          : {
              ...s,
              state: 'pending' as const,
              jobId: null,
              claimedAt: null,
              error: null,
              result: null,
            }
      );
      const next = {
        ...run,
        steps,
        state: 'running' as const,
        error: null,
        cancelRequested: false,
        finishedAt: null,
        revision: run.revision + 1,
      };
      if (await this.runs.compareAndSet(id, { revision: run.revision }, next)) return this.advance(id);
    }
  }

  /**
   * Cancels a run: its current step's job is cancelled and no later step starts.
   *
   * @throws RunStateError when the run is already over.
   */
  async cancel(id: string): Promise<PipelineRunRecord | undefined> {
    for (;;) {
      const run = await this.runs.get(id);
      if (!run) return undefined;
      if (run.state !== 'running') throw new RunStateError(`pipeline run ${id} has already ${run.state === 'cancelled' ? 'been cancelled' : run.state}`);
      if (!(await this.write(run, { cancelRequested: true }))) continue;
      const current = run.steps.find((s) => s.jobId !== null && !isFinal(s.state as JobState) && s.state !== 'pending');
      if (current?.jobId) await this.jobs.cancel(current.jobId);
      return this.advance(id);
    }
  }

  /** Call when a job finished: advances the run it is a step of. */
  async jobFinished(job: JobRecord): Promise<void> {
    if (job.runId) await this.advance(job.runId);
  }
}
