import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { createPipeline, type PipelineOptions } from '../pipeline/pipeline.js';
import type { RakutenApiOptions } from './options.js';
import { rakutenApi } from './plugin.js';
import { requestSerializer } from './redact.js';

/** Options of {@link createServer}. */
export interface ServerOptions extends Omit<RakutenApiOptions, 'store' | 'pipeline'>, Omit<PipelineOptions, 'store' | 'create'> {
  /** Store URI, credentials included (default `$RAKUTEN_STORE` or `.rakuten-store`); job workers reopen it from this. */
  storeUri?: string;
  /**
   * Fastify's logger option (default: JSON logs at `info`; `false` for none). Options objects
   * get the key-redacting request serializer and header redaction unless they set their own.
   */
  logger?: FastifyServerOptions['logger'];
  /** Mount the API under this prefix (default none). */
  prefix?: string;
}

const REDACT_HEADERS = ['req.headers.authorization', 'req.headers["x-api-key"]'];

/** Logger options that never write a key: in headers, or in the query string of a URL. */
function withRedaction(logger: ServerOptions['logger']): FastifyServerOptions['logger'] {
  if (logger === false) return false;
  const base = logger === undefined || logger === true ? { level: 'info' } : logger;
  return { redact: REDACT_HEADERS, ...base, serializers: { req: requestSerializer, ...base.serializers } };
}

/**
 * A Fastify server with the API mounted on a pipeline it creates (and closes when the server
 * closes), with request logs that never contain API keys. Call `listen` on it.
 */
export async function createServer(options: ServerOptions = {}): Promise<FastifyInstance> {
  const { storeUri, logger, prefix, plugins, models, preprocessing, backend, ...api } = options;
  const pipeline = await createPipeline({
    ...(storeUri !== undefined ? { store: storeUri } : {}),
    ...(plugins ? { plugins } : {}),
    ...(models ? { models } : {}),
    ...(preprocessing ? { preprocessing } : {}),
    ...(backend ? { backend } : {}),
  });
  const app = Fastify({ logger: withRedaction(logger) });
  app.addHook('onClose', async () => {
    await pipeline.close();
  });
  // Unknown routes answer in the API's error shape too.
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({ statusCode: 404, error: 'Not Found', code: 'NOT_FOUND', message: `no route ${request.method} ${request.url.split('?')[0]}` }),
  );
  try {
    await app.register(rakutenApi, { ...api, pipeline, ...(prefix ? { prefix } : {}) });
    await app.ready();
  } catch (e) {
    await app.close().catch(() => undefined);
    throw e;
  }
  return app;
}
