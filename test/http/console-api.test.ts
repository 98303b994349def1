import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DemoCatalogueSummary } from '../../src/demo/generate-catalogue.js';
import { NAIVE_BAYES_KIND } from '../../src/models/naive-bayes.js';
import { cli } from '../support/cli.js';
import { makeCatalogue } from '../support/data.js';
import { storeBackends } from '../support/stores.js';
import { API_KEY, jpeg, metricSamples, startApi, type ErrorBody, type RunningApi } from './support.js';

// The routes the console reads and writes, on a real server with two trained versions: categories,
// evaluations and their reports, comparison, the guardrail's verdict, the review queue (online and
// batch predictions, verdicts with key ids), drift reports (API, /metrics, CLI) and the job event stream.

interface ReviewItem {
  id: string;
  source: 'online' | 'batch';
  prdtypecode: number;
  confidence: { margin: number; entropy: number };
  top: { prdtypecode: number }[];
  input: { designation: string; hasImage: boolean };
}

// Every store: the queue's filters and sorts (`reviewed: null`, margin order) and the indexes behind them
// are the store's own, and MongoDB's differ from SQLite's.
for (const backend of storeBackends()) {
  describe.skipIf(backend.skip)(`console routes on ${backend.name}`, () => {
    let data: DemoCatalogueSummary;
    let api: RunningApi;

    beforeAll(async () => {
      data = await makeCatalogue({ rows: 300, testRows: 40, imageFraction: 0.3 });
      api = await startApi(backend, { dataDir: data.outDir, jobs: 'inline' });
      await api.client.runJobs([
        ['/load-data', {}],
        ['/prepare-data', {}],
        ['/train-model', { kind: NAIVE_BAYES_KIND, seed: 1 }],
        ['/train-model', { kind: NAIVE_BAYES_KIND, seed: 2, promote: 'never' }],
        ['/evaluate-model', { model: 1 }],
        ['/evaluate-model', { model: 2 }],
        ['/predict', {}],
      ] as const);
    }, 240_000);
    afterAll(async () => {
      await api?.close();
      if (data) await rm(data.outDir, { recursive: true, force: true });
    });

    describe('console routes', () => {
      it('lists the 27 categories with names', async () => {
        const reply = await api.anonymous.get<{ prdtypecode: number; fr: string; en: string }[]>('/categories');
        expect(reply.status).toBe(200);
        expect(reply.body).toHaveLength(27);
        expect(reply.body).toContainEqual({ prdtypecode: 2583, fr: expect.any(String), en: expect.any(String) });
      });

      it("answers a version's evaluation and its HTML report, 404 for one never evaluated", async () => {
        const evaluation = await api.anonymous.get<{ modelVersion: number; metrics: { labels: number[]; confusion: number[][] } }>('/models/1/evaluation');
        expect(evaluation.status).toBe(200);
        expect(evaluation.body.metrics.confusion).toHaveLength(evaluation.body.metrics.labels.length);
        const report = await api.anonymous.request<string>('GET', '/models/2/report');
        expect(report.status).toBe(200);
        expect(report.headers.get('content-type')).toMatch(/^text\/html/);
        expect(report.headers.get('content-security-policy')).toContain("default-src 'none'");
        expect(report.body).toContain('rakuten-pipeline evaluation of model v2');
        expect((await api.anonymous.get<ErrorBody>('/models/9/evaluation')).body).toMatchObject({ statusCode: 404, code: 'MODEL_NOT_FOUND' });
      });

      it('compares two versions per class and by confusion matrix', async () => {
        const reply = await api.anonymous.get<{
          a: { version: number };
          b: { version: number };
          sameSplit: boolean;
          classes: { prdtypecode: number; name: string | null; a: number | null; b: number | null; delta: number | null }[];
          confusion: { labels: number[]; a: number[][]; b: number[][]; diff: number[][] } | null;
        }>('/models/compare?a=1&b=2');
        expect(reply.status).toBe(200);
        expect(reply.body).toMatchObject({ a: { version: 1 }, b: { version: 2 }, sameSplit: true });
        expect(reply.body.classes.length).toBeGreaterThan(5);
        for (const c of reply.body.classes) if (c.a !== null && c.b !== null) expect(c.delta).toBeCloseTo(c.b - c.a, 3);
        const m = reply.body.confusion!;
        m.diff.forEach((row, i) => row.forEach((d, j) => expect(d).toBe(m.b[i]![j]! - m.a[i]![j]!)));
        // Each matrix counts the same products.
        const total = (x: number[][]) => x.flat().reduce((s, n) => s + n, 0);
        expect(total(m.a)).toBe(total(m.b));
        expect((await api.anonymous.get<ErrorBody>('/models/compare?a=1')).status).toBe(400);
      });

      it('gives the guardrail verdict of promoting a version without promoting it', async () => {
        const reply = await api.anonymous.get<{ version: number; champion: number; promote: boolean; reason: string }>('/models/2/guardrail');
        expect(reply.status).toBe(200);
        expect(reply.body).toMatchObject({ version: 2, champion: 1, promote: expect.any(Boolean), reason: expect.stringMatching(/weighted F1|class/) });
        expect((await api.anonymous.get<{ champion: number }>('/models')).body.champion).toBe(1);
        expect((await api.anonymous.get<{ reason: string }>('/models/1/guardrail')).body.reason).toBe('v1 is the champion');
      });
    });

    describe('review queue over HTTP', () => {
      it('queues online and batch predictions, least certain first, and records a verdict once with the key id', async () => {
        const online = await api.anonymous.post<{ id: string; confidence: { margin: number }; disagreement: boolean; textClass: number | null }>('/predict/product', {
          designation: 'Lot de 2 coussins décoratifs',
          image: (await jpeg(64)).toString('base64'),
        });
        expect(online.status).toBe(200);
        expect(online.body.id).toMatch(/^online:/);
        expect(online.body.textClass).not.toBeNull();
        const queue = await api.client.get<{ pending: number; items: ReviewItem[] }>('/review?reason=uncertain&limit=50');
        expect(queue.status).toBe(200);
        expect(queue.body.pending).toBe(41);
        expect(new Set(queue.body.items.map((i) => i.source))).toEqual(new Set(['online', 'batch']));
        const margins = queue.body.items.map((i) => i.confidence.margin);
        expect(margins).toEqual([...margins].sort((a, b) => a - b));

        const mine = queue.body.items.find((i) => i.id === online.body.id)!;
        expect(mine.input).toEqual({ designation: 'Lot de 2 coussins décoratifs', description: '', hasImage: true });
        const image = await api.client.request<ArrayBuffer>('GET', `/review/${mine.id}/image`);
        expect(image.status).toBe(200);
        expect(image.headers.get('content-type')).toBe('image/jpeg');

        const batch = queue.body.items.find((i) => i.source === 'batch')!;
        const to = batch.top.find((t) => t.prdtypecode !== batch.prdtypecode)!.prdtypecode;
        expect((await api.anonymous.post<ErrorBody>(`/review/${batch.id}`, { prdtypecode: to })).status).toBe(401);
        // Reads too: the queue holds what other callers sent.
        for (const path of ['/review', '/review/corrections', `/review/${mine.id}/image`]) expect((await api.anonymous.get(path)).status, path).toBe(401);
        const done = await api.client.post<{ keyId: string; accepted: boolean; prdtypecode: number; predicted: number }>(`/review/${batch.id}`, { prdtypecode: to });
        expect(done.status).toBe(201);
        expect(done.body).toMatchObject({ accepted: false, prdtypecode: to, predicted: batch.prdtypecode, keyId: expect.stringMatching(/^key:[0-9a-f]{12}$/) });
        expect(JSON.stringify(done.body)).not.toContain(API_KEY);
        expect((await api.client.post<ErrorBody>(`/review/${batch.id}`, { prdtypecode: batch.prdtypecode })).body).toMatchObject({ statusCode: 409, code: 'ALREADY_REVIEWED' });
        expect((await api.client.post<ErrorBody>(`/review/${mine.id}`, { prdtypecode: 7 })).body).toMatchObject({ statusCode: 400, code: 'UNKNOWN_CLASS' });
        expect((await api.client.post<ErrorBody>('/review/online:nope', { prdtypecode: 10 })).body).toMatchObject({ statusCode: 404 });
        const accepted = await api.client.post<{ accepted: boolean }>(`/review/${mine.id}`, { prdtypecode: mine.prdtypecode });
        expect(accepted.body.accepted).toBe(true);
        const corrections = await api.client.get<{ id: string; keyId: string }[]>('/review/corrections');
        expect(corrections.body.map((c) => c.id).sort()).toEqual([batch.id, mine.id].sort());
        expect((await api.client.get<{ pending: number }>('/review?reason=uncertain')).body.pending).toBe(39);

        // The next training takes them when asked, and says so in the version's provenance.
        const trained = await api.client.runJob('/train-model', { kind: NAIVE_BAYES_KIND, includeCorrections: true, promote: 'never' });
        expect(trained.state).toBe('succeeded');
        const models = await api.anonymous.get<{ versions: { version: number; corrections?: { count: number; changed: number } }[] }>('/models');
        expect(models.body.versions.find((v) => v.version === 3)?.corrections).toMatchObject({ count: 2, changed: 1 });
      }, 60_000);
    });

    describe('drift over HTTP, /metrics and the CLI', () => {
      it('computes, stores and exports a report', async () => {
        expect((await api.anonymous.post<ErrorBody>('/drift', {})).status).toBe(401);
        const made = await api.client.post<{ id: string; modelVersion: number; window: { size: number; batch: number }; features: { name: string; value: number }[] }>('/drift', { window: 500 });
        expect(made.status).toBe(201);
        expect(made.body).toMatchObject({ modelVersion: 1, window: { size: 41, batch: 40 } });
        expect(made.body.features).toHaveLength(6);
        expect((await api.anonymous.get<{ id: string }>('/drift')).body.id).toBe(made.body.id);
        expect((await api.anonymous.get<unknown[]>('/drift/reports')).body).toHaveLength(1);
        const metrics = metricSamples((await api.anonymous.request<string>('GET', '/metrics')).body);
        expect(metrics.get('rakuten_drift_psi{feature="language"}')).toBe(made.body.features.find((f) => f.name === 'language')!.value);
        expect(metrics.has('rakuten_drift_flagged{feature="predicted_class"}')).toBe(true);

        const out = await cli('drift', '--store', api.harness.uri, '--json', '--window', '100');
        expect(out.code, out.stderr).toBe(0);
        const report = JSON.parse(out.stdout) as { id: string; window: { size: number }; features: unknown[]; enough: boolean };
        expect(report).toMatchObject({ window: { size: 41 }, enough: false });
        expect((await api.anonymous.get<unknown[]>('/drift/reports')).body).toHaveLength(2);
        const bad = await cli('drift', '--store', api.harness.uri, '--window', 'ten');
        expect(bad.code).not.toBe(0);
        expect(bad.stderr).toContain('--window must be a positive integer');
      }, 60_000);
    });

    describe('job events', () => {
      it('streams recent jobs on connect and a new job as it changes', async () => {
        const abort = new AbortController();
        const response = await fetch(`${api.base}/jobs/events`, { signal: abort.signal });
        expect(response.status).toBe(200);
        expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
        const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
        let text = '';
        const until = async (predicate: () => boolean) => {
          const deadline = Date.now() + 20_000;
          while (!predicate() && Date.now() < deadline) {
            const { value, done } = await reader.read();
            if (done) break;
            text += value;
          }
        };
        await until(() => (text.match(/event: job/g) ?? []).length >= 7);
        expect(text).toMatch(/^event: job\nid: [^\n]+\ndata: \{"id":/);
        const job = await api.client.start('/evaluate-model', { model: 1 });
        await until(() => new RegExp(`"id":"${job.id}"[^\\n]*"state":"succeeded"`).test(text));
        expect(text).toMatch(new RegExp(`"id":"${job.id}"[^\\n]*"state":"succeeded"`));
        abort.abort();
      }, 60_000);
    });
  });
}
