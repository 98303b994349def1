import { STATUS_CODES } from 'node:http';
import path from 'node:path';
import { PACKAGE_VERSION } from '../version.js';
import { DECIMAL } from '../options.js';
import type { FastifyInstance, FastifyPluginAsync, FastifyRequest, FastifySchemaValidationError } from 'fastify';
import multipart from '@fastify/multipart';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { Ajv } from 'ajv';
import { COLLECTIONS } from '../collections.js';
import { createPipeline, type Pipeline, type PipelineBlueprint } from '../pipeline/pipeline.js';
import type { JsonValue, Store } from '../stores/types.js';
import { apiKeysFromEnv, ApiKeys, presentedKey } from './auth.js';
import { ChampionCache, dataDirResolver, HttpError, Probe, type ApiContext } from './context.js';
import { inlineExecutor, workerExecutor, type JobExecutor } from './jobs/executor.js';
import type { JobQueue } from './jobs/queue.js';
import { JobManager } from './jobs/manager.js';
import type { JobRecord } from './jobs/types.js';
import { ApiMetrics } from './metrics.js';
import type { AuthOptions, RakutenApiOptions } from './options.js';
import { registerJobRoutes } from './routes/jobs.js';
import { registerRunRoutes } from './routes/runs.js';
import { PipelineRuns } from './jobs/runs.js';
import { registerPredictProductRoute } from './routes/predict-product.js';
import { registerStateRoutes } from './routes/read.js';
import { registerModelRoutes } from './routes/models.js';
import { registerReviewRoutes } from './routes/review.js';
import { registerDriftRoutes } from './routes/drift.js';
import { registerUiRoutes } from './routes/ui.js';
import { pathRedactor } from './redact.js';
import { ErrorReply, NOT_BLANK } from './schemas.js';
import type { TSchema } from '@sinclair/typebox';
import { describeSchema } from '../stages/options.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * Who may call a route of the rakuten-pipeline API: `required` (always a key), `predict`
     * (a key when `protectPredictProduct`), `open` (never: liveness probes carry no key),
     * anything else read-only (a key when `protectReads`).
     */
    rakutenAuth?: 'required' | 'predict' | 'open';
  }
}

/** Online predictions kept for review and drift by default (about 30 KB each plus its picture). */
export const DEFAULT_KEPT_ONLINE_PREDICTIONS = 100_000;

function recordingOf(option: RakutenApiOptions['recordPredictions']): { keep: number } | false {
  if (option === false) return false;
  const keep = option === undefined || option === true ? DEFAULT_KEPT_ONLINE_PREDICTIONS : option.keep;
  if (!Number.isInteger(keep) || keep < 1) throw new Error(`rakutenApi: recordPredictions.keep must be a positive integer, got ${String(keep)}`);
  return { keep };
}

/** Default largest image upload: 5 MiB (the challenge's images are 500x500 JPEGs of ~30 KB). */
export const DEFAULT_MAX_IMAGE_BYTES = 5 * 1024 * 1024;


function executorFor(options: RakutenApiOptions, pipeline: Pipeline): JobExecutor {
  const jobs = options.jobs ?? 'worker';
  if (jobs === 'inline') return inlineExecutor(pipeline);
  if (jobs === 'worker') {
    let blueprint: PipelineBlueprint;
    try {
      blueprint = pipeline.blueprint();
    } catch (e) {
      throw new Error(`rakutenApi: jobs: "worker" cannot run this pipeline in worker threads: ${(e as Error).message}`, { cause: e });
    }
    return workerExecutor(blueprint);
  }
  return jobs;
}

function authCheck(auth: AuthOptions | false | undefined) {
  // With auth off the host vouches for every request; with protectReads every reader has a key.
  if (auth === false) return { denied: () => undefined, trusted: () => true };
  const keys = auth?.keys instanceof ApiKeys ? auth.keys : auth?.keys ? new ApiKeys(auth.keys) : apiKeysFromEnv();
  const trusted = (request: FastifyRequest): boolean => {
    if (auth?.protectReads) return true;
    const key = presentedKey(request);
    return key !== undefined && keys.matches(key);
  };
  const denied = (request: FastifyRequest): string | undefined => {
    const level = request.routeOptions.config.rakutenAuth;
    const needed = level === 'required' || (level === 'predict' ? auth?.protectPredictProduct : level !== 'open' && auth?.protectReads);
    if (!needed) return undefined;
    if (keys.size === 0) return 'this server has no API keys configured (set RAKUTEN_API_KEYS or RAKUTEN_API_KEYS_FILE), so routes that change state are closed';
    const key = presentedKey(request);
    if (!key) return 'an API key is required: send "Authorization: Bearer <key>" or "X-API-Key: <key>"';
    return keys.matches(key) ? undefined : 'invalid API key';
  };
  return { denied, trusted };
}

