import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Static } from '@sinclair/typebox';
import type { ApiContext } from '../context.js';
import { HttpError } from '../context.js';
import { RunStateError, type PipelineRunRecord, type PipelineRunSpec } from '../jobs/runs.js';
import { timeZoneProblem, type ScheduleInfo } from '../jobs/queue.js';
import { ErrorReply, IdParams, PipelineRunBody, PipelineRunReply, RunListQuery, ScheduleBody, ScheduleReply } from '../schemas.js';

/** The API's view of a pipeline run (`_id` as `id`, bookkeeping fields left out). */
export function runView(run: PipelineRunRecord): Static<typeof PipelineRunReply> {
  const { _id, revision: _revision, steps, ...rest } = run;
  return {
    id: _id,
    ...rest,
    steps: steps.map(({ claimedAt: _claimedAt, ...step }) => step),
  };
}

const errors = {
  400: ErrorReply,
  401: ErrorReply,
  403: ErrorReply,
  404: ErrorReply,
  409: ErrorReply,
};
const auth = { config: { rakutenAuth: 'required' as const } };
const security: { [label: string]: string[] }[] = [{ apiKey: [] }, { bearer: [] }];

/** Pipeline runs (`/pipeline-runs`) and schedules (`/schedules`, with a queue). */
export function registerRunRoutes(fastify: FastifyInstance, ctx: ApiContext): void {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const prefix = fastify.prefix;

  // A run's load folder is checked now (and resolved), not when its step starts hours later.
  const toSpec = (body: Static<typeof PipelineRunBody>, field: string): PipelineRunSpec => {
    const steps = body.steps;
    const loads = steps === undefined || steps.includes('load');
    const kinds = ctx.pipeline.models.map((m) => m.kind);
    if (body.train?.kind !== undefined && !kinds.includes(body.train.kind)) {
      throw new HttpError(400, 'UNKNOWN_MODEL_KIND', `${field}train/kind: unknown model kind ${JSON.stringify(body.train.kind)}; known: ${kinds.join(', ')}`);
    }
    return {
      ...body,
      ...(loads
        ? {
            load: {
              dataDir: ctx.dataDir(body.load?.dataDir, `${field}load/dataDir`),
            },
          }
        : {}),
    };
  };
  const notFound = (id: string) => new HttpError(404, 'RUN_NOT_FOUND', `no pipeline run ${id}`);
  const stateError = (e: unknown) => (e instanceof RunStateError ? new HttpError(409, 'RUN_STATE', e.message) : e);

  app.post(
    '/pipeline-runs',
    {
      ...auth,
      schema: {
        summary: 'Start a pipeline run',
        description:
          'Starts load → prepare → train → evaluate → predict (or the steps named) as a chain of jobs and answers 202 with the run; follow it with GET /pipeline-runs/{id}. A step that conflicts with a running job fails the run, which can then be resumed.',
        tags: ['pipeline runs'],
        security,
        body: PipelineRunBody,
        response: { 202: PipelineRunReply, ...errors },
      },
    },
    async (request, reply) => {
      const run = await ctx.runs.start(toSpec(request.body, 'body/'));
      request.log.info({ runId: run._id }, 'pipeline run started');
      return reply.code(202).header('location', `${prefix}/pipeline-runs/${run._id}`).send(runView(run));
    }
  );

  app.get(
    '/pipeline-runs',
    {
      schema: {
        summary: 'Recent pipeline runs, newest first',
        tags: ['pipeline runs'],
        querystring: RunListQuery,
        response: {
          200: { type: 'array', items: PipelineRunReply },
          401: ErrorReply,
        },
      },
    },
    async (request) => ctx.forCaller(request, (await ctx.runs.list(request.query)).map(runView))
  );

  app.get(
    '/pipeline-runs/:id',
    {
      schema: {
        summary: 'A pipeline run and its steps',
        tags: ['pipeline runs'],
        params: IdParams,
        response: { 200: PipelineRunReply, 401: ErrorReply, 404: ErrorReply },
      },
    },
    async (request) => {
      const run = await ctx.runs.get(request.params.id);
      if (!run) throw notFound(request.params.id);
      return ctx.forCaller(request, runView(run));
    }
  );

  // Resume and cancel: a change of a run's state, 409 when the run is not in a state for it.
  const runAction = (method: 'POST' | 'DELETE', url: string, summary: string, description: string, act: (id: string) => Promise<PipelineRunRecord | undefined>) =>
    app.route({
      method,
      url,
      ...auth,
      schema: { summary, description, tags: ['pipeline runs'], security, params: IdParams, response: { 202: PipelineRunReply, ...errors } },
      handler: async (request, reply) => {
        const run = await act(request.params.id).catch((e: unknown) => Promise.reject(stateError(e)));
        if (!run) throw notFound(request.params.id);
        return reply.code(202).send(runView(run));
      },
    });
  runAction(
    'POST',
    '/pipeline-runs/:id/resume',
    'Resume a failed or cancelled pipeline run',
    'Starts the run again from its first step that did not succeed (202); the steps that succeeded are not run again. 409 when the run is running or succeeded.',
    (id) => ctx.runs.resume(id),
  );
  runAction('DELETE', '/pipeline-runs/:id', 'Cancel a pipeline run', 'Cancels its current step’s job and starts no later step (202). 409 when it is over.', (id) =>
    ctx.runs.cancel(id),
  );

  // Schedules fire on the queue's workers: without a queue there is nothing to fire them.
  const queue = () => {
    if (!ctx.jobs.queue)
      throw new HttpError(400, 'NO_QUEUE', 'schedules need a queue: start the server with --queue redis://host:6379 and run `rakuten-pipeline worker`');
    return ctx.jobs.queue;
  };
  const schedulesNote = 'Needs a queue (serve --queue); schedules fire on the queue workers, and a firing is an ordinary pipeline run.';

  app.post(
    '/schedules',
    {
      ...auth,
      schema: {
        summary: 'Create or replace a schedule',
        description: `Repeats a pipeline run by cron expression (e.g. a weekly retrain). ${schedulesNote}`,
        tags: ['schedules'],
        security,
        body: ScheduleBody,
        response: { 201: ScheduleReply, ...errors },
      },
    },
    async (request, reply) => {
      const q = queue();
      const { run, ...rest } = request.body;
      const tz = rest.timezone === undefined ? undefined : timeZoneProblem(rest.timezone);
      if (tz) throw new HttpError(400, 'BAD_SCHEDULE', `body/timezone: ${tz}`);
      const spec = toSpec(run, 'body/run/');
      let info: ScheduleInfo;
      try {
        info = await q.upsertSchedule({
          ...rest,
          run: spec as unknown as ScheduleInfo['run'],
        });
      } catch (e) {
        throw new HttpError(400, 'BAD_SCHEDULE', `body/cron: ${(e as Error).message}`);
      }
      return reply.code(201).send(info);
    }
  );

  app.get(
    '/schedules',
    {
      schema: {
        summary: 'Every schedule, with its next firing',
        description: schedulesNote,
        tags: ['schedules'],
        response: {
          200: { type: 'array', items: ScheduleReply },
          400: ErrorReply,
          401: ErrorReply,
        },
      },
    },
    async (request) => ctx.forCaller(request, await queue().listSchedules())
  );

  app.delete(
    '/schedules/:id',
    {
      ...auth,
      schema: {
        summary: 'Remove a schedule',
        description: 'Runs it already started go on.',
        tags: ['schedules'],
        security,
        params: IdParams,
        response: { 204: { type: 'null' }, ...errors },
      },
    },
    async (request, reply) => {
      if (!(await queue().removeSchedule(request.params.id))) throw new HttpError(404, 'SCHEDULE_NOT_FOUND', `no schedule ${request.params.id}`);
      return reply.code(204).send();
    }
  );
}
