import { Type, type TObject, type TProperties } from '@sinclair/typebox';
import { NUMERIC_OPTIONS as N, schema } from '../options.js';
import { JOB_KINDS, JOB_PARAMS } from '../pipeline/jobs.js';
import { ModelRefSchema as ModelRef } from '../stages/options.js';

// JSON schemas of the routes: Fastify validates requests against them (a bad request gets a
// 400 naming the field) and serialises responses with them, and @fastify/swagger turns them
// into the OpenAPI document behind /docs.

const Obj = <T extends Parameters<typeof Type.Object>[0]>(props: T, description?: string) =>
  Type.Object(props, { additionalProperties: false, ...(description ? { description } : {}) });

/** Any JSON value (documented loosely; its shape is described in the API docs of its type). */
const AnyJson = (description: string) => Type.Unknown({ description });

/** Error answer of every route. */
export const ErrorReply = Type.Object(
  {
    statusCode: Type.Integer(),
    error: Type.String({ description: 'HTTP reason phrase' }),
    code: Type.Optional(Type.String({ description: 'Machine-readable code, e.g. FST_ERR_VALIDATION or JOB_CONFLICT' })),
    message: Type.String({ description: 'What was wrong, naming the field or the resource' }),
  },
  { $id: 'ErrorReply', description: 'An error' },
);

/** A model reference (the stages' schema). */
export const ModelRefSchema = ModelRef;

/**
 * A request body of a job route: the job's parameters (a pick of the stage's option schema, see
 * `JOB_PARAMS`), unknown fields refused.
 */
const JobBody = <P extends TProperties>(params: TObject<P>, description: string) => Type.Object(params.properties, { additionalProperties: false, description });

/** Body of `POST /load-data` (`dataDir` defaults to the server's data folder). */
export const LoadDataBody = Type.Object(
  { dataDir: Type.Optional(JOB_PARAMS.load.properties.dataDir) },
  { additionalProperties: false, description: 'Loads the challenge CSVs and images of a folder into the store' },
);
/** Body of `POST /prepare-data`. */
export const PrepareDataBody = JobBody(JOB_PARAMS.prepare, 'Preprocesses text and images and splits the labelled rows');
/** Body of `POST /train-model`. */
export const TrainModelBody = JobBody(JOB_PARAMS.train, 'Trains a model on the prepared splits and registers it as a new version');
/** Body of `POST /evaluate-model`. */
export const EvaluateModelBody = JobBody(JOB_PARAMS.evaluate, 'Evaluates a model version on the held-out split');
/** Body of `POST /predict`. */
export const PredictBody = JobBody(JOB_PARAMS.predict, 'Predicts every stored test row into `predictions`');

/** A job, as answered by the job routes. */
export const JobReply = Type.Object(
  {
    id: Type.String({ description: 'Job id' }),
    kind: Type.Union(JOB_KINDS.map((k) => Type.Literal(k))),
    state: Type.Union([Type.Literal('queued'), Type.Literal('running'), Type.Literal('succeeded'), Type.Literal('failed'), Type.Literal('cancelled')]),
    params: AnyJson('Parameters it was started with'),
    createdAt: Type.String({ format: 'date-time' }),
    startedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    finishedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    progress: Type.Union([
      Type.Object({
        stage: Type.String(),
        phase: Type.String(),
        done: Type.Number(),
        total: Type.Number({ description: '0 when unknown' }),
        unit: Type.String(),
        rate: Type.Optional(Type.Number({ description: 'Units per second since the phase began' })),
        etaSeconds: Type.Optional(Type.Number({ description: 'Seconds left at that rate (absent when the total is unknown)' })),
      }),
      Type.Null(),
    ]),
    result: AnyJson('Summary of what it did, once succeeded'),
    error: Type.Union([Type.Object({ message: Type.String() }), Type.Null()]),
    cancelRequested: Type.Boolean(),
    runId: Type.Optional(Type.String({ description: 'The pipeline run it is a step of' })),
    attempt: Type.Optional(Type.Integer({ description: 'Above 1 when a queue worker died running it and it was started again' })),
  },
  { $id: 'Job', description: 'A long-running job' },
);

