/**
 * Your own Fastify server with the rakuten-pipeline API mounted under /api, next to a route of its
 * own, with API keys, JSON request logs (keys redacted) and a graceful shutdown on Ctrl-C/SIGTERM
 * (running jobs are cancelled, then the pipeline's store is closed).
 *
 * Run: RAKUTEN_API_KEYS=change-me-please-0123456789 npx tsx examples/server.ts [--store URI] [--port N] [--data DIR]
 *   --store  store URI: a folder path (embedded) or mongodb://host:port/db (default ./.rakuten-store)
 *   --port   port (default $PORT or 3000; 0 picks a free one)
 *   --data   default data folder of POST /api/load-data; requests may only name folders below it
 *   API keys come from RAKUTEN_API_KEYS (comma-separated, 16+ characters each); without any, a
 *   random key is made up and printed for this run.
 * Then: curl http://127.0.0.1:3000/  ·  http://127.0.0.1:3000/api/docs  ·
 *   npx tsx examples/predict-client.ts --url http://127.0.0.1:3000/api
 *
 * The examples import 'rakuten-pipeline', i.e. this package's build (dist/ and weights/, made by
 * `npm run build` or `npm start`), as your own code would.
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import Fastify from 'fastify';
import { createPipeline, pluginsFromEnv } from 'rakuten-pipeline';
import { apiKeysFromEnv, ApiKeys, rakutenApi } from 'rakuten-pipeline/http';
import { runMain } from './common.js';

runMain(async () => {
  const { values } = parseArgs({ options: { store: { type: 'string' }, port: { type: 'string' }, data: { type: 'string' } } });
  const port = Number(values.port ?? process.env['PORT'] ?? 3000);

  let keys = apiKeysFromEnv();
  if (keys.size === 0) {
    const key = randomBytes(24).toString('base64url');
    keys = new ApiKeys([key]);
    console.log(`no RAKUTEN_API_KEYS set: this run accepts the key ${key}`);
  }

  // Job workers rebuild this pipeline from its store URI (credentials included, kept in memory) and
  // plugin modules (RAKUTEN_PLUGINS): custom drivers and model kinds run in them too.
  const pipeline = await createPipeline({ store: values.store ?? '.rakuten-store', plugins: pluginsFromEnv() });
  const app = Fastify({
    logger: { level: 'info', redact: ['req.headers.authorization', 'req.headers["x-api-key"]'] },
  });

  // A route of this server, outside the plugin: the plugin's auth, validation and error
  // handling are encapsulated and do not apply here.
  app.get('/', async () => ({ service: 'my-shop-classifier', api: '/api', docs: '/api/docs' }));

  await app.register(rakutenApi, {
    prefix: '/api',
    pipeline,
    auth: { keys }, // also { protectReads: true, protectPredictProduct: true } to guard everything
    ...(values.data ? { dataDir: values.data, allowedDataDirs: [values.data] } : {}),
  });

  // Graceful shutdown: stop accepting requests, let the plugin cancel its jobs, close the store.
  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down');
    app
      .close()
      .then(() => pipeline.close())
      .then(
        () => process.exit(0),
        (e: unknown) => {
          app.log.error({ err: e }, 'shutdown failed');
          process.exit(1);
        },
      );
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));

  const address = await app.listen({ port, host: '127.0.0.1' });
  console.log(`listening on ${address}: own route ${address}/, API ${address}/api (docs: ${address}/api/docs)`);
});