// Requests are validated with Ajvs of the plugin's own: unknown fields are refused rather
// than silently dropped (a typo like "epoch" must not train with defaults). Query strings and
// path parameters are text, so their numbers are coerced; JSON bodies are taken as sent
// (`"seed": true` or `"designation": null` is a 400, not seed 1 or an empty title), and the
// text fields of multipart bodies are converted by `multipartFieldTypes`. A POST without a
// body (`curl -X POST`) is validated as `{}`: every body field of the job and promotion routes
// is optional, and a missing required field is still named.
function validatorCompiler() {
  // verbose: errors carry their schema, so that a union is described as a whole (formatValidationErrors).
  const options = { useDefaults: true, removeAdditional: false, allErrors: false, strict: false, verbose: true } as const;
  const ajv = new Ajv({ ...options, coerceTypes: true });
  const bodyAjv = new Ajv({ ...options, coerceTypes: false });
  return ({ schema, httpPart }: { schema: object; httpPart?: string }) => {
    if (httpPart !== 'body') return ajv.compile(schema);
    const validate = bodyAjv.compile(schema);
    // Fastify passes null for a request without a body.
    const validateBody = (data: unknown) => {
      if (data !== null && data !== undefined) {
        const ok = validate(data);
        validateBody.errors = validate.errors;
        return ok;
      }
      const empty = {};
      const ok = validate(empty);
      validateBody.errors = validate.errors;
      return ok ? { value: empty } : false;
    };
    validateBody.errors = validate.errors;
    return validateBody;
  };
}

/**
 * Multipart fields arrive as text: those the route's body schema types as numbers (in decimal
 * notation, as on the command line) or booleans are converted before validation (`topK=2`);
 * anything else is left for validation to refuse.
 */
function multipartFieldTypes(request: FastifyRequest): void {
  const body = request.body;
  if (!request.isMultipart() || !body || typeof body !== 'object') return;
  const schema = request.routeOptions.schema?.body as { properties?: Record<string, { type?: unknown }> } | undefined;
  const fields = body as Record<string, unknown>;
  for (const [name, value] of Object.entries(fields)) {
    if (typeof value !== 'string') continue;
    const type = schema?.properties?.[name]?.type;
    if ((type === 'integer' || type === 'number') && DECIMAL.test(value.trim())) fields[name] = Number(value);
    else if (type === 'boolean' && (value === 'true' || value === 'false')) fields[name] = value === 'true';
  }
}

/** One readable sentence naming the field: `body/epoch: unknown field`, `body/designation is required`. */
function formatValidationErrors(errors: readonly FastifySchemaValidationError[], dataVar: string): Error {
  // A union (a model reference, a policy) fails each branch, then itself: said once, with what it may be.
  const unions = errors.filter((e) => e.keyword === 'anyOf');
  const kept = errors.filter((e) => e.keyword === 'anyOf' || !unions.some((u) => u.instancePath === e.instancePath && e.schemaPath.startsWith(`${u.schemaPath}/`)));
  const messages = kept.map((e) => {
    const at = `${dataVar}${e.instancePath}`;
    const params = e.params as Record<string, unknown>;
    const union = (e as { parentSchema?: TSchema }).parentSchema;
    if (e.keyword === 'anyOf' && union) return `${at} must be ${describeSchema(union)}`;
    if (e.keyword === 'additionalProperties') return `${at}/${String(params.additionalProperty)}: unknown field`;
    if (e.keyword === 'required') return `${at}/${String(params.missingProperty)} is required`;
    if (e.keyword === 'pattern' && params.pattern === NOT_BLANK) return `${at} must not be empty or blank`;
    return `${at} ${e.message ?? 'is invalid'}`;
  });
  return new Error(messages.join('; '));
}

