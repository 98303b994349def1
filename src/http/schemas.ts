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
  },
  { description: 'What the store holds' },
);
