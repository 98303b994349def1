import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { ImageTooLargeError, UndecodableImageError } from '../../stages/preprocess/image.js';
import type { ApiContext } from '../context.js';
import { HttpError } from '../context.js';
import { ErrorReply, PredictProductBody, PredictProductReply } from '../schemas.js';

/** Online predictions recorded between two retention checks (fewer when fewer are kept). */
const PRUNE_EVERY = 100;

/** `POST /predict/product`: one product, answered synchronously by the cached champion. */
export function registerPredictProductRoute(fastify: FastifyInstance, ctx: ApiContext): void {
  let recorded = 0;
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  app.post(
    '/predict/product',
    {
      config: { rakutenAuth: 'predict' },
      // A base64 image in JSON is 4/3 of its bytes, plus the text fields (the host's default
      // body limit, 1 MiB in Fastify, would otherwise cap images below maxImageBytes).
      bodyLimit: Math.ceil((ctx.maxImageBytes * 4) / 3) + 512 * 1024,
      schema: {
        summary: 'Classify one product',
        description:
          'Title, optional description and optional image (JSON with the image in base64, or multipart/form-data with the image as a file part). ' +
          'Answers with the top-k codes, their probabilities and category names, and the champion version that predicted.',
        tags: ['predict'],
        consumes: ['application/json', 'multipart/form-data'],
        body: PredictProductBody,
        response: { 200: PredictProductReply, 400: ErrorReply, 401: ErrorReply, 413: ErrorReply, 503: ErrorReply },
      },
    },
    async (request) => {
      const t0 = performance.now();
      const version = await ctx.champion.get();
      if (version === null) throw new HttpError(503, 'NO_CHAMPION', 'no champion model yet: train one with POST /train-model (or promote a version)');
      const { designation, description = '', image, topK } = request.body;
      const bytes = image ? Buffer.from(image, 'base64') : null;
      if (image && bytes?.length === 0) throw new HttpError(400, 'BAD_IMAGE', 'body/image: not base64-encoded image bytes');
      try {
        const prediction = await ctx.predictor.predictProduct({ designation, description, image: bytes }, { model: version, topK: topK ?? 3, record: ctx.recordPredictions !== false });
        ctx.metrics?.countPrediction(prediction.prdtypecode, 'online');
        // Retention checked every so often, not on each request; never fails the prediction.
        const recording = ctx.recordPredictions;
        if (recording && ++recorded % Math.min(PRUNE_EVERY, recording.keep) === 0) {
          void ctx.review.pruneOnline(recording.keep).catch((e: unknown) => request.log.warn({ err: e }, 'could not prune online predictions'));
        }
        return { ...prediction, ms: Math.round((performance.now() - t0) * 1000) / 1000 };
      } catch (e) {
        // Refused from the header, before decoding: a bomb costs neither memory nor seconds.
        if (e instanceof ImageTooLargeError) throw new HttpError(413, 'IMAGE_TOO_LARGE', `body/image: ${e.message}`);
        if (e instanceof UndecodableImageError) throw new HttpError(400, 'BAD_IMAGE', `body/image: ${e.message}`);
        throw e;
      }
    },
  );
}