const JobKindSchema = Type.Union(JOB_KINDS.map((k) => Type.Literal(k)));

/** Body of `POST /pipeline-runs`: which steps, and each step's parameters (the bodies of the five job routes). */
export const PipelineRunBody = Type.Object(
  {
    steps: Type.Optional(Type.Array(JobKindSchema, { minItems: 1, maxItems: 5, uniqueItems: true, description: 'Steps to run (default all five); they always run in pipeline order' })),
    load: Type.Optional(LoadDataBody),
    prepare: Type.Optional(PrepareDataBody),
    train: Type.Optional(TrainModelBody),
    evaluate: Type.Optional(Type.Object(EvaluateModelBody.properties, { additionalProperties: false, description: 'Default model: the version this run trained, else the champion' })),
    predict: Type.Optional(Type.Object(PredictBody.properties, { additionalProperties: false, description: 'Default model: the champion' })),
  },
  { additionalProperties: false, description: 'A pipeline run: load → prepare → train → evaluate → predict as a chain of jobs' },
);

const ErrorField = Type.Union([Type.Object({ message: Type.String() }), Type.Null()]);

/** A pipeline run, as answered by the run routes. */
export const PipelineRunReply = Type.Object(
  {
    id: Type.String(),
    state: Type.Union([Type.Literal('running'), Type.Literal('succeeded'), Type.Literal('failed'), Type.Literal('cancelled')]),
    steps: Type.Array(
      Type.Object({
        kind: JobKindSchema,
        state: Type.Union(['pending', 'queued', 'running', 'succeeded', 'failed', 'cancelled'].map((k) => Type.Literal(k))),
        params: AnyJson('Parameters its job is started with'),
        jobId: Type.Union([Type.String(), Type.Null()], { description: 'Its current job (GET /jobs/{id} for progress)' }),
        attempts: Type.Array(Type.String(), { description: 'Every job started for it, oldest first' }),
        result: AnyJson('Its job’s result, once succeeded'),
        error: ErrorField,
      }),
    ),
    createdAt: Type.String({ format: 'date-time' }),
    finishedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    scheduleId: Type.Union([Type.String(), Type.Null()], { description: 'The schedule that started it' }),
    cancelRequested: Type.Boolean(),
    error: ErrorField,
  },
  { $id: 'PipelineRun', description: 'A pipeline run and the state of each step' },
);

/** Path parameters naming a pipeline run or a schedule. */
export const IdParams = Obj({ id: Type.String({ minLength: 1, maxLength: 64 }) });

/** Body of `POST /schedules`. */
export const ScheduleBody = Type.Object(
  {
    id: Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}$', description: 'Schedule id; posting an existing id replaces that schedule' }),
    cron: Type.String({ minLength: 9, maxLength: 120, description: 'Cron expression (5 or 6 fields), e.g. `0 3 * * 1` for Mondays at 03:00' }),
    timezone: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'IANA time zone of the expression (default UTC)' })),
    run: PipelineRunBody,
  },
  { additionalProperties: false, description: 'A repeatable pipeline run' },
);

/** A schedule, as answered by the schedule routes. */
export const ScheduleReply = Type.Object(
  {
    id: Type.String(),
    cron: Type.String(),
    timezone: Type.Optional(Type.String()),
    run: AnyJson('The pipeline run each firing starts'),
    next: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], { description: 'Next firing' }),
  },
  { $id: 'Schedule', description: 'A repeatable pipeline run' },
);

/** Path parameters naming a job. */
export const JobParams = Obj({ id: Type.String({ minLength: 1, maxLength: 64 }) });
/** Query of `GET /jobs`. */
export const JobListQuery = Obj({
  state: Type.Optional(JobReply.properties.state),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
});

/** Query of `GET /pipeline-runs`. */
export const RunListQuery = Obj({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })) });

/** Path parameters naming a model version. */
export const VersionParams = Obj({ version: Type.Integer({ minimum: 1, description: 'Model version number' }) });

