import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import fastifyStatic from '@fastify/static';
import type { ApiContext } from '../context.js';
import { ErrorReply } from '../schemas.js';

/** Headers of every console file: it talks to its own origin only, and is never framed. */
export const UI_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy':
    "default-src 'self'; img-src 'self' blob: data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

/**
 * The folder of the prebuilt console (`index.html`, `assets/`): `RAKUTEN_UI_DIR` when set (a
 * development build elsewhere), else `ui/` beside the built module (`dist/ui`), else, running
 * from the sources, `dist/ui` of the package root. `undefined` when none holds an `index.html`.
 */
export function uiDirectory(): string | undefined {
  const override = process.env['RAKUTEN_UI_DIR'];
  if (override) return existsSync(path.join(override, 'index.html')) ? path.resolve(override) : undefined;
  const here = path.dirname(fileURLToPath(import.meta.url));
  const beside = path.join(here, 'ui');
  if (existsSync(path.join(beside, 'index.html'))) return beside;
  for (let dir = here; path.dirname(dir) !== dir; dir = path.dirname(dir)) {
    if (!existsSync(path.join(dir, 'package.json'))) continue;
    const built = path.join(dir, 'dist', 'ui');
    return existsSync(path.join(built, 'index.html')) ? built : undefined;
  }
  return undefined;
}

/**
 * The web console at `/ui/` (under the plugin's prefix): static files of the prebuilt bundle,
 * public (the console's API calls carry the key), with a strict Content-Security-Policy. When the
 * package was not built, `/ui/` answers 503 instead.
 */
export async function registerUiRoutes(app: FastifyInstance, _ctx?: ApiContext): Promise<void> {
  const root = uiDirectory();
  app.get(
    '/ui',
    {
      config: { rakutenAuth: 'open' },
      schema: {
        summary: 'The web console (redirects to /ui/)',
        description: 'A browser console over this API: data status, jobs, models, predictions, review queue and drift. Actions that change state ask for an API key.',
        tags: ['ops'],
        response: { 302: { type: 'null', description: 'Redirect to /ui/' } },
      },
    },
    async (_request, reply) => reply.redirect(`${app.prefix}/ui/`, 302),
  );
  await app.register(async (scope) => {
    // The static routes are public whatever protectReads says: they hold no data.
    scope.addHook('onRoute', (route) => {
      route.config = { ...route.config, rakutenAuth: 'open' };
    });
    scope.addHook('onSend', async (_request, reply, payload) => {
      reply.headers(UI_HEADERS);
      // Not content-hashed: the browser revalidates each (ETag) and never runs a stale bundle.
      reply.header('cache-control', 'no-cache');
      return payload;
    });
    if (root) {
      await scope.register(fastifyStatic, { root, prefix: '/ui/', decorateReply: false, index: ['index.html'], wildcard: true, cacheControl: false });
      return;
    }
    const notBuilt = { statusCode: 503, error: 'Service Unavailable', code: 'UI_NOT_BUILT', message: 'the console is not built: run npm run build' };
    scope.get('/ui/*', { schema: { hide: true, response: { 503: ErrorReply } } }, async (_request, reply) => reply.code(503).send(notBuilt));
  });
}
