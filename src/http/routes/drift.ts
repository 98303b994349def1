import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { DriftUnavailableError, type DriftReport } from '../../stages/monitor/drift.js';
import type { ApiContext } from '../context.js';
import { HttpError } from '../context.js';
import { DriftBody, DriftReportReply, ErrorReply, LimitQuery } from '../schemas.js';

/** A stored report as the API answers it (`id` for `_id`). */
export const driftView = ({ _id, ...rest }: DriftReport) => ({ id: _id, ...rest });

/** Drift reports: `GET /drift`, `POST /drift`, `GET /drift/reports`. */
export function registerDriftRoutes(fastify: FastifyInstance, ctx: ApiContext): void {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();

  app.get(
    '/drift',
    {
      schema: {
        summary: 'The newest drift report',
        description: 'Recent predictions of the champion compared with its training generation; 404 before the first report (POST /drift).',
        tags: ['drift'],
        response: { 200: DriftReportReply, 401: ErrorReply, 404: ErrorReply },
      },
    },
    async () => {
      const report = await ctx.drift.latest();
      if (!report) throw new HttpError(404, 'NO_DRIFT_REPORT', 'no drift report yet: POST /drift computes one');
      return driftView(report);
    },
  );

  app.get(
    '/drift/reports',
    { schema: { summary: 'Drift reports, newest first', tags: ['drift'], querystring: LimitQuery, response: { 200: { type: 'array', items: DriftReportReply }, 401: ErrorReply } } },
    async (request) => (await ctx.drift.list(request.query.limit)).map(driftView),
  );

  app.post(
    '/drift',
    {
      config: { rakutenAuth: 'required' },
      schema: {
        summary: 'Compute and store a drift report now',
        description:
          "Compares the champion's most recent predictions (online and batch, `window` of them) with its training generation: predicted classes, text length, language mix, out-of-vocabulary share, share with an image, image features, each by population stability index against a threshold (0.25). 409 without a champion or when it has no reference (trained before drift monitoring).",
        tags: ['drift'],
        security: [{ apiKey: [] }, { bearer: [] }],
        body: DriftBody,
        response: { 201: DriftReportReply, 400: ErrorReply, 401: ErrorReply, 409: ErrorReply },
      },
    },
    async (request, reply) => {
      let report: DriftReport;
      try {
        report = await ctx.drift.report({ ...(request.body?.window !== undefined ? { window: request.body.window } : {}) });
      } catch (e) {
        if (e instanceof DriftUnavailableError) throw new HttpError(409, 'NO_DRIFT_REFERENCE', e.message);
        throw e;
      }
      return reply.code(201).send(driftView(report));
    },
  );
}