/** One model version in `GET /models`. */
export const ModelSummary = Type.Object({
  version: Type.Integer(),
  kind: Type.String(),
  createdAt: Type.String({ format: 'date-time' }),
  backend: Type.String(),
  trainingSeconds: Type.Number(),
  epochs: Type.Integer(),
  params: AnyJson('Hyper-parameters'),
  validation: AnyJson('Validation scores: weightedF1, textOnlyWeightedF1, withImageWeightedF1, accuracy, perClassF1, count'),
  classes: Type.Array(Type.Integer()),
  champion: Type.Boolean(),
  prepareRun: Type.Optional(Type.Union([Type.String(), Type.Null()], { description: 'The split generation it was trained on' })),
  corrections: Type.Optional(AnyJson('Review corrections it was trained with (includeCorrections): count, changed, through, ids')),
});
/** Answer of `GET /models`. */
export const ModelsReply = Type.Object({
  champion: Type.Union([Type.Integer(), Type.Null()], { description: 'Version of the champion, null when none' }),
  versions: Type.Array(ModelSummary),
});

/** Pattern of text fields that must not be empty or blank (validation errors say so in words). */
export const NOT_BLANK = '\\S';

/** Body of `POST /predict/product` (JSON, or the same fields as multipart/form-data with the image as a file). */
export const PredictProductBody = Obj(
  {
    designation: Type.String({ maxLength: 10_000, pattern: NOT_BLANK, description: 'Product title (not blank)' }),
    description: Type.Optional(Type.String({ maxLength: 200_000, description: 'Product description (HTML allowed)' })),
    image: Type.Optional(
      Type.String({ contentEncoding: 'base64', description: 'Image bytes (JPEG, PNG, WebP...): base64 in JSON, a file part in multipart/form-data' }),
    ),
    topK: Type.Optional(schema(N.topK, N.topK.description, true)),
  },
  'One product to classify',
);
/** A category's names (`categoryNames`): left out for a code outside the 27. */
const CategoryNamesSchema = Type.Optional(
  Type.Object({ fr: Type.String(), en: Type.String() }, { description: 'Category name in French and English (names published by challenge participants)' }),
);
/** A category's English name: left out for a code outside the 27. */
const CategoryNameSchema = Type.Optional(Type.String({ description: 'English category name, e.g. "Used books"' }));

/** Answer of `POST /predict/product`. */
export const PredictProductReply = Type.Object({
  prdtypecode: Type.Integer({ description: 'Most probable product type code' }),
  name: CategoryNameSchema,
  names: CategoryNamesSchema,
  top: Type.Array(
    Type.Object({ prdtypecode: Type.Integer(), probability: Type.Number(), name: CategoryNameSchema, names: CategoryNamesSchema }),
    { description: 'Best classes first' },
  ),
  modelVersion: Type.Integer(),
  usedImage: Type.Boolean({ description: 'Whether an image was given and decoded' }),
  confidence: Type.Object(
    {
      margin: Type.Number({ description: 'Probability of the best class minus that of the second' }),
      entropy: Type.Number({ description: 'Entropy of the probabilities over its maximum (0 certain, 1 uniform)' }),
    },
    { description: 'How sure the model was' },
  ),
  textClass: Type.Union([Type.Integer(), Type.Null()], { description: 'Class of the text alone (null without an image)' }),
  imageClass: Type.Union([Type.Integer(), Type.Null()], { description: 'Class of the image alone (null without an image)' }),
  disagreement: Type.Boolean({ description: 'Whether text alone and image alone give different classes' }),
  id: Type.Optional(Type.String({ description: 'Review id of the stored prediction (POST /review/{id})' })),
  ms: Type.Number({ description: 'Server-side time in milliseconds' }),
});

/** Answer of `GET /health`. */
export const HealthReply = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('degraded')]),
  store: Type.Object({ driver: Type.String(), ok: Type.Boolean(), error: Type.Optional(Type.String()) }),
  queue: Type.Optional(
    Type.Object({ ok: Type.Boolean(), workers: Type.Integer({ description: 'Worker processes listening' }), error: Type.Optional(Type.String()) }, { description: 'When jobs go to a queue' }),
  ),
  champion: Type.Union([Type.Integer(), Type.Null()]),
  runningJobs: Type.Integer(),
  uptimeSeconds: Type.Number(),
});

