import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { getDataStatus } from '../../stages/status.js';
import type { ApiContext } from '../context.js';
import { HttpError } from '../context.js';
import { DataStatusReply, ErrorReply, HealthReply, ModelsReply, VersionParams } from '../schemas.js';

const started = Date.now();

/** Read-only routes (`/data-status`, `/models`, `/health`, `/metrics`) and the promotion route. */
export function registerStateRoutes(fastify: FastifyInstance, ctx: ApiContext): void {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();

  app.get(
    '/data-status',
    {
      schema: {
        summary: 'What the store holds: rows, labels, images, last load',
        description: 'Callers without an API key see `<store>` and `<data>` in place of server paths.',
        tags: ['data'],
        response: { 200: DataStatusReply, 401: ErrorReply },
      },
    },
    async (request) => ctx.forCaller(request, await getDataStatus(ctx.store)),
  );

  app.get(
    '/models',
    { schema: { summary: 'Registered model versions and the champion', tags: ['models'], response: { 200: ModelsReply, 401: ErrorReply } } },
    async () => {
      const [versions, champion] = await Promise.all([ctx.registry.list(), ctx.registry.championVersion()]);
      return {
        champion,
        versions: versions.map((v) => ({
          version: v.version,
          kind: v.kind,
          createdAt: v.createdAt,
          backend: v.backend,
          trainingSeconds: v.trainingSeconds,
          epochs: v.history.length,
          params: v.params,
          validation: v.validation,
          classes: v.classes,
          champion: v.version === champion,
          prepareRun: v.prepareRun,
          ...(v.corrections ? { corrections: v.corrections } : {}),
        })),
      };
    },
  );

  app.post(
    '/models/:version/promote',
    {
      config: { rakutenAuth: 'required' },
      schema: {
        summary: 'Point the champion alias at a version',
        tags: ['models'],
        security: [{ apiKey: [] }, { bearer: [] }],
        params: VersionParams,
        body: Type.Optional(Type.Object({ reason: Type.Optional(Type.String({ maxLength: 500 })) }, { additionalProperties: false })),
        response: {
          200: Type.Object({ champion: Type.Integer(), previous: Type.Union([Type.Integer(), Type.Null()]) }),
          400: ErrorReply,
          401: ErrorReply,
          404: ErrorReply,
        },
      },
    },
    async (request) => {
      const { version } = request.params;
      if (!(await ctx.registry.get(version))) throw new HttpError(404, 'MODEL_NOT_FOUND', `no model version ${version}`);
      const previous = await ctx.registry.championVersion();
      await ctx.registry.promote(version, request.body?.reason ?? 'promoted through the HTTP API');
      ctx.champion.invalidate();
      request.log.info({ version, previous }, 'champion promoted');
      return { champion: version, previous };
    },
  );

  const healthSchema = {
    summary: 'Liveness and store reachability',
    description:
      'Reads the store (and the queue, when jobs go to one) on each probe (cached for 1 s); 503 when either fails or takes over 2 s. `queue.workers`: the worker processes listening.',
    tags: ['ops'],
    response: { 200: HealthReply, 503: HealthReply },
  };
  app.get('/health', { config: { rakutenAuth: 'open' }, schema: healthSchema }, async (request, reply) => {
    // Not the champion cache: a store that went away must show at once, not after its TTL.
    const [probe, queued] = await Promise.all([ctx.storeProbe.check(), ctx.queueProbe?.check()]);
    const store = { driver: ctx.store.driver, ok: probe.ok, ...(probe.error ? { error: ctx.forCaller(request, probe.error) } : {}) };
    const champion = probe.value;
    // A server whose queue is away accepts no job: degraded like one whose store is away.
    const queue = queued && { ok: queued.ok, workers: queued.value ?? 0, ...(queued.error ? { error: queued.error } : {}) };
    const ok = store.ok && (queue?.ok ?? true);
    return reply.code(ok ? 200 : 503).send({
      status: ok ? 'ok' : 'degraded',
      store,
      ...(queue ? { queue } : {}),
      champion,
      runningJobs: ctx.jobs.running.length,
      uptimeSeconds: Math.round((Date.now() - started) / 1000),
    });
  });

  const metrics = ctx.metrics;
  if (metrics) {
    app.get(
      '/metrics',
      { schema: { summary: 'Prometheus metrics', tags: ['ops'], produces: ['text/plain'], response: { 200: Type.String() } } },
      async (_request, reply) => reply.type(metrics.contentType).send(await metrics.render()),
    );
  }
}
