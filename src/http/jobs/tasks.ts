import { ModelRegistry } from '../../models/registry.js';
import { pickFactory, type ModelRuntime } from '../../models/builtin.js';
import type { ModelRef } from '../../models/registry.js';
import type { StageRunOptions } from '../../progress.js';
import { Evaluator } from '../../stages/evaluate/stage.js';
import { ChallengeDataLoader, LoadError } from '../../stages/load/loader.js';
import { Predictor } from '../../stages/predict/predictor.js';
import { PrepareStage } from '../../stages/prepare/stage.js';
import { TrainStage, type PromotionPolicy, type TrainOptions } from '../../stages/train/stage.js';
import type { JsonValue, Store } from '../../stores/types.js';

/** The kinds of long-running work the API runs as jobs. */
export type JobKind = 'load' | 'prepare' | 'train' | 'evaluate' | 'predict';

/** Parameters of a `load` job. */
export interface LoadJobParams {
  /** Data folder in the challenge layout, as seen by the server. */
  dataDir: string;
}
/** Parameters of a `prepare` job. */
export interface PrepareJobParams {
  /** Split seed. */
  seed?: number;
  /** Validation fraction. */
  val?: number;
  /** Held-out test fraction. */
  test?: number;
}
/** Parameters of a `train` job. */
export interface TrainJobParams {
  /** Seed. */
  seed?: number;
  /** Model kind (default: the runtime's first). */
  kind?: string;
  /** Most epochs. */
  epochs?: number;
  /** Early-stopping patience. */
  patience?: number;
  /** Weight classes inversely to their frequency. */
  classWeighting?: boolean;
  /** Champion policy. */
  promote?: PromotionPolicy;
  /** Largest per-class F1 drop allowed for an automatic promotion. */
  guardrailMargin?: number;
}
/** Parameters of an `evaluate` job. */
export interface EvaluateJobParams {
  /** Model version, `champion` or `latest`. */
  model?: ModelRef;
  /** A labelled folder in the challenge layout instead of `labeled_test`. */
  dataDir?: string;
}
/** Parameters of a `predict` job. */
export interface PredictJobParams {
  /** Model version, `champion` or `latest`. */
  model?: ModelRef;
}
/** Parameters by job kind. */
export interface JobParamsByKind {
  /** See {@link LoadJobParams}. */
  load: LoadJobParams;
  /** See {@link PrepareJobParams}. */
  prepare: PrepareJobParams;
  /** See {@link TrainJobParams}. */
  train: TrainJobParams;
  /** See {@link EvaluateJobParams}. */
  evaluate: EvaluateJobParams;
  /** See {@link PredictJobParams}. */
  predict: PredictJobParams;
}

/** What a job task needs: the store, the model kinds and the backend. */
export interface TaskContext extends ModelRuntime {
  /** Store the job works on. */
  store: Store;
}

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
async function runLoad(ctx: TaskContext, p: LoadJobParams, o: StageRunOptions): Promise<JsonValue> {
  try {
    const run = await new ChallengeDataLoader(ctx.store).load({ dataDir: p.dataDir, ...o });
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
}

async function runPrepare(ctx: TaskContext, p: PrepareJobParams, o: StageRunOptions): Promise<JsonValue> {
  const run = await new PrepareStage(ctx.store).run({ ...p, ...o });
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
}

/**
 * The {@link TrainStage.run} options of train parameters: the one mapping from the API's and the
 * CLI's names (`epochs`) to the stage's (`maxEpochs`), shared by `POST /train-model` and `train`.
 */
export function trainOptions(p: TrainJobParams, o: StageRunOptions = {}): TrainOptions {
  return {
    ...o,
    ...(p.seed !== undefined ? { seed: p.seed } : {}),
    ...(p.epochs !== undefined ? { maxEpochs: p.epochs } : {}),
    ...(p.patience !== undefined ? { patience: p.patience } : {}),
    ...(p.classWeighting !== undefined ? { classWeighting: p.classWeighting } : {}),
    ...(p.promote !== undefined ? { promote: p.promote } : {}),
    ...(p.guardrailMargin !== undefined ? { guardrailMargin: p.guardrailMargin } : {}),
  };
}

async function runTrain(ctx: TaskContext, p: TrainJobParams, o: StageRunOptions): Promise<JsonValue> {
  const registry = new ModelRegistry(ctx.store, ctx.factories);
  const result = await new TrainStage(ctx.store, pickFactory(ctx, p.kind), () => ctx.initBackend(), registry).run(trainOptions(p, o));
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
}

async function runEvaluate(ctx: TaskContext, p: EvaluateJobParams, o: StageRunOptions): Promise<JsonValue> {
  const registry = new ModelRegistry(ctx.store, ctx.factories);
  const e = await new Evaluator(ctx.store, registry).run({
    ...o,
    ...(p.model !== undefined ? { model: p.model } : {}),
    ...(p.dataDir !== undefined ? { dataDir: p.dataDir } : {}),
    report: false,
  });
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
}

async function runPredict(ctx: TaskContext, p: PredictJobParams, o: StageRunOptions): Promise<JsonValue> {
  const registry = new ModelRegistry(ctx.store, ctx.factories);
  const summary = await new Predictor(ctx.store, registry).predictStoredTest({ ...o, ...(p.model !== undefined ? { model: p.model } : {}) });
  return asJson(summary);
}

/** Runs one job's work; the result is the job's JSON summary. */
export function runTask<K extends JobKind>(kind: K, ctx: TaskContext, params: JobParamsByKind[K], options: StageRunOptions): Promise<JsonValue> {
  switch (kind) {
    case 'load':
      return runLoad(ctx, params as LoadJobParams, options);
    case 'prepare':
      return runPrepare(ctx, params as PrepareJobParams, options);
    case 'train':
      return runTrain(ctx, params as TrainJobParams, options);
    case 'evaluate':
      return runEvaluate(ctx, params as EvaluateJobParams, options);
    case 'predict':
      return runPredict(ctx, params as PredictJobParams, options);
    default:
      throw new Error(`unknown job kind ${String(kind)}`);
  }
}
