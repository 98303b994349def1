import { rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobView } from '../../src/http/jobs/types.js';
import { createServer } from '../../src/http/server.js';
import { categoryName, categoryNames, type CategoryNames } from '../../src/categories.js';
import { NAIVE_BAYES_KIND } from '../../src/models/naive-bayes.js';
import type { ScoredClass } from '../../src/stages/predict/predictor.js';
import { makeCatalogue, tempDir } from '../support/data.js';
import { storeBackends } from '../support/stores.js';
import { API_KEY, jpeg, metricSamples, metricSum, OTHER_KEY, startApi, type ErrorBody, type RunningApi } from './support.js';

/** The parts of an OpenAPI 3 document the test reads. */
interface OpenApiDoc {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<string, Partial<Record<'get' | 'post' | 'delete' | 'put' | 'patch', OpenApiOperation>>>;
  components?: { securitySchemes?: Record<string, unknown>; schemas?: Record<string, unknown> };
}
interface OpenApiOperation {
  summary?: string;
  security?: unknown[];
  parameters?: { in: string; name: string; required?: boolean }[];
  requestBody?: { content: Record<string, { schema?: { properties?: Record<string, unknown>; additionalProperties?: unknown } }> };
  responses: Record<string, unknown>;
}

// Auth, validation, limits, docs, health and metrics of a server with an empty store: no
// training needed, so every backend gets the whole list in a few seconds.