/**
 * The rakuten-pipeline HTTP API as a Fastify plugin: the classic endpoints (`/load-data`,
 * `/prepare-data`, `/train-model`, `/evaluate-model`, `/predict`) as jobs, `/jobs/{id}`,
 * `/data-status`, `/models`, `/predict/product`, `/docs`, `/health` and `/metrics`. It is
 * encapsulated: its validation, hooks and error handling apply to its routes only, so it can
 * be mounted under a prefix in any Fastify server.
 *
 * @example
 * ```ts
 * const app = Fastify();
 * const pipeline = await createPipeline({ store: 'mongodb://user:password@db/rakuten_db' });
 * app.addHook('onClose', () => pipeline.close());
 * await app.register(rakutenApi, { prefix: '/api', pipeline });
 * ```
 */
export const rakutenApi: FastifyPluginAsync<RakutenApiOptions> = async (app: FastifyInstance, options: RakutenApiOptions) => {
  if (!options.pipeline && !options.store) throw new Error('rakutenApi: give a pipeline (createPipeline) or a store');
  const pipeline = options.pipeline ?? (await createPipeline({ store: options.store as Store }));
  const { store, registry, predictor } = pipeline;
  const champion = new ChampionCache(registry, options.championTtlMs ?? 5_000);
  let metrics: ApiMetrics | undefined;
  const jobs = new JobManager(store.documents, {
    executor: executorFor(options, pipeline),
    ...(options.queue ? { queue: options.queue } : {}),
    onFinish: (job) => {
      if (job.kind === 'train') {
        champion.invalidate();
        // Load a new champion now, not on the first /predict/product that needs it.
        void champion
          .get()
          .then((v) => (v === null ? undefined : predictor.resolve(v)))
          .catch((e: unknown) => app.log.warn({ err: e }, 'could not preload the champion'));
      }
      if (job.kind === 'predict' && job.state === 'succeeded' && job.result && typeof job.result === 'object' && !Array.isArray(job.result)) {
        const perClass = job.result.perClass;
        if (perClass && typeof perClass === 'object' && !Array.isArray(perClass)) {
          for (const [code, n] of Object.entries(perClass)) if (typeof n === 'number') metrics?.countPrediction(Number(code), 'batch', n);
        }
      }
      app.log.info({ jobId: job._id, kind: job.kind, state: job.state, error: job.error?.message }, 'job finished');
      if (job.runId) void runs.jobFinished(job).catch((e: unknown) => app.log.warn({ err: e, runId: job.runId }, 'could not advance the pipeline run'));
    },
  });
  const runs = new PipelineRuns(store.documents, jobs);
  await jobs.init();
  if (options.metrics !== false) {
    metrics = new ApiMetrics({ jobsByState: () => jobs.countByState(), championVersion: () => champion.get(), latestDrift: () => pipeline.drift.latest() });
  }

  const auth = authCheck(options.auth);
  // Anonymous readers see `<store>` and `<data>` instead of where things live on the server.
  const redact = pathRedactor([
    { value: store.uri, label: '<store>' },
    ...(options.dataDir ? [{ value: path.resolve(options.dataDir), label: '<data>' }] : []),
    ...(options.allowedDataDirs ?? []).map((d) => ({ value: path.resolve(d), label: '<data>' })),
  ]);
  const ctx: ApiContext = {
    forCaller: (request, value) => (auth.trusted(request) ? value : redact(value as unknown as JsonValue)) as typeof value,
    store,
    registry,
    predictor,
    jobs,
    runs,
    review: pipeline.review,
    drift: pipeline.drift,
    metrics,
    champion,
    storeProbe: new Probe(() => registry.championVersion()),
    queueProbe: options.queue ? new Probe(() => (options.queue as JobQueue).workers(), 'the queue') : undefined,
    maxImageBytes: options.maxImageBytes ?? DEFAULT_MAX_IMAGE_BYTES,
    recordPredictions: recordingOf(options.recordPredictions),
    pipeline,
    dataDir: dataDirResolver(options.dataDir, options.allowedDataDirs),
  };

  // An empty body sent as JSON (common from HTTP clients on DELETE and bodiless POSTs) means no
  // body; anything else goes through Fastify's own JSON parser and its prototype-poisoning guards.
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = body.toString();
    if (text.trim() === '') done(null, undefined);
    else parseJson(request, text, done);
  });
  app.setValidatorCompiler(validatorCompiler());
  app.setSchemaErrorFormatter(formatValidationErrors);
  app.addSchema(ErrorReply);
  const maxImageBytes = ctx.maxImageBytes;
  await app.register(multipart, {
    attachFieldsToBody: 'keyValues',
    limits: { fileSize: maxImageBytes, files: 1, fields: 10, fieldSize: 256 * 1024, parts: 12 },
    // The image part becomes base64 text, so that JSON and multipart bodies share one schema.
    async onFile(part) {
      const bytes = await part.toBuffer();
      // A file in a text field would otherwise be classified as its base64 text.
      if (part.fieldname !== 'image') {
        throw new HttpError(400, 'UNEXPECTED_FILE', `body/${part.fieldname}: a file was sent where text is expected (only "image" may be a file)`);
      }
      (part as unknown as { value: string }).value = bytes.toString('base64');
    },
  });
  // After the multipart plugin's own preValidation hook, which attaches the fields to the body.
  const multipartParsed = new WeakSet<FastifyRequest>();
  app.addHook('preValidation', async (request) => {
    multipartParsed.add(request);
    multipartFieldTypes(request);
  });

  if (options.docs !== false) {
    await app.register(swagger, {
      openapi: {
        info: {
          title: 'rakuten-pipeline API',
          description: 'Rakuten France product classification: load, prepare, train, evaluate, predict. Long work runs as jobs.',
          version: PACKAGE_VERSION,
        },
        components: {
          securitySchemes: {
            apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
            bearer: { type: 'http', scheme: 'bearer' },
          },
        },
      },
    });
    await app.register(swaggerUi, { routePrefix: '/docs' });
  }

  app.addHook('onRequest', async (request, reply) => {
    const reason = auth.denied(request);
    // Said once, without the key: keys never reach the logs.
    if (reason) return reply.code(401).header('www-authenticate', 'Bearer realm="rakuten-pipeline"').send({ statusCode: 401, error: 'Unauthorized', code: 'UNAUTHORIZED', message: reason });
    return undefined;
  });
  if (metrics) {
    const m = metrics;
    app.addHook('onResponse', async (request, reply) => {
      m.observeRequest(request.method, request.routeOptions.url ?? 'unmatched', reply.statusCode, reply.elapsedTime / 1000);
    });
  }
  app.setErrorHandler((error: Error & { statusCode?: number; code?: string; validation?: unknown }, request, reply) => {
    // busboy's errors (no boundary, a body that does not match it, a truncated part) carry no
    // status; one raised before the hook above ran came from parsing the body: the client's fault.
    if (!error.statusCode && request.isMultipart() && !multipartParsed.has(request)) {
      return reply.code(400).send({ statusCode: 400, error: 'Bad Request', code: 'BAD_MULTIPART', message: `body: malformed multipart/form-data (${error.message})` });
    }
    const status = error.statusCode && error.statusCode >= 400 ? error.statusCode : 500;
    if (status >= 500) request.log.error({ err: error }, 'request failed');
    const message = status >= 500 && !error.statusCode ? 'internal error; the server log has the details' : error.message;
    return reply.code(status).send({ statusCode: status, error: STATUS_CODES[status] ?? 'Error', code: error.code ?? 'INTERNAL', message });
  });

  registerJobRoutes(app, ctx);
  registerRunRoutes(app, ctx);
  registerStateRoutes(app, ctx);
  registerPredictProductRoute(app, ctx);
  registerModelRoutes(app, ctx);
  registerReviewRoutes(app, ctx);
  registerDriftRoutes(app, ctx);
  if (options.ui !== false) await registerUiRoutes(app, ctx);

  app.addHook('onReady', async () => {
    // Load the champion before the first request, so that one is not slow; none is fine.
    const version = await champion.get().catch(() => null);
    if (version !== null) await predictor.resolve(version).catch((e: unknown) => app.log.warn({ err: e }, 'could not preload the champion'));
  });
  app.addHook('onClose', async () => {
    await jobs.close();
  });
};
