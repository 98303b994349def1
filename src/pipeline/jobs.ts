/**
 * Jobs: each kind of long-running pipeline work as plain data in (parameters, a pick of the stage's
 * option schema) and plain data out (a JSON summary), so that it can run on this thread, in a
 * worker thread or in another process over the same {@link Pipeline}.
 *
 * @module
 */
import { Type, type Static } from '@sinclair/typebox';
import type { StageRunOptions } from '../progress.js';
import { LoadError } from '../stages/load/loader.js';
import { EvaluateParams, LoadParams, PredictParams, PrepareParams, TrainParams } from '../stages/options.js';
import type { JsonValue } from '../stores/types.js';
import type { Pipeline } from './pipeline.js';

/** The kinds of long-running work run as jobs. */
export type JobKind = 'load' | 'prepare' | 'train' | 'evaluate' | 'predict';

/** Every job kind, in pipeline order. */
export const JOB_KINDS: readonly JobKind[] = ['load', 'prepare', 'train', 'evaluate', 'predict'];

/**
 * The parameters of each job kind: the stage options a remote caller may set (a load's file-size
 * bounds and an evaluation's report path stay the server's business).
 */
export const JOB_PARAMS = {
  /** A load: the data folder. */
  load: Type.Pick(LoadParams, ['dataDir']),
  /** A prepare: seed and fractions. */
  prepare: Type.Pick(PrepareParams, ['seed', 'val', 'test']),
  /** A training: every option of {@link TrainParams}. */
  train: TrainParams,
  /** An evaluation: the model and, optionally, a labelled folder. */
  evaluate: Type.Pick(EvaluateParams, ['model', 'dataDir']),
  /** A batch prediction: the model. */
  predict: PredictParams,
};

/** Parameters by job kind (`Static<>` of {@link JOB_PARAMS}). */
export type JobParamsByKind = { [K in JobKind]: Static<(typeof JOB_PARAMS)[K]> };

/** Data a job kind reads and writes. */
export interface JobResources {
  /** Data it reads. */
  reads: readonly string[];
  /** Data it writes. */
  writes: readonly string[];
}

/**
 * Data each job kind reads and writes. Two jobs conflict when one writes what the other reads
 * or writes; a conflicting job is refused (HTTP 409) rather than queued, so that a client never
 * waits on work it did not see start.
 */
export const JOB_RESOURCES: Record<JobKind, JobResources> = {
  load: { reads: [], writes: ['raw'] },
  prepare: { reads: ['raw'], writes: ['splits'] },
  train: { reads: ['splits'], writes: ['models'] },
  evaluate: { reads: ['splits', 'models'], writes: ['evaluations'] },
  predict: { reads: ['raw', 'models'], writes: ['predictions'] },
};

/** Whether jobs of kinds `a` and `b` may not run at the same time. */
export function conflicts(a: JobKind, b: JobKind): boolean {
  const ra = JOB_RESOURCES[a];
  const rb = JOB_RESOURCES[b];
  const hit = (xs: readonly string[], ys: readonly string[]) => xs.some((x) => ys.includes(x));
  return hit(ra.writes, rb.writes) || hit(ra.writes, rb.reads) || hit(rb.writes, ra.reads);
}

// Stage records are plain data (strings, numbers, arrays, objects), so they are JSON as they are.
const asJson = (value: object): JsonValue => value as unknown as JsonValue;

// Results are JSON summaries, small enough to keep with the job: the full records stay in
// their own collections (data_pipeline, pipeline_metadata, model_metadata, model_evaluation).
const RUNNERS: { [K in JobKind]: (p: Pipeline, params: JobParamsByKind[K], o: StageRunOptions) => Promise<JsonValue> } = {
  async load(p, params, o) {
    try {
      const run = await p.load({ ...params, ...o });
      return asJson({
        runId: run._id,
        status: run.status,
        seconds: run.seconds,
        labelledTrainRows: run.labelledTrainRows,
        testRows: run.rows.test.stored,
        images: run.images,
        warnings: run.warnings,
        quarantineTotal: run.quarantineTotal,
        quarantineByReason: run.quarantineByReason,
      });
    } catch (e) {
      // A LoadError carries the run record; its errors are the readable reason.
      if (e instanceof LoadError) throw new Error(`${e.message}${e.run.errors.length ? `: ${e.run.errors.join('; ')}` : ''}`, { cause: e });
      throw e;
    }
  },
  async prepare(p, params, o) {
    const run = await p.prepare({ ...params, ...o });
    return asJson({
      runId: run._id,
      status: run.status,
      params: run.params,
      records: run.records,
      images: run.images,
      splits: Object.fromEntries(Object.entries(run.splits).map(([name, s]) => [name, { total: s.total, withImage: s.withImage }])),
      maxClassShareGapPp: run.maxClassShareGapPp,
      duplicateGroups: run.duplicateGroups,
    });
  },
  async train(p, params, o) {
    const result = await p.train({ ...params, ...o });
    const m = result.model;
    return asJson({
      version: m.version,
      kind: m.kind,
      backend: m.backend,
      trainingSeconds: m.trainingSeconds,
      epochs: m.history.length,
      validation: m.validation,
      champion: result.champion,
    });
  },
  async evaluate(p, params, o) {
    const e = await p.evaluate({ ...params, ...o, report: false });
    return asJson({
      evaluationId: e._id,
      modelVersion: e.modelVersion,
      dataset: e.dataset,
      count: e.metrics.count,
      weightedF1: e.metrics.weightedF1,
      macroF1: e.metrics.macroF1,
      accuracy: e.metrics.accuracy,
      textOnlyWeightedF1: e.textOnlyWeightedF1,
      withImage: e.withImage,
      latencyTextOnly: e.latencyTextOnly,
      latencyWithImage: e.latencyWithImage,
      productsPerSecond: e.productsPerSecond,
    });
  },
  async predict(p, params, o) {
    return asJson(await p.predict({ ...params, ...o }));
  },
};

/** Runs one job's work on `pipeline`; the result is the job's JSON summary. */
export function runJob<K extends JobKind>(pipeline: Pipeline, kind: K, params: JobParamsByKind[K], options: StageRunOptions = {}): Promise<JsonValue> {
  const run = RUNNERS[kind] as ((p: Pipeline, params: JobParamsByKind[K], o: StageRunOptions) => Promise<JsonValue>) | undefined;
  if (!run) return Promise.reject(new Error(`unknown job kind ${String(kind)}`));
  return run(pipeline, params, options);
}