for (const backend of storeBackends()) {
  describe.skipIf(backend.skip)(`HTTP API basics on ${backend.name}`, () => {
    let api: RunningApi;
    let dataRoot = '';
    beforeAll(async () => {
      dataRoot = await tempDir('rp-allowed-');
      api = await startApi(backend, { maxImageBytes: 2_000, allowedDataDirs: [dataRoot], jobs: 'inline' });
    });
    afterAll(() => api?.close());

    it('refuses state-changing routes without a valid key, with a readable 401', async () => {
      const none = await api.anonymous.post<ErrorBody>('/prepare-data', {});
      expect(none.status).toBe(401);
      expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expect(none.body).toEqual({
        statusCode: 401,
        error: 'Unauthorized',
        code: 'UNAUTHORIZED',
        message: 'an API key is required: send "Authorization: Bearer <key>" or "X-API-Key: <key>"',
      });
      const wrongKeys: Record<string, string>[] = [{ authorization: `Bearer ${API_KEY}x` }, { 'x-api-key': 'not-the-right-key-at-all' }, { authorization: API_KEY }];
      for (const headers of wrongKeys) {
        const wrong = await api.anonymous.with(headers).post<ErrorBody>('/train-model', {});
        expect(wrong.status, JSON.stringify(headers)).toBe(401);
        expect(wrong.body.message).toMatch(headers.authorization === API_KEY ? /API key is required/ : /^invalid API key$/);
        // The key is never echoed back.
        expect(JSON.stringify(wrong.body)).not.toContain('not-the-right-key');
      }
      for (const route of ['/load-data', '/evaluate-model', '/predict', '/models/1/promote']) {
        expect((await api.anonymous.post(route, {})).status, route).toBe(401);
      }
      expect((await api.anonymous.delete('/jobs/some-id')).status).toBe(401);
      // Nothing was started by the refused requests.
      expect((await api.anonymous.get<JobView[]>('/jobs')).body).toEqual([]);
    });

    it('accepts a key as a Bearer token or as X-API-Key', async () => {
      // Both reach the handler: a 404 for a version that does not exist, not a 401.
      const bearer = await api.client.post<ErrorBody>('/models/7/promote', { reason: 'test' });
      expect(bearer.status).toBe(404);
      expect(bearer.body).toMatchObject({ code: 'MODEL_NOT_FOUND', message: 'no model version 7' });
      const lower = await api.anonymous.with({ authorization: `bearer ${OTHER_KEY}` }).post('/models/7/promote', {});
      expect(lower.status).toBe(404);
      const header = await api.anonymous.with({ 'x-api-key': OTHER_KEY }).delete<ErrorBody>('/jobs/no-such-job');
      expect(header.status).toBe(404);
      expect(header.body).toMatchObject({ code: 'JOB_NOT_FOUND', message: 'no job no-such-job' });
    });

    it('leaves the read routes and /predict/product open by default', async () => {
      for (const route of ['/jobs', '/jobs?state=running&limit=5', '/data-status', '/models', '/health', '/metrics', '/docs/json']) {
        expect((await api.anonymous.get(route)).status, route).toBe(200);
      }
      const models = await api.anonymous.get('/models');
      expect(models.body).toEqual({ champion: null, versions: [] });
      const status = await api.anonymous.get<{ driver: string; labelledTrainRows: number; lastLoad: unknown }>('/data-status');
      expect(status.body).toMatchObject({ driver: backend.name.startsWith('mongodb') ? 'mongodb' : 'embedded', labelledTrainRows: 0, lastLoad: null });
      // Open, but there is no model yet.
      const product = await api.anonymous.post<ErrorBody>('/predict/product', { designation: 'Lampe de chevet' });
      expect(product.status).toBe(503);
      expect(product.body).toMatchObject({ code: 'NO_CHAMPION', message: expect.stringMatching(/POST \/train-model/) });
    });

    it('validates bodies, parameters and queries with messages naming the field', async () => {
      const cases: { route: string; json?: unknown; body?: string; type?: string; status?: number; code?: string; message: string | RegExp }[] = [
        { route: '/train-model', body: '{"epochs": ', type: 'application/json', code: 'FST_ERR_CTP_INVALID_JSON_BODY', message: /not valid JSON/ },
        { route: '/train-model', json: { epochs: 'ten' }, message: 'body/epochs must be integer' },
        { route: '/train-model', json: { epochs: 2.5 }, message: 'body/epochs must be integer' },
        { route: '/train-model', json: { epoch: 3 }, message: 'body/epoch: unknown field' },
        { route: '/train-model', json: { epochs: 0 }, message: 'body/epochs must be >= 1' },
        { route: '/train-model', json: { promote: 'sometimes' }, message: /^body\/promote / },
        { route: '/train-model', json: { kind: 'resnet' }, code: 'UNKNOWN_MODEL_KIND', message: /^body\/kind: unknown model kind "resnet"; known: text-image-v1, naive-bayes-v1$/ },
        { route: '/train-model', json: [1, 2], message: 'body must be object' },
        // JSON bodies are taken as sent: no silent coercion of other types.
        { route: '/train-model', json: { seed: true }, message: 'body/seed must be integer' },
        { route: '/train-model', json: { epochs: '5' }, message: 'body/epochs must be integer' },
        { route: '/train-model', json: { classWeighting: 1 }, message: 'body/classWeighting must be boolean' },
        { route: '/predict/product', json: { designation: null }, message: 'body/designation must be string' },
        { route: '/predict/product', json: { designation: 'x', topK: '2' }, message: 'body/topK must be integer' },
        { route: '/prepare-data', json: { val: 0.9 }, message: 'body/val must be < 0.5' },
        { route: '/prepare-data', json: { seed: 42, extra: true }, message: 'body/extra: unknown field' },
        { route: '/evaluate-model', json: { model: 'best' }, message: /^body\/model / },
        { route: '/predict', json: { model: 0 }, message: /^body\/model / },
        { route: '/load-data', json: {}, code: 'NO_DATA_DIR', message: 'body/dataDir is required: this server has no default data folder' },
        { route: '/load-data', json: { dataDir: '/etc' }, status: 403, code: 'DATA_DIR_NOT_ALLOWED', message: /^body\/dataDir: \/etc is outside/ },
        { route: '/load-data', json: { dataDir: path.join('/tmp', 'x', '..', '..', 'etc') }, status: 403, code: 'DATA_DIR_NOT_ALLOWED', message: /outside/ },
        { route: '/load-data', json: { dataDir: 'typo' }, status: 403, code: 'DATA_DIR_NOT_ALLOWED', message: /outside/ },
        { route: '/evaluate-model', json: { dataDir: '/' }, status: 403, code: 'DATA_DIR_NOT_ALLOWED', message: /outside/ },
        { route: '/models/abc/promote', json: {}, message: 'params/version must be integer' },
        { route: '/models/1/promote', json: { reason: 3, why: 'x' }, message: 'body/why: unknown field' },
        { route: '/predict/product', json: { description: 'a lamp' }, message: 'body/designation is required' },
        { route: '/predict/product', json: { designation: 'x', topK: 40 }, message: 'body/topK must be <= 27' },
        { route: '/predict/product', json: { designation: 'x', colour: 'red' }, message: 'body/colour: unknown field' },
      ];
      cases.push({ route: '/load-data', json: { dataDir: path.join(dataRoot, 'missing') }, code: 'NO_SUCH_DATA_DIR', message: `body/dataDir: ${path.join(dataRoot, 'missing')} is not a folder on the server` });
      for (const c of cases) {
        const init = c.json !== undefined ? { json: c.json } : { body: c.body ?? '', headers: { 'content-type': c.type ?? 'application/json' } };
        const reply = await api.client.request<ErrorBody>('POST', c.route, init);
        const label = `${c.route} ${JSON.stringify(c.json ?? c.body)}: ${JSON.stringify(reply.body)}`;
        expect(reply.status, label).toBe(c.status ?? 400);
        expect(reply.body.code, label).toBe(c.code ?? 'FST_ERR_VALIDATION');
        expect(reply.body.error, label).toBe(c.status === 403 ? 'Forbidden' : 'Bad Request');
        expect(reply.body.message, label).toMatch(typeof c.message === 'string' ? new RegExp(`^${literal(c.message)}$`) : c.message);
      }
      const query = await api.anonymous.get<ErrorBody>('/jobs?limit=abc');
      expect(query.status).toBe(400);
      expect(query.body.message).toBe('querystring/limit must be integer');
      expect((await api.anonymous.get<ErrorBody>('/jobs?state=done')).body.message).toMatch(/^querystring\/state /);
      expect((await api.anonymous.get<ErrorBody>('/jobs?colour=red')).body.message).toBe('querystring/colour: unknown field');
      const missing = await api.anonymous.get<ErrorBody>('/jobs/8b0e1c9a-0000-4000-8000-000000000000');
      expect(missing.status).toBe(404);
      expect(missing.body).toMatchObject({ statusCode: 404, error: 'Not Found', code: 'JOB_NOT_FOUND' });
      // None of the refused requests started a job.
      expect((await api.anonymous.get<JobView[]>('/jobs')).body).toEqual([]);
    });

    it('converts and validates multipart text fields by the body schema', async () => {
      const form = (fields: Record<string, string>) => {
        const f = new FormData();
        for (const [k, v] of Object.entries(fields)) f.set(k, v);
        return f;
      };
      // topK=2 is a number once converted: validation passes and the handler answers (no model yet).
      const ok = await api.anonymous.request<ErrorBody>('POST', '/predict/product', { body: form({ designation: 'Lampe', topK: '2' }) });
      expect(ok.status).toBe(503);
      for (const [fields, message] of [
        [{ designation: 'Lampe', topK: 'two' }, 'body/topK must be integer'],
        [{ designation: 'Lampe', topK: '2.5' }, 'body/topK must be integer'],
        [{ designation: 'Lampe', topK: '99' }, 'body/topK must be <= 27'],
        [{ designation: 'Lampe', colour: 'red' }, 'body/colour: unknown field'],
        [{ description: 'Lampe' }, 'body/designation is required'],
      ] as const) {
        const reply = await api.anonymous.request<ErrorBody>('POST', '/predict/product', { body: form(fields) });
        expect(reply.status, JSON.stringify(fields)).toBe(400);
        expect(reply.body.message, JSON.stringify(fields)).toBe(message);
      }
    });

    it('treats a POST without a body as "all defaults"', async () => {
      // e.g. `curl -X POST -H "X-API-Key: ..." .../models/3/promote`: no body, no content type.
      const promote = await api.client.request<ErrorBody>('POST', '/models/3/promote');
      expect(promote.status).toBe(404);
      expect(promote.body.code).toBe('MODEL_NOT_FOUND');
      // A required field is still named when the whole body is missing.
      const product = await api.client.request<ErrorBody>('POST', '/predict/product');
      expect(product.status).toBe(400);
      expect(product.body.message).toBe('body/designation is required');
    });

    it('answers 413 for an upload above maxImageBytes, in multipart and in JSON', async () => {
      const big = await jpeg(64, { noise: true });
      expect(big.length).toBeGreaterThan(2_000);
      const form = new FormData();
      form.set('designation', 'Grande photo');
      form.set('image', new Blob([big], { type: 'image/jpeg' }), 'big.jpg');
      const multipart = await api.anonymous.request<ErrorBody>('POST', '/predict/product', { body: form });
      expect(multipart.status).toBe(413);
      expect(multipart.body).toMatchObject({ statusCode: 413, error: 'Payload Too Large', code: 'FST_REQ_FILE_TOO_LARGE' });
      // A JSON body is limited to the base64 of maxImageBytes plus room for the text fields.
      const json = await api.anonymous.request<ErrorBody>('POST', '/predict/product', { json: { designation: 'x', image: Buffer.alloc(2 << 20).toString('base64') } });
      expect(json.status).toBe(413);
      expect(json.body).toMatchObject({ statusCode: 413, code: 'FST_ERR_CTP_BODY_TOO_LARGE' });
      // Two files are one too many.
      const two = new FormData();
      two.set('designation', 'x');
      two.append('image', new Blob([Buffer.from('a')]), 'a.jpg');
      two.append('image', new Blob([Buffer.from('b')]), 'b.jpg');
      expect((await api.anonymous.request<ErrorBody>('POST', '/predict/product', { body: two })).status).toBe(413);
    });

    it('reports health and store reachability', async () => {
      const health = await api.anonymous.get<{ status: string; store: { driver: string; ok: boolean }; champion: number | null; runningJobs: number; uptimeSeconds: number }>('/health');
      expect(health.status).toBe(200);
      expect(health.body).toMatchObject({ status: 'ok', store: { ok: true }, champion: null, runningJobs: 0 });
      expect(health.body.store.driver).toBe(backend.name.startsWith('mongodb') ? 'mongodb' : 'embedded');
      expect(health.body.uptimeSeconds).toBeGreaterThanOrEqual(0);
    });

    it('serves an OpenAPI document listing every route, with resolvable references', async () => {
      const reply = await api.anonymous.get<OpenApiDoc>('/docs/json');
      expect(reply.status).toBe(200);
      const doc = reply.body;
      expect(doc.openapi).toMatch(/^3\.\d+\.\d+$/);
      expect(doc.info).toMatchObject({ title: 'rakuten-pipeline API', version: expect.any(String) });
      const operations = Object.entries(doc.paths).flatMap(([p, item]) =>
        (['get', 'post', 'delete', 'put', 'patch'] as const).filter((m) => item?.[m]).map((m) => `${m.toUpperCase()} ${p}`),
      );
      expect(operations.sort()).toEqual(
        [
          'POST /load-data',
          'POST /prepare-data',
          'POST /train-model',
          'POST /evaluate-model',
          'POST /predict',
          'GET /jobs',
          'GET /jobs/{id}',
          'DELETE /jobs/{id}',
          'GET /data-status',
          'GET /models',
          'POST /models/{version}/promote',
          'POST /predict/product',
          'GET /health',
          'GET /metrics',
          'POST /pipeline-runs',
          'GET /pipeline-runs',
          'GET /pipeline-runs/{id}',
          'POST /pipeline-runs/{id}/resume',
          'DELETE /pipeline-runs/{id}',
          'POST /schedules',
          'GET /schedules',
          'DELETE /schedules/{id}',
          'GET /jobs/events',
          'GET /categories',
          'GET /models/{version}/evaluation',
          'GET /models/{version}/report',
          'GET /models/compare',
          'GET /models/{version}/guardrail',
          'GET /review',
          'GET /review/corrections',
          'GET /review/{id}/image',
          'POST /review/{id}',
          'GET /drift',
          'GET /drift/reports',
          'POST /drift',
          'GET /ui',
        ].sort(),
      );
      for (const [p, item] of Object.entries(doc.paths)) {
        for (const method of ['get', 'post', 'delete'] as const) {
          const op = item?.[method];
          if (!op) continue;
          expect(op.summary, `${method} ${p}`).toEqual(expect.any(String));
          expect(Object.keys(op.responses).length, `${method} ${p}`).toBeGreaterThan(0);
          // Every {param} of the path is declared as a path parameter.
          for (const [, name] of p.matchAll(/\{(\w+)\}/g)) {
            expect(op.parameters?.some((x) => x.in === 'path' && x.name === name && x.required), `${method} ${p} {${name}}`).toBe(true);
          }
        }
      }
      const train = doc.paths['/train-model']?.post;
      expect(train?.security).toEqual([{ apiKey: [] }, { bearer: [] }]);
      expect(Object.keys(train?.responses ?? {})).toEqual(expect.arrayContaining(['202', '400', '401', '409']));
      const trainBody = train?.requestBody?.content['application/json']?.schema;
      expect(Object.keys(trainBody?.properties ?? {})).toEqual(['seed', 'kind', 'epochs', 'patience', 'classWeighting', 'promote', 'guardrailMargin', 'includeCorrections']);
      expect(trainBody?.additionalProperties).toBe(false);
      const product = doc.paths['/predict/product']?.post?.requestBody;
      expect(Object.keys(product?.content ?? {})).toEqual(expect.arrayContaining(['application/json', 'multipart/form-data']));
      expect(doc.components?.securitySchemes).toMatchObject({ apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' }, bearer: { type: 'http', scheme: 'bearer' } });
      // Every $ref points at something in the document.
      const refs: string[] = [];
      const walk = (node: unknown): void => {
        if (Array.isArray(node)) node.forEach(walk);
        else if (node && typeof node === 'object') {
          for (const [k, v] of Object.entries(node)) if (k === '$ref' && typeof v === 'string') refs.push(v);
          else walk(v);
        }
      };
      walk(doc);
      expect(refs.length).toBeGreaterThan(0);
      for (const ref of refs) {
        expect(ref, ref).toMatch(/^#\//);
        const target = ref
          .slice(2)
          .split('/')
          .reduce<unknown>((at, key) => (at && typeof at === 'object' ? (at as Record<string, unknown>)[key] : undefined), doc);
        expect(target, ref).toBeTypeOf('object');
      }
      const ui = await api.anonymous.get<string>('/docs');
      expect(ui.status).toBe(200);
      expect(ui.body).toContain('swagger-ui');
    });

    it('counts requests per route pattern and status in /metrics', async () => {
      await api.anonymous.get('/health');
      await api.anonymous.get('/jobs/abc-123');
      await api.anonymous.get('/jobs/def-456');
      await api.anonymous.post('/train-model', {});
      const reply = await api.anonymous.get<string>('/metrics');
      expect(reply.status).toBe(200);
      expect(reply.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      const samples = metricSamples(reply.body);
      // The pattern, never the raw URL with ids.
      expect(metricSum(samples, 'rakuten_http_requests_total', { method: 'GET', route: '/jobs/:id', status: '404' })).toBeGreaterThanOrEqual(2);
      expect(reply.body).not.toContain('abc-123');
      expect(metricSum(samples, 'rakuten_http_requests_total', { method: 'POST', route: '/train-model', status: '401' })).toBeGreaterThanOrEqual(1);
      expect(metricSum(samples, 'rakuten_http_requests_total', { route: '/health', status: '200' })).toBeGreaterThanOrEqual(1);
      expect(metricSum(samples, 'rakuten_http_request_duration_seconds_count', { method: 'GET', route: '/jobs/:id' })).toBeGreaterThanOrEqual(2);
      for (const state of ['queued', 'running', 'succeeded', 'failed', 'cancelled']) expect(samples.get(`rakuten_jobs{state="${state}"}`), state).toBe(0);
      expect(samples.get('rakuten_champion_model_version')).toBe(0);
    });

    it('answers unknown routes with the same error shape', async () => {
      const reply = await api.anonymous.get<ErrorBody>('/no-such-route');
      expect(reply.status).toBe(404);
      expect(reply.body).toMatchObject({ statusCode: 404, error: 'Not Found', code: 'NOT_FOUND', message: expect.stringContaining('/no-such-route') });
    });
  });
}

describe('HTTP API configuration', () => {
  const [embedded] = storeBackends();

  it('closes state-changing routes when no keys are configured, and reads when asked to', async () => {
    const open = await startApi(embedded!, { auth: { keys: [] }, jobs: 'inline' });
    try {
      const refused = await open.client.post<ErrorBody>('/prepare-data', {});
      expect(refused.status).toBe(401);
      expect(refused.body.message).toMatch(/no API keys configured \(set RAKUTEN_API_KEYS or RAKUTEN_API_KEYS_FILE\)/);
      expect((await open.anonymous.get('/models')).status).toBe(200);
    } finally {
      await open.close();
    }

    const closed = await startApi(embedded!, { auth: { keys: [API_KEY], protectReads: true, protectPredictProduct: true }, jobs: 'inline' });
    try {
      for (const route of ['/jobs', '/data-status', '/models']) {
        expect((await closed.anonymous.get(route)).status, route).toBe(401);
        expect((await closed.client.get(route)).status, route).toBe(200);
      }
      expect((await closed.anonymous.post('/predict/product', { designation: 'x' })).status).toBe(401);
      expect((await closed.client.post('/predict/product', { designation: 'x' })).status).toBe(503);
      // Liveness probes carry no key.
      expect((await closed.anonymous.get('/health')).status).toBe(200);
      // An empty body sent as JSON (what many clients do on DELETE) is no body, not a 400.
      const del = await fetch(`${closed.base}/jobs/no-such-job`, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
      });
      expect(del.status).toBe(404);
    } finally {
      await closed.close();
    }
  });

  it('starts exactly one of several conflicting jobs requested at the same time', async () => {
    const catalogue = await makeCatalogue({ rows: 200, testRows: 20, imageFraction: 0 });
    try {
      for (const jobs of ['inline', 'worker'] as const) {
        const api = await startApi(embedded!, { jobs, dataDir: catalogue.outDir });
        try {
          const replies = await Promise.all(Array.from({ length: 5 }, () => api.client.post<JobView & ErrorBody>('/load-data', {})));
          const started = replies.filter((r) => r.status === 202);
          expect(started, jobs).toHaveLength(1);
          const id = started[0]!.body.id;
          for (const r of replies.filter((x) => x.status !== 202)) {
            expect(r.status).toBe(409);
            expect(r.body).toMatchObject({ code: 'JOB_CONFLICT', message: `cannot start a load job while load job ${id} is running` });
          }
          expect((await api.client.waitForJob(id)).state).toBe('succeeded');
          expect((await api.anonymous.get<JobView[]>('/jobs')).body).toHaveLength(1);
        } finally {
          await api.close();
        }
      }
    } finally {
      await rm(catalogue.outDir, { recursive: true, force: true });
    }
  });

  it('names the categories of a /predict/product answer, in French and English', async () => {
    const catalogue = await makeCatalogue({ rows: 120, testRows: 5, imageFraction: 0 });
    const api = await startApi(embedded!, { jobs: 'inline', dataDir: catalogue.outDir });
    try {
      await api.client.runJob('/load-data');
      await api.client.runJob('/prepare-data', { seed: 1 });
      await api.client.runJob('/train-model', { kind: NAIVE_BAYES_KIND });
      const reply = await api.anonymous.post<{ prdtypecode: number; name?: string; names?: CategoryNames; top: ScoredClass[] }>('/predict/product', {
        designation: 'Lampe de chevet en laiton',
        topK: 4,
      });
      expect(reply.status, JSON.stringify(reply.body)).toBe(200);
      const { prdtypecode, name, names, top } = reply.body;
      // The reply schema keeps the fields (responses are serialised with it).
      expect(name).toBe(categoryName(prdtypecode));
      expect(names).toEqual({ fr: categoryName(prdtypecode, 'fr'), en: categoryName(prdtypecode, 'en') });
      expect(name).toEqual(expect.stringMatching(/\S/));
      expect(top).toHaveLength(4);
      for (const t of top) expect(t).toEqual({ prdtypecode: t.prdtypecode, probability: t.probability, name: categoryName(t.prdtypecode), names: categoryNames(t.prdtypecode) });
      expect(top[0]!.name).toBe(name);
      const doc = (await api.anonymous.get<{ paths: Record<string, { post?: { responses: Record<string, { content: Record<string, { schema: { properties: Record<string, unknown> } }> }> } }> }>('/docs/json')).body;
      const schema = doc.paths['/predict/product']?.post?.responses['200']?.content['application/json']?.schema;
      expect(Object.keys(schema?.properties ?? {})).toEqual(expect.arrayContaining(['prdtypecode', 'name', 'names', 'top']));
    } finally {
      await api.close();
      await rm(catalogue.outDir, { recursive: true, force: true });
    }
  });

  it('refuses keys shorter than 16 characters at start-up', async () => {
    await expect(createServer({ storeUri: await tempDir('rp-store-'), logger: false, auth: { keys: ['short-key'] } })).rejects.toThrow(
      /API key #1 is 9 characters long; at least 16 are required/,
    );
  });

  it('mounts under a prefix, with Location headers and metrics routes under it', async () => {
    // The default data folder exists but holds no catalogue: the load job starts, then fails.
    const empty = await tempDir('rp-empty-');
    const api = await startApi(embedded!, { prefix: '/api/v1', jobs: 'inline', dataDir: empty });
    try {
      expect(api.base).toMatch(/\/api\/v1$/);
      expect((await api.anonymous.get('/health')).status).toBe(200);
      // start() checks the Location header carries the prefix.
      const job = await api.client.start('/load-data');
      const done = await api.client.waitForJob(job.id);
      expect(done.state).toBe('failed');
      expect(done.error?.message).toMatch(/X_train_update\.csv/);
      const metrics = metricSamples((await api.anonymous.get<string>('/metrics')).body);
      expect(metricSum(metrics, 'rakuten_http_requests_total', { route: '/api/v1/load-data', status: '202' })).toBe(1);
      expect(metrics.get('rakuten_jobs{state="failed"}')).toBe(1);
    } finally {
      await api.close();
    }
  });
});

/** A regular expression source matching `s` literally. */
function literal(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
