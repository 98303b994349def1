import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_PRDTYPECODES, type DemoCatalogueSummary } from '../../src/demo/generate-catalogue.js';
import { categoryName, categoryNames } from '../../src/categories.js';
import type { JobView } from '../../src/http/jobs/types.js';
import { NAIVE_BAYES_KIND } from '../../src/models/naive-bayes.js';
import { TEXT_IMAGE_KIND } from '../../src/models/text-image-model.js';
import { makeCatalogue } from '../support/data.js';
import { storeBackends } from '../support/stores.js';
import { jpeg, metricSamples, metricSum, startApi, type ErrorBody, type RunningApi } from './support.js';

// The whole life cycle through the HTTP API of a real server, on each store: load → prepare →
// train → evaluate → predict as jobs followed with GET /jobs/{id}, then the models, promotion,
// online predictions (JSON and multipart), metrics, and the job rules (conflicts, cancellation).
// The embedded store runs jobs in worker threads and trains the default model; the MongoDB one
// runs jobs inline and trains naive Bayes where the model is not the point.

interface Prediction {
  prdtypecode: number;
  name?: string;
  names?: { fr: string; en: string };
  top: { prdtypecode: number; probability: number; name?: string; names?: { fr: string; en: string } }[];
  modelVersion: number;
  usedImage: boolean;
  ms: number;
}
interface ModelsBody {
  champion: number | null;
  versions: { version: number; kind: string; champion: boolean; epochs: number; backend: string; validation: { weightedF1: number }; classes: number[] }[];
}
type Result = Record<string, unknown>;

let data: DemoCatalogueSummary;
beforeAll(async () => {
  // A fifth of the products have an image: enough for the image branch, few enough to keep
  // the default model's image features (computed before its first epoch) quick.
  data = await makeCatalogue({ rows: 300, testRows: 30, imageFraction: 0.2 });
});
afterAll(() => (data ? rm(data.outDir, { recursive: true, force: true }) : undefined));

/** `count` labelled training rows of the catalogue: designation, description, code. */
async function labelledRows(count: number): Promise<{ designation: string; description: string; prdtypecode: number }[]> {
  const x = parse(await readFile(path.join(data.outDir, 'X_train_update.csv'), 'utf8'), { from_line: 2 }) as string[][];
  const y = new Map((parse(await readFile(path.join(data.outDir, 'Y_train_CVw08PX.csv'), 'utf8'), { from_line: 2 }) as string[][]).map((r) => [r[0], Number(r[1])]));
  return x
    .filter((r) => y.has(r[0]) && r[1])
    .slice(0, count)
    .map((r) => ({ designation: r[1]!, description: r[2] ?? '', prdtypecode: y.get(r[0])! }));
}

