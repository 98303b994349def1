import path from 'node:path';
import { emit, escapeControl, type OutputOptions } from '../output.js';
import { withPipeline } from '../context.js';
import type { PipelineRunRecord, PipelineRunSpec } from '../../http/jobs/runs.js';
import { openQueue } from '../queue.js';
import { JOB_KINDS } from '../../pipeline/jobs.js';

/** Options of a pipeline run on a queue (`run --queue`). */
export interface QueuedRunOptions extends OutputOptions {
  store?: string;
  queue: string;
  /** The run (for a new run). */
  spec?: PipelineRunSpec;
  /** A failed or cancelled run to resume. */
  resume?: string;
  /** Print the run id and return without following it. */
  detach?: boolean;
}

const line = (run: PipelineRunRecord) =>
  `${run._id}: ${run.state}  ${run.steps.map((s) => `${s.kind} ${s.state}`).join(' -> ')}${run.error ? `  (${run.error.message})` : ''}`;

/**
 * Starts (or resumes) a pipeline run whose steps the queue's workers run, and follows it to its
 * end: exit code 0 when it succeeded, 1 otherwise. Nothing runs in this process.
 */
export async function queuedRun(opts: QueuedRunOptions): Promise<void> {
  const queue = await openQueue(opts.queue);
  try {
    const final = await withPipeline(
      opts.store,
      async (pipeline) => {
        const [{ JobManager }, { PipelineRuns }, { inlineExecutor }] = await Promise.all([
          import('../../http/jobs/manager.js'),
          import('../../http/jobs/runs.js'),
          import('../../http/jobs/executor.js'),
        ]);
        // The executor is never used: with a queue, jobs only start here and run on the workers.
        const jobs = new JobManager(pipeline.store.documents, {
          executor: inlineExecutor(pipeline),
          queue,
        });
        await jobs.init();
        const runs = new PipelineRuns(pipeline.store.documents, jobs);
        try {
          let run = opts.resume ? await runs.resume(opts.resume) : await runs.start(opts.spec ?? {});
          if (!run) throw new Error(`--resume: no pipeline run ${opts.resume}`);
          if (opts.detach) return run;
          let shown = '';
          while (run.state === 'running') {
            if (line(run) !== shown) process.stderr.write(`[run] ${escapeControl((shown = line(run)))}\n`);
            await new Promise((r) => setTimeout(r, 1_000));
            run = (await runs.get(run._id)) as PipelineRunRecord;
          }
          return run;
        } finally {
          await jobs.close();
        }
      },
      { create: true }
    );
    emit(opts, { ...final, id: final._id }, () => [
      line(final),
      ...(final.state === 'failed' || final.state === 'cancelled' ? [`resume it with: rakuten-pipeline run --queue <url> --resume ${final._id}`] : []),
    ]);
    if (!opts.detach && final.state !== 'succeeded') process.exitCode = 1;
  } finally {
    await queue.close();
  }
}

/** A run spec from `run`'s flags. */
export function runSpec(o: { data?: string; seed?: number; kind?: string; steps?: string }): PipelineRunSpec {
  const steps = o.steps?.split(',').map((s) => s.trim()) as PipelineRunSpec['steps'];
  // A run drops steps it does not know: a typo would silently leave a step out.
  const unknown = steps?.find((s) => !(JOB_KINDS as readonly string[]).includes(s));
  if (unknown !== undefined) throw new Error(`--steps: unknown step ${JSON.stringify(unknown)}; steps: ${JOB_KINDS.join(',')}`);
  return {
    ...(steps ? { steps } : {}),
    ...(o.data ? { load: { dataDir: path.resolve(o.data) } } : {}),
    ...(o.seed !== undefined
      ? {
          prepare: { seed: o.seed },
          train: { seed: o.seed, ...(o.kind ? { kind: o.kind } : {}) },
        }
      : {}),
  };
}
