import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import type { ApiContext } from '../context.js';
import { HttpError } from '../context.js';
import { isFinal, JobConflictError } from '../jobs/manager.js';
import type { JobKind, JobParamsByKind } from '../../pipeline/jobs.js';
import type { JobRecord, JobView } from '../jobs/types.js';
import {
  ErrorReply,
  EvaluateModelBody,
  JobListQuery,
  JobParams,
  JobReply,
  LoadDataBody,
  PredictBody,
  PrepareDataBody,
  TrainModelBody,
} from '../schemas.js';

/** The API's view of a stored job (its `_id` as `id`, bookkeeping fields left out). */
export function jobView(job: JobRecord): JobView {
  return {
    id: job._id,
    kind: job.kind,
    state: job.state,
    params: job.params,
    createdAt: job.createdAt,
    startedAt: job.startedAt,
    finishedAt: job.finishedAt,
    progress: job.progress,
    result: job.result,
    error: job.error,
    cancelRequested: job.cancelRequested,
  };
}

const errors = { 400: ErrorReply, 401: ErrorReply, 403: ErrorReply, 404: ErrorReply, 409: ErrorReply };

/** Job routes: the five classic `POST` endpoints that start work, and `/jobs`. */
export function registerJobRoutes(fastify: FastifyInstance, ctx: ApiContext): void {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const prefix = fastify.prefix;

  const startRoute = <K extends JobKind, B extends TSchema>(
    url: string,
    kind: K,
    body: B,
    summary: string,
    toParams: (body: Static<B>) => JobParamsByKind[K] | Promise<JobParamsByKind[K]>,
  ) => {
    app.post(
      url,
      {
        config: { rakutenAuth: 'required' },
        schema: {
          summary,
          description: `Starts a ${kind} job and answers at once with 202 and the job; follow it with GET /jobs/{id}. Conflicting jobs are refused with 409.`,
          tags: ['jobs'],
          security: [{ apiKey: [] }, { bearer: [] }],
          body,
          response: { 202: JobReply, ...errors },
        },
      },
      async (request, reply) => {
        // The validator turns a missing body into {} (see validatorCompiler).
        const params = await toParams(request.body);
        try {
          const job = await ctx.jobs.start(kind, params);
          request.log.info({ jobId: job._id, kind }, 'job started');
          return reply.code(202).header('location', `${prefix}/jobs/${job._id}`).send(jobView(job));
        } catch (e) {
          if (e instanceof JobConflictError) throw new HttpError(409, 'JOB_CONFLICT', e.message);
          throw e;
        }
      },
    );
  };

  startRoute('/load-data', 'load', LoadDataBody, 'Load the challenge data into the store', (b) => ({
    dataDir: ctx.dataDir(b.dataDir, 'dataDir'),
  }));
  startRoute('/prepare-data', 'prepare', PrepareDataBody, 'Preprocess and split the labelled rows', (b) => ({ ...b }));
  startRoute('/train-model', 'train', TrainModelBody, 'Train and register a model version', (b) => {
    const kinds = ctx.pipeline.models.map((m) => m.kind);
    if (b.kind !== undefined && !kinds.includes(b.kind)) {
      throw new HttpError(400, 'UNKNOWN_MODEL_KIND', `body/kind: unknown model kind ${JSON.stringify(b.kind)}; known: ${kinds.join(', ')}`);
    }
    return { ...b };
  });
  // A version number that does not exist is a 404 now, not a job that fails later (one lookup).
  const requireVersion = async (model: JobParamsByKind['predict']['model']) => {
    if (typeof model === 'number' && !(await ctx.registry.get(model))) throw new HttpError(404, 'MODEL_NOT_FOUND', `body/model: no model version ${model}`);
  };
  startRoute('/evaluate-model', 'evaluate', EvaluateModelBody, 'Evaluate a model version on the held-out split', async (b) => {
    await requireVersion(b.model);
    return { ...b, ...(b.dataDir !== undefined ? { dataDir: ctx.dataDir(b.dataDir, 'dataDir') } : {}) };
  });
  startRoute('/predict', 'predict', PredictBody, 'Predict every stored test row into `predictions`', async (b) => {
    await requireVersion(b.model);
    return { ...b };
  });

  app.get(
    '/jobs',
    {
      schema: {
        summary: 'Recent jobs, newest first',
        tags: ['jobs'],
        querystring: JobListQuery,
        response: { 200: { type: 'array', items: JobReply }, 401: ErrorReply },
      },
    },
    async (request) => ctx.forCaller(request, (await ctx.jobs.list(request.query)).map(jobView)),
  );

  // Open event streams, ended before the server stops listening (it would otherwise wait for them).
  const streams = new Set<() => void>();
  fastify.addHook('preClose', async () => {
    for (const end of streams) end();
  });
  app.get(
    '/jobs/events',
    {
      schema: {
        summary: 'Live job updates (server-sent events)',
        description:
          'A `text/event-stream`: one `job` event (data: the job, as `GET /jobs/{id}`) per recent job on connect, then one whenever a job changes state or progress, whichever server or worker runs it (the store is read every 500 ms); a `: ping` comment every 15 s. Send the API key in a header like any read (use fetch, not EventSource, when reads are protected).',
        tags: ['jobs'],
        produces: ['text/event-stream'],
        querystring: Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 20 })) }, { additionalProperties: false }),
        response: { 200: { type: 'string', description: 'event: job\ndata: {...}\n\n' }, 401: ErrorReply },
      },
    },
    (request, reply) => {
      reply.hijack();
      const out = reply.raw;
      out.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache, no-transform', connection: 'keep-alive', 'x-accel-buffering': 'no' });
      // Headers now: with no job to tell of, a client would otherwise wait for the first ping.
      out.flushHeaders();
      const seen = new Map<string, string>();
      let stopped = false;
      const send = async () => {
        const jobs = await ctx.jobs.list({ limit: request.query.limit ?? 20 });
        // Oldest first, so that a client applying events in order ends with the newest state.
        for (const job of jobs.reverse()) {
          const view = ctx.forCaller(request, jobView(job));
          const text = JSON.stringify(view);
          if (seen.get(job._id) === text) continue;
          seen.set(job._id, text);
          if (!stopped) out.write(`event: job\nid: ${job._id}\ndata: ${text}\n\n`);
        }
      };
      let busy = false;
      const tick = () => {
        if (busy || stopped) return;
        busy = true;
        send()
          .catch((e: unknown) => request.log.warn({ err: e }, 'job events: could not read the jobs'))
          .finally(() => (busy = false));
      };
      const poll = setInterval(tick, 500);
      const ping = setInterval(() => out.write(': ping\n\n'), 15_000);
      const end = () => {
        if (stopped) return;
        stopped = true;
        clearInterval(poll);
        clearInterval(ping);
        streams.delete(end);
        out.end();
      };
      streams.add(end);
      request.raw.on('close', end);
      out.on('error', end);
      tick();
    },
  );

  app.get(
    '/jobs/:id',
    {
      schema: { summary: 'A job: state, progress, result or error', tags: ['jobs'], params: JobParams, response: { 200: JobReply, 401: ErrorReply, 404: ErrorReply } },
    },
    async (request) => {
      const job = await ctx.jobs.get(request.params.id);
      if (!job) throw new HttpError(404, 'JOB_NOT_FOUND', `no job ${request.params.id}`);
      return ctx.forCaller(request, jobView(job));
    },
  );

  app.delete(
    '/jobs/:id',
    {
      config: { rakutenAuth: 'required' },
      schema: {
        summary: 'Cancel a job',
        description: 'Asks a running job to stop between batches (202); what it committed stays committed. 409 when it has already finished.',
        tags: ['jobs'],
        security: [{ apiKey: [] }, { bearer: [] }],
        params: JobParams,
        response: { 202: JobReply, ...errors },
      },
    },
    async (request, reply) => {
      const job = await ctx.jobs.cancel(request.params.id);
      if (!job) throw new HttpError(404, 'JOB_NOT_FOUND', `no job ${request.params.id}`);
      if (isFinal(job.state)) throw new HttpError(409, 'JOB_FINISHED', `job ${job._id} has already ${job.state === 'cancelled' ? 'been cancelled' : job.state}`);
      return reply.code(202).send(jobView(job));
    },
  );
}