for (const backend of storeBackends()) {
  const embedded = !backend.name.startsWith('mongodb');
  const mode = embedded ? 'worker' : 'inline';
  describe.skipIf(backend.skip)(`HTTP pipeline on ${backend.name} (${mode} jobs)`, () => {
    let api: RunningApi;
    let jobsRun = 0;
    let onlinePredictions = 0;
    beforeAll(async () => {
      api = await startApi(backend, { dataDir: data.outDir, jobs: mode });
    });
    afterAll(() => api?.close());

    const run = async (route: string, body: unknown = {}) => {
      jobsRun++;
      return api.client.runJob(route, body);
    };
    const predictProduct = async (init: Parameters<RunningApi['client']['request']>[2]) => {
      const reply = await api.anonymous.request<Prediction & ErrorBody>('POST', '/predict/product', init);
      if (reply.status === 200) onlinePredictions++;
      return reply;
    };

    it('loads, prepares, trains, evaluates and predicts through jobs', async () => {
      const load = await run('/load-data');
      expect(load).toMatchObject({ kind: 'load', params: { dataDir: data.outDir }, cancelRequested: false, error: null });
      // Most products have no image: each is a quarantine entry, so the run has warnings.
      expect(load.result).toMatchObject({ status: 'completed_with_warnings', labelledTrainRows: 300, testRows: 30, quarantineByReason: { missing_image: expect.any(Number) } });
      expect(load.progress).toMatchObject({ stage: 'load' });
      expect(Date.parse(load.finishedAt!)).toBeGreaterThanOrEqual(Date.parse(load.startedAt!));

      const status = await api.anonymous.get<{ labelledTrainRows: number; testRows: number; lastLoad: { status: string } }>('/data-status');
      expect(status.body).toMatchObject({ labelledTrainRows: 300, testRows: 30, lastLoad: { status: 'completed_with_warnings' } });

      const prepare = await run('/prepare-data', { seed: 7 });
      expect(prepare.params).toEqual({ seed: 7 });
      const splits = (prepare.result as { splits: Record<'train' | 'val' | 'test', { total: number }> }).splits;
      expect(splits.train.total + splits.val.total + splits.test.total).toBe(300);
      expect(splits.test.total).toBeGreaterThan(20);

      const train = await run('/train-model', embedded ? {} : { kind: NAIVE_BAYES_KIND });
      const trained = train.result as { version: number; kind: string; epochs: number; validation: { weightedF1: number }; champion: { promoted: boolean } };
      expect(trained).toMatchObject({ version: 1, kind: embedded ? TEXT_IMAGE_KIND : NAIVE_BAYES_KIND, champion: { promoted: true } });
      expect(trained.validation.weightedF1).toBeGreaterThan(0.4);
      if (embedded) expect(train.progress).toMatchObject({ stage: 'train', phase: 'epochs', done: trained.epochs });

      const evaluation = await run('/evaluate-model', {});
      expect(evaluation.result).toMatchObject({ modelVersion: 1, dataset: 'labeled_test', count: splits.test.total });
      expect((evaluation.result as { weightedF1: number }).weightedF1).toBeGreaterThan(0.4);
      if (!embedded) {
        // A labelled folder instead of the held-out split: every row of the catalogue.
        const onFolder = await run('/evaluate-model', { model: 1, dataDir: data.outDir });
        expect(onFolder.result).toMatchObject({ modelVersion: 1, count: 300 });
      }

      const predict = await run('/predict', { model: 'champion' });
      const batch = predict.result as { modelVersion: number; count: number; perClass: Record<string, number> };
      expect(batch).toMatchObject({ modelVersion: 1, count: 30, output: 'predictions' });
      expect(Object.values(batch.perClass).reduce((a, b) => a + b, 0)).toBe(30);
      for (const code of Object.keys(batch.perClass)) expect(DEMO_PRDTYPECODES).toContain(Number(code));

      const after = await api.anonymous.get<{ collections: Record<string, number> }>('/data-status');
      expect(after.body.collections).toMatchObject({ predictions: 30, api_jobs: jobsRun });

      const jobs = await api.anonymous.get<JobView[]>('/jobs');
      expect(jobs.body.map((j) => j.kind)).toEqual(embedded ? ['predict', 'evaluate', 'train', 'prepare', 'load'] : ['predict', 'evaluate', 'evaluate', 'train', 'prepare', 'load']);
      expect(jobs.body.every((j) => j.state === 'succeeded')).toBe(true);
      const latest = await api.anonymous.get<JobView[]>('/jobs?state=succeeded&limit=2');
      expect(latest.body.map((j) => j.id)).toEqual(jobs.body.slice(0, 2).map((j) => j.id));
      expect((await api.anonymous.get<JobView[]>('/jobs?state=failed')).body).toEqual([]);
    });

    it('lists models and promotes a version', async () => {
      const second = await run('/train-model', { kind: NAIVE_BAYES_KIND, promote: 'never', seed: 3 });
      expect(second.result).toMatchObject({ version: 2, kind: NAIVE_BAYES_KIND, champion: { promoted: false } });

      const models = await api.anonymous.get<ModelsBody>('/models');
      expect(models.body.champion).toBe(1);
      expect(models.body.versions.map((v) => [v.version, v.kind, v.champion])).toEqual([
        [1, embedded ? TEXT_IMAGE_KIND : NAIVE_BAYES_KIND, true],
        [2, NAIVE_BAYES_KIND, false],
      ]);
      expect(models.body.versions[0]!.classes).toHaveLength(27);
      expect(models.body.versions[0]!.epochs).toBeGreaterThanOrEqual(1);

      const promoted = await api.client.post('/models/2/promote', { reason: 'HTTP test' });
      expect(promoted).toMatchObject({ status: 200, body: { champion: 2, previous: 1 } });
      expect((await api.anonymous.get<ModelsBody>('/models')).body.champion).toBe(2);
      // The champion cache is dropped at once: health and predictions see version 2.
      expect((await api.anonymous.get<{ champion: number }>('/health')).body.champion).toBe(2);
      const product = await predictProduct({ json: { designation: 'Figurine' } });
      expect(product.body.modelVersion).toBe(2);
      // A job naming a version that does not exist is refused at once, and starts nothing.
      const missing = await api.client.post<ErrorBody>('/evaluate-model', { model: 99 });
      expect(missing.status).toBe(404);
      expect(missing.body).toMatchObject({ code: 'MODEL_NOT_FOUND', message: 'body/model: no model version 99' });
      // Back to version 1 (no body: the reason is optional).
      expect((await api.client.request('POST', '/models/1/promote')).body).toEqual({ champion: 1, previous: 2 });
    });

    it('classifies single products from JSON and multipart/form-data, with and without an image', async () => {
      const text = await predictProduct({ json: { designation: 'Lampe de chevet en laiton', description: '<p>Abat-jour <b>lin</b></p>', topK: 5 } });
      expect(text.status, JSON.stringify(text.body)).toBe(200);
      expect(text.body).toMatchObject({ modelVersion: 1, usedImage: false });
      expect(text.body.top).toHaveLength(5);
      expect(text.body.top[0]!.prdtypecode).toBe(text.body.prdtypecode);
      const probabilities = text.body.top.map((t) => t.probability);
      expect(probabilities).toEqual([...probabilities].sort((a, b) => b - a));
      expect(probabilities.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(1.0001);
      expect(DEMO_PRDTYPECODES).toContain(text.body.prdtypecode);
      expect(text.body).toMatchObject({ name: categoryName(text.body.prdtypecode), names: categoryNames(text.body.prdtypecode) });
      expect(text.body.top.map((t) => t.name)).toEqual(text.body.top.map((t) => categoryName(t.prdtypecode)));
      expect(text.body.ms).toBeGreaterThan(0);

      const image = await jpeg(96);
      const json = await predictProduct({ json: { designation: 'Lampe de chevet', description: 'Abat-jour en lin', image: image.toString('base64') } });
      expect(json.status, JSON.stringify(json.body)).toBe(200);
      expect(json.body).toMatchObject({ usedImage: true, modelVersion: 1 });
      expect(json.body.top).toHaveLength(3);

      const form = new FormData();
      form.set('designation', 'Lampe de chevet');
      form.set('description', 'Abat-jour en lin');
      form.set('topK', '2');
      form.set('image', new Blob([image], { type: 'image/jpeg' }), 'lampe.jpg');
      const multipart = await predictProduct({ body: form });
      expect(multipart.status, JSON.stringify(multipart.body)).toBe(200);
      expect(multipart.body).toMatchObject({ usedImage: true, modelVersion: 1 });
      expect(multipart.body.top).toHaveLength(2);
      // The same product, the same answer, whichever way it was sent.
      expect(multipart.body.top[0]!.prdtypecode).toBe(json.body.top[0]!.prdtypecode);
      expect(multipart.body.top[0]!.probability).toBeCloseTo(json.body.top[0]!.probability, 6);

      const textOnly = new FormData();
      textOnly.set('designation', 'Lampe de chevet');
      const noImage = await predictProduct({ body: textOnly });
      expect(noImage.status).toBe(200);
      expect(noImage.body).toMatchObject({ usedImage: false });
      expect(noImage.body.top).toHaveLength(3);
    });

    it('refuses images that cannot be decoded, with a 400 naming the field', async () => {
      const garbage = Buffer.from('this is not an image, just some text bytes '.repeat(20));
      const json = await predictProduct({ json: { designation: 'Lampe', image: garbage.toString('base64') } });
      expect(json.status).toBe(400);
      expect(json.body).toMatchObject({ code: 'BAD_IMAGE', message: expect.stringMatching(/^body\/image: /) });
      const notBase64 = await predictProduct({ json: { designation: 'Lampe', image: '%%%%' } });
      expect(notBase64.status).toBe(400);
      expect(notBase64.body).toMatchObject({ code: 'BAD_IMAGE', message: 'body/image: not base64-encoded image bytes' });
      const truncated = (await jpeg(96)).subarray(0, 200);
      const form = new FormData();
      form.set('designation', 'Lampe');
      form.set('image', new Blob([truncated], { type: 'image/jpeg' }), 'cut.jpg');
      const multipart = await predictProduct({ body: form });
      expect(multipart.status).toBe(400);
      expect(multipart.body).toMatchObject({ code: 'BAD_IMAGE', message: expect.stringMatching(/^body\/image: /) });
    });

    it('predicts products it was trained on mostly right (same preprocessing online)', async () => {
      const rows = await labelledRows(24);
      let right = 0;
      for (const row of rows) {
        const reply = await predictProduct({ json: { designation: row.designation, description: row.description } });
        expect(reply.status).toBe(200);
        if (reply.body.prdtypecode === row.prdtypecode) right++;
      }
      expect(right / rows.length).toBeGreaterThan(0.6);
    });

    it('exposes batch and online predictions, requests and jobs in /metrics', async () => {
      const reply = await api.anonymous.get<string>('/metrics');
      const samples = metricSamples(reply.body);
      expect(metricSum(samples, 'rakuten_predictions_total', { source: 'batch' })).toBe(30);
      expect(metricSum(samples, 'rakuten_predictions_total', { source: 'online' })).toBe(onlinePredictions);
      expect([...samples.keys()].some((k) => /^rakuten_predictions_total\{prdtypecode="\d+",source="online"\}$/.test(k))).toBe(true);
      expect(metricSum(samples, 'rakuten_http_requests_total', { method: 'POST', route: '/predict/product', status: '200' })).toBe(onlinePredictions);
      expect(metricSum(samples, 'rakuten_http_requests_total', { method: 'POST', route: '/predict/product', status: '400' })).toBe(3);
      expect(metricSum(samples, 'rakuten_http_requests_total', { method: 'POST', route: '/train-model', status: '202' })).toBe(2);
      expect(metricSum(samples, 'rakuten_http_requests_total', { method: 'GET', route: '/jobs/:id', status: '200' })).toBeGreaterThanOrEqual(jobsRun);
      expect(samples.get('rakuten_jobs{state="succeeded"}')).toBe(jobsRun);
      expect(samples.get('rakuten_jobs{state="running"}')).toBe(0);
      expect(samples.get('rakuten_champion_model_version')).toBe(1);
    });

    it('refuses conflicting jobs with 409 and cancels a running training', async () => {
      // Many epochs with a long patience: still running when cancelled.
      const long = await api.client.start('/train-model', { kind: TEXT_IMAGE_KIND, epochs: 200, patience: 50, promote: 'always' });
      expect(long).toMatchObject({ kind: 'train', state: 'running', cancelRequested: false, result: null, finishedAt: null });

      const second = await api.client.post<ErrorBody>('/train-model', { kind: NAIVE_BAYES_KIND });
      expect(second.status).toBe(409);
      expect(second.body).toEqual({
        statusCode: 409,
        error: 'Conflict',
        code: 'JOB_CONFLICT',
        message: `cannot start a train job while train job ${long.id} is running`,
      });
      // Preparing would rewrite the splits it reads; evaluating and predicting need the models it writes.
      for (const [route, kind] of [['/prepare-data', 'prepare'], ['/evaluate-model', 'evaluate'], ['/predict', 'predict']] as const) {
        const refused = await api.client.post<ErrorBody>(route, {});
        expect(refused.status, route).toBe(409);
        expect(refused.body.message).toBe(`cannot start a ${kind} job while train job ${long.id} is running`);
      }
      // Loading touches nothing training reads: it runs alongside.
      const load = await api.client.start('/load-data');
      jobsRun++;

      expect((await api.anonymous.get<{ runningJobs: number }>('/health')).body.runningJobs).toBeGreaterThanOrEqual(1);
      expect((await api.anonymous.get<JobView[]>('/jobs?state=running')).body.map((j) => j.id)).toContain(long.id);
      // In a worker thread, cancel in the middle of the epochs: the worker must stop within an
      // epoch or two, although its epoch loop never yields to its event loop. Inline, the epoch
      // loop holds up this server too, so the request goes in before training starts.
      let doneAtCancel = 0;
      if (mode === 'worker') {
        const training = await api.client.waitUntil(long.id, (j) => (j.progress?.done ?? 0) >= 1 || j.state !== 'running', 90_000);
        expect(training.state).toBe('running');
        expect(training.progress).toMatchObject({ stage: 'train', phase: 'epochs', total: 200, unit: 'epochs' });
        doneAtCancel = training.progress!.done;
      }

      const cancel = await api.client.delete<JobView>(`/jobs/${long.id}`);
      expect(cancel.status).toBe(202);
      expect(cancel.body).toMatchObject({ id: long.id, state: 'running', cancelRequested: true });
      const cancelled = await api.client.waitForJob(long.id, 90_000);
      expect(cancelled).toMatchObject({ state: 'cancelled', cancelRequested: true, result: null, error: { message: 'cancelled by request' } });
      // Early stopping (patience 50) would run dozens of epochs: it stopped long before.
      // (Cancelled before its epochs, the last progress is the image features' computation.)
      if (cancelled.progress?.phase === 'epochs') expect(cancelled.progress.done).toBeLessThanOrEqual(doneAtCancel + 3);
      else expect(cancelled.progress?.phase ?? 'features_train').toMatch(/^features_/);
      // A cancelled training registers nothing and moves no alias.
      const models = await api.anonymous.get<ModelsBody>('/models');
      expect(models.body.versions.map((v) => v.version)).toEqual([1, 2]);
      expect(models.body.champion).toBe(1);

      const again = await api.client.delete<ErrorBody>(`/jobs/${long.id}`);
      expect(again.status).toBe(409);
      expect(again.body).toMatchObject({ code: 'JOB_FINISHED', message: `job ${long.id} has already been cancelled` });
      expect((await api.client.waitForJob(load.id)).state).toBe('succeeded');
      const finished = await api.client.delete<ErrorBody>(`/jobs/${load.id}`);
      expect(finished.body).toMatchObject({ statusCode: 409, message: `job ${load.id} has already succeeded` });

      // The way is clear again.
      const next = await run('/train-model', { kind: NAIVE_BAYES_KIND, promote: 'never' });
      expect(next.result).toMatchObject({ version: 3 });
      const samples = metricSamples((await api.anonymous.get<string>('/metrics')).body);
      expect(samples.get('rakuten_jobs{state="cancelled"}')).toBe(1);
      expect(samples.get('rakuten_jobs{state="succeeded"}')).toBe(jobsRun);
      expect(metricSum(samples, 'rakuten_http_requests_total', { method: 'POST', route: '/train-model', status: '409' })).toBe(1);
      expect(metricSum(samples, 'rakuten_http_requests_total', { method: 'DELETE', route: '/jobs/:id', status: '202' })).toBe(1);
    });
  });
}