/** Answer of `GET /data-status`. */
export const DataStatusReply = Type.Object(
  {
    store: Type.String(),
    driver: Type.String(),
    collections: Type.Record(Type.String(), Type.Integer(), { description: 'Documents per collection' }),
    labelledTrainRows: Type.Integer(),
    testRows: Type.Integer(),
    images: AnyJson('Per split: rows, withImage, missing, stored; and total'),
    lastLoad: AnyJson('The most recent load run (counts, warnings, quarantine), or null'),
    lastPrepare: AnyJson('The most recent prepare run (split sizes and classes, duplicate groups, image failures), or null'),
  },
  { description: 'What the store holds' },
);

/** Answer of `GET /categories`. */
export const CategoriesReply = Type.Array(
  Type.Object({ prdtypecode: Type.Integer(), fr: Type.String(), en: Type.String() }),
  { description: 'The 27 product type codes with their French and English names' },
);

/** Query of `GET /models/compare`. */
export const CompareQuery = Obj({
  a: Type.Integer({ minimum: 1, description: 'First version' }),
  b: Type.Integer({ minimum: 1, description: 'Second version' }),
});

/** Answer of `GET /models/compare`. */
export const CompareReply = Type.Object({
  a: Type.Object({ version: Type.Integer(), weightedF1: Type.Number() }),
  b: Type.Object({ version: Type.Integer(), weightedF1: Type.Number() }),
  sameSplit: Type.Boolean({ description: 'Whether both were scored on the same validation split (else per-class figures are only indicative)' }),
  classes: Type.Array(
    Type.Object({
      prdtypecode: Type.Integer(),
      name: Type.Union([Type.String(), Type.Null()]),
      a: Type.Union([Type.Number(), Type.Null()]),
      b: Type.Union([Type.Number(), Type.Null()]),
      delta: Type.Union([Type.Number(), Type.Null()], { description: 'b - a' }),
    }),
    { description: 'Validation F1 per class' },
  ),
  confusion: Type.Union(
    [
      Type.Object({
        dataset: Type.String(),
        labels: Type.Array(Type.Integer()),
        a: Type.Array(Type.Array(Type.Integer())),
        b: Type.Array(Type.Array(Type.Integer())),
        diff: Type.Array(Type.Array(Type.Integer()), { description: 'b - a, rows true class, columns predicted' }),
      }),
      Type.Null(),
    ],
    { description: 'From each version\'s newest evaluation on the same dataset; null when there is none' },
  ),
});

/** Answer of `GET /models/{version}/guardrail`. */
export const GuardrailReply = Type.Object({
  version: Type.Integer(),
  champion: Type.Union([Type.Integer(), Type.Null()]),
  promote: Type.Boolean({ description: 'Whether the guardrail would promote it' }),
  reason: Type.String(),
  margin: Type.Number({ description: 'Largest per-class F1 drop allowed' }),
  sameSplit: Type.Boolean({ description: 'Whether both versions were scored on the same validation split' }),
  regressions: Type.Array(Type.Object({ prdtypecode: Type.Integer(), name: Type.Union([Type.String(), Type.Null()]), before: Type.Number(), after: Type.Number() })),
});

/** An evaluation record (`GET /models/{version}/evaluation`). */
export const EvaluationReply = Type.Object(
  {
    modelVersion: Type.Integer(),
    modelKind: Type.String(),
    dataset: Type.String(),
    createdAt: Type.String({ format: 'date-time' }),
    metrics: AnyJson('labels, confusion, perClass (precision, recall, f1, support), weightedF1, macroF1, accuracy, count'),
    textOnlyWeightedF1: Type.Number(),
    withImage: AnyJson('count, weightedF1, textOnlyWeightedF1 on the products with an image'),
    latencyTextOnly: AnyJson('p50Ms, p95Ms, samples'),
    latencyWithImage: AnyJson('p50Ms, p95Ms, samples, or null'),
    productsPerSecond: Type.Number(),
    warnings: Type.Optional(Type.Array(Type.String())),
  },
  { description: 'The newest evaluation of a version' },
);

