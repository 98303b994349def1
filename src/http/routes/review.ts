import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { keyId, ReviewError, type Correction } from '../../stages/monitor/review.js';
import { presentedKey } from '../auth.js';
import type { ApiContext } from '../context.js';
import { HttpError } from '../context.js';
import { CorrectionBody, CorrectionReply, ErrorReply, LimitQuery, ReviewListReply, ReviewParams, ReviewQuery } from '../schemas.js';

const STATUS = { NOT_FOUND: 404, ALREADY_REVIEWED: 409, UNKNOWN_CLASS: 400 } as const;

/** Review errors as HTTP errors. */
async function answering<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (e) {
    if (e instanceof ReviewError) throw new HttpError(STATUS[e.code], e.code === 'NOT_FOUND' ? 'REVIEW_ITEM_NOT_FOUND' : e.code, e.message);
    throw e;
  }
}

const view = (c: Correction) => ({
  id: c._id,
  predictionId: c.predictionId,
  source: c.source,
  modelVersion: c.modelVersion,
  predicted: c.predicted,
  prdtypecode: c.prdtypecode,
  accepted: c.accepted,
  keyId: c.keyId,
  at: c.at,
  designation: c.input.designation,
});

/** The review queue: `GET /review`, an item's image, `POST /review/{id}`, `GET /review/corrections`. */
export function registerReviewRoutes(fastify: FastifyInstance, ctx: ApiContext): void {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  // The caller's key id (never the key); `null` when the host vouches for callers (auth off).
  const who = (request: FastifyRequest) => {
    const key = presentedKey(request);
    return { keyId: key === undefined ? null : keyId(key) };
  };

  // Every review route needs a key, reads included: the queue shows what other callers sent to
  // /predict/product (titles, descriptions, pictures), which open reads must not hand to anyone.
  const keyed = { config: { rakutenAuth: 'required' as const } };
  const security: Record<string, string[]>[] = [{ apiKey: [] }, { bearer: [] }];
  app.get(
    '/review',
    {
      ...keyed,
      schema: {
        summary: 'The review queue',
        description:
          "The champion's unreviewed predictions (online and batch): `uncertain` least certain first (smallest margin between the two best classes), `disagreement` those whose text alone and image alone give different classes, `all` both.",
        tags: ['review'],
        security,
        querystring: ReviewQuery,
        response: { 200: ReviewListReply, 401: ErrorReply },
      },
    },
    async (request) => ctx.review.list(request.query),
  );

  app.get(
    '/review/corrections',
    {
      ...keyed,
      schema: { summary: 'Recorded verdicts, newest first', tags: ['review'], security, querystring: LimitQuery, response: { 200: { type: 'array', items: CorrectionReply }, 401: ErrorReply } },
    },
    async (request) => (await ctx.review.listCorrections(request.query.limit)).map(view),
  );

  app.get(
    '/review/:id/image',
    {
      ...keyed,
      schema: {
        summary: "A review item's image",
        tags: ['review'],
        security,
        params: ReviewParams,
        produces: ['image/jpeg', 'image/png', 'image/webp'],
        response: { 200: { type: 'string', format: 'binary' }, 401: ErrorReply, 404: ErrorReply },
      },
    },
    async (request, reply) => {
      const image = await answering(() => ctx.review.image(request.params.id));
      if (!image) throw new HttpError(404, 'NO_IMAGE', `review item ${request.params.id} has no image`);
      // Never rendered as anything but an image, whatever its bytes claim.
      return reply.type(image.contentType).header('x-content-type-options', 'nosniff').header('content-security-policy', "default-src 'none'").send(image.bytes);
    },
  );

  app.post(
    '/review/:id',
    {
      ...keyed,
      schema: {
        summary: 'Accept or correct a prediction',
        description:
          'Send the predicted class to accept it, another to correct it. Stored in `review_corrections` with the id of the API key (never the key) and the time; a prediction is reviewed once (409 after). `POST /train-model` with `includeCorrections` trains on them.',
        tags: ['review'],
        security,
        params: ReviewParams,
        body: CorrectionBody,
        response: { 201: CorrectionReply, 400: ErrorReply, 401: ErrorReply, 404: ErrorReply, 409: ErrorReply },
      },
    },
    async (request, reply) => {
      const correction = await answering(() => ctx.review.correct(request.params.id, request.body.prdtypecode, who(request)));
      request.log.info({ id: correction._id, accepted: correction.accepted, keyId: correction.keyId }, 'prediction reviewed');
      return reply.code(201).send(view(correction));
    },
  );
}