const ReviewReason = Type.Union([Type.Literal('uncertain'), Type.Literal('disagreement')]);
/** Query of `GET /review`. */
export const ReviewQuery = Obj({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 20 })),
  reason: Type.Optional(Type.Union([ReviewReason, Type.Literal('all')], { default: 'all', description: 'uncertain: least certain first; disagreement: text and image disagree; all: both' })),
});
/** Path parameters naming a review item. */
export const ReviewParams = Obj({ id: Type.String({ minLength: 1, maxLength: 300, description: '`online:<id>` or `batch:<id>`' }) });
const Scored = Type.Object({ prdtypecode: Type.Integer(), probability: Type.Number(), name: Type.Union([Type.String(), Type.Null()]) });
/** Answer of `GET /review`. */
export const ReviewListReply = Type.Object({
  pending: Type.Integer({ description: 'Unreviewed predictions of the champion matching the reason' }),
  items: Type.Array(
    Type.Object({
      id: Type.String(),
      source: Type.Union([Type.Literal('online'), Type.Literal('batch')]),
      predictedAt: Type.String({ format: 'date-time' }),
      modelVersion: Type.Integer(),
      prdtypecode: Type.Integer(),
      name: Type.Union([Type.String(), Type.Null()]),
      top: Type.Array(Scored),
      confidence: Type.Object({ margin: Type.Number(), entropy: Type.Number() }),
      textClass: Type.Union([Type.Integer(), Type.Null()]),
      imageClass: Type.Union([Type.Integer(), Type.Null()]),
      disagreement: Type.Boolean(),
      reasons: Type.Array(ReviewReason),
      input: Type.Object({ designation: Type.String(), description: Type.String(), hasImage: Type.Boolean() }),
    }),
  ),
});
/** Body of `POST /review/{id}`. */
export const CorrectionBody = Obj({ prdtypecode: Type.Integer({ description: 'The right class: the predicted one to accept, another to correct' }) }, 'A verdict');
/** A stored correction. */
export const CorrectionReply = Type.Object({
  id: Type.String(),
  predictionId: Type.String(),
  source: Type.Union([Type.Literal('online'), Type.Literal('batch')]),
  modelVersion: Type.Integer(),
  predicted: Type.Integer(),
  prdtypecode: Type.Integer(),
  accepted: Type.Boolean(),
  keyId: Type.Union([Type.String(), Type.Null()], { description: 'Id of the API key used (a hash prefix, never the key)' }),
  at: Type.String({ format: 'date-time' }),
  designation: Type.String(),
});
/** Query of list routes with only a limit. */
export const LimitQuery = Obj({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 20 })) });

/** Body of `POST /drift`. */
export const DriftBody = Type.Optional(
  Obj({ window: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000, description: 'Most recent predictions compared (default 1000)' })) }, 'What to compare'),
);
/** A drift report. */
export const DriftReportReply = Type.Object(
  {
    id: Type.String(),
    createdAt: Type.String({ format: 'date-time' }),
    modelVersion: Type.Integer(),
    window: Type.Object({
      size: Type.Integer(),
      online: Type.Integer(),
      batch: Type.Integer(),
      from: Type.Union([Type.String(), Type.Null()]),
      to: Type.Union([Type.String(), Type.Null()]),
    }),
    reference: Type.Object({ prepareRun: Type.Union([Type.String(), Type.Null()]), count: Type.Integer() }),
    features: Type.Array(
      Type.Object({
        name: Type.String(),
        label: Type.String(),
        measure: Type.Literal('psi'),
        value: Type.Number(),
        threshold: Type.Number(),
        noise: Type.Number({ description: 'PSI that sampling alone gives samples of these sizes; flagged when value > threshold + noise' }),
        flagged: Type.Boolean(),
        bins: Type.Array(Type.Object({ bin: Type.String(), reference: Type.Number(), current: Type.Number() })),
      }),
    ),
    flagged: Type.Array(Type.String()),
    enough: Type.Boolean(),
    note: Type.Optional(Type.String()),
  },
  { description: 'Recent predictions of the champion compared with its training generation, per feature (population stability index)' },
);
