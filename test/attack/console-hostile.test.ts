import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COLLECTIONS } from '../../src/collections.js';
import type { DemoCatalogueSummary } from '../../src/demo/generate-catalogue.js';
import { createServer } from '../../src/http/server.js';
import { NAIVE_BAYES_KIND } from '../../src/models/naive-bayes.js';
import { makeCatalogue, REPO_ROOT, tempDir } from '../support/data.js';
import { storeBackends } from '../support/stores.js';
import { API_KEY, jpeg, startApi, type ErrorBody, type RunningApi } from '../http/support.js';

// Hostile use of the web console's API (issue 14): review ids, verdict races, the queue after a
// batch prediction is run again, static files under /ui/, what is stored and served back from
// /predict/product, and the job event stream when the server stops. See the report of
// 2026-11-29 in the project's measurements for the cases that held and were not kept here.

interface Queue {
  pending: number;
  items: { id: string; source: 'online' | 'batch'; prdtypecode: number; disagreement: boolean; input: { hasImage: boolean } }[];
}

let data: DemoCatalogueSummary;
let api: RunningApi;
const [embedded] = storeBackends();

/** Markup that runs script wherever it is parsed as HTML: `alert` opens a dialog the browser test catches. */
const XSS = [
  '<img src=x onerror=alert(1)>',
  '<script>alert(2)</script>',
  '"><svg onload=alert(3)>',
  "javascript:alert(4)//' onmouseover='alert(5)",
  '{{constructor.constructor("alert(6)")()}}',
];

beforeAll(async () => {
  data = await makeCatalogue({ rows: 300, testRows: 40, imageFraction: 0.3 });
  // Hostile titles and descriptions in the training and test files, a productid that is markup
  // (quarantined, with its value in the message) and an image file whose name is markup.
  for (const file of ['X_train_update.csv', 'X_test_update.csv']) {
    const csv = path.join(data.outDir, file);
    const rows = parse(await readFile(csv, 'utf8')) as string[][];
    XSS.forEach((x, i) => {
      rows[i + 1]![1] = `${x} title`;
      rows[i + 1]![2] = `${x} description`;
    });
    if (file.startsWith('X_train')) rows.push([String(900_000), 'bad id', '', XSS[0]!, '1']);
    await writeFile(csv, stringify(rows));
  }
  await writeFile(path.join(data.outDir, 'image_train', `image_1_product_${XSS[0]}.jpg`), await jpeg(32));
  api = await startApi(embedded!, { dataDir: data.outDir, jobs: 'inline' });
  for (const [route, body] of [
    ['/load-data', {}],
    ['/prepare-data', {}],
    ['/train-model', { kind: NAIVE_BAYES_KIND, seed: 1 }],
    ['/predict', {}],
  ] as const) {
    const job = await api.client.runJob(route, body);
    expect(job.state, `${route}: ${job.error?.message ?? ''}`).toBe('succeeded');
  }
}, 240_000);
afterAll(async () => {
  await api?.close();
  if (data) await rm(data.outDir, { recursive: true, force: true });
});

/** A GET with the path sent as written (fetch would resolve `..` before sending); the raw answer. */
function rawGet(path: string): Promise<string> {
  const url = new URL(api.base);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(url.port), url.hostname, () => socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`));
    let out = '';
    socket.on('data', (d: Buffer) => (out += d.toString('latin1')));
    socket.on('end', () => resolve(out));
    socket.on('error', reject);
  });
}

describe('review queue under hostile use', () => {
  it('records exactly one verdict when eight arrive at once for one item', async () => {
    const queue = await api.anonymous.get<Queue>('/review?reason=uncertain&limit=200');
    const item = queue.body.items.find((i) => i.source === 'batch' && i.input.hasImage)!;
    const replies = await Promise.all(Array.from({ length: 8 }, (_, k) => api.client.post<ErrorBody>(`/review/${item.id}`, { prdtypecode: k % 2 ? 10 : 2583 })));
    expect(replies.map((r) => r.status).sort()).toEqual([201, 409, 409, 409, 409, 409, 409, 409]);
    const corrections = await api.anonymous.get<{ id: string }[]>('/review/corrections?limit=500');
    expect(corrections.body.filter((c) => c.id === item.id)).toHaveLength(1);
  });

  it('answers 404 (never 500 nor a file) for odd ids', async () => {
    for (const id of ['online:..%2F..%2Fpackage.json', 'online:%00', 'batch:%2F', 'batch:', 'nope', 'batch:__proto__', 'online:constructor', 'batch:v9:1']) {
      expect((await api.anonymous.request('GET', `/review/${id}/image`)).status, id).toBe(404);
      expect((await api.client.post(`/review/${id}`, { prdtypecode: 10 })).status, id).toBe(404);
    }
  });

  it('keeps reviewed batch predictions off the queue and out of `pending` after the batch prediction is run again', async () => {
    const before = await api.anonymous.get<Queue>('/review?reason=all&limit=200');
    const batch = before.body.items.filter((i) => i.source === 'batch');
    expect(batch.some((i) => i.disagreement)).toBe(true);
    for (const i of batch) expect([201, 409]).toContain((await api.client.post(`/review/${i.id}`, { prdtypecode: i.prdtypecode })).status);
    expect((await api.anonymous.get<Queue>('/review?reason=all')).body).toEqual({ pending: 0, items: [] });
    // The same champion predicts the test rows again: its documents are rewritten.
    await api.client.runJob('/predict', {});
    for (const reason of ['uncertain', 'disagreement', 'all']) {
      const after = await api.anonymous.get<Queue>(`/review?reason=${reason}`);
      expect(after.body, reason).toEqual({ pending: 0, items: [] });
    }
  }, 60_000);
});

describe('monitoring reads when the collections are large', () => {
  it('answers /metrics, /drift, the review queue and a new drift report without scanning every stored report and prediction', async () => {
    // A year of reports every 15 minutes, and as many online predictions: each read below sorts
    // one field and takes a few documents, which an index answers without reading the rest.
    const N = 30_000;
    const made = await api.anonymous.post<{ id: string }>('/predict/product', { designation: 'lampe de chevet en bois', description: 'abat-jour en lin '.repeat(100) });
    expect((await api.client.post('/drift', {})).status).toBe(201);
    const store = await api.harness.open();
    try {
      const online = store.documents.collection<{ _id: string; margin: number; predictedAt: string }>(COLLECTIONS.onlinePredictions);
      const reports = store.documents.collection<{ _id: string; createdAt: string }>(COLLECTIONS.driftReports);
      const prediction = (await online.get(made.body.id.slice('online:'.length)))!;
      const report = (await reports.get((await api.anonymous.get<{ id: string }>('/drift')).body.id))!;
      for (let i = 0; i < N; i += 1000) {
        const at = (k: number, from: number) => new Date(from + (i + k) * 1000).toISOString();
        await online.upsertMany(Array.from({ length: 1000 }, (_, k) => ({ ...prediction, _id: `old-${i + k}`, margin: (((i + k) * 7919) % 1000) / 1000, predictedAt: at(k, Date.UTC(2025, 0, 1)) })));
        await reports.upsertMany(Array.from({ length: 1000 }, (_, k) => ({ ...report, _id: `old-${i + k}`, createdAt: at(k, Date.UTC(2025, 0, 1)) })));
      }
      const slowest = async (f: () => Promise<{ status: number }>) => {
        const times: number[] = [];
        for (let k = 0; k < 3; k++) {
          const t = performance.now();
          expect((await f()).status).toBeLessThan(300);
          times.push(performance.now() - t);
        }
        // The best of three: the machine's other work does not make it fail.
        return Math.min(...times);
      };
      const took = {
        metrics: await slowest(() => api.anonymous.request('GET', '/metrics')),
        drift: await slowest(() => api.anonymous.get('/drift')),
        review: await slowest(() => api.anonymous.get('/review?reason=all')),
        report: await slowest(() => api.client.post('/drift', { window: 1000 })),
      };
      // Scans took 400-900 ms each here (30,000 documents); indexed reads take a few ms.
      for (const [what, ms] of Object.entries(took)) expect(ms, `${what}: ${JSON.stringify(took)}`).toBeLessThan(150);
    } finally {
      await removeOld(store);
      await store.close();
    }
  }, 180_000);
});

/** Deletes the documents the test above added (the queue and drift tests read the rest). */
async function removeOld(store: Awaited<ReturnType<RunningApi['harness']['open']>>): Promise<void> {
  for (const name of [COLLECTIONS.onlinePredictions, COLLECTIONS.driftReports]) await store.documents.collection(name).deleteMany({ _id: { $prefix: 'old-' } });
}

const CHROMIUM = process.env['RP_CHROMIUM'] ?? '/usr/bin/chromium';
const NO_BROWSER = !existsSync(CHROMIUM) || !existsSync(path.join(REPO_ROOT, 'dist/ui/index.html'));

describe.skipIf(NO_BROWSER)('console pages with hostile data in headless Chromium', () => {
  it('runs no script from titles, descriptions, quarantine messages, job errors or drift', async () => {
    // Online predictions with markup, a job that fails with markup in its error, a drift report.
    for (const x of XSS) expect((await api.anonymous.post('/predict/product', { designation: `${x} online`, description: x })).status).toBe(200);
    const bad = path.join(data.outDir, XSS[0]!);
    await mkdir(bad);
    const failed = await api.client.waitForJob((await api.client.start('/evaluate-model', { model: 1, dataDir: bad })).id);
    expect(failed.state).toBe('failed');
    expect(failed.error?.message).toContain(XSS[0]);
    expect((await api.client.post('/drift', {})).status).toBe(201);
    const dir = await tempDir('rp-hostile-browser-');
    const context = await chromium.launchPersistentContext(path.join(dir, 'profile'), {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      timeout: 60_000,
    });
    const ran: string[] = [];
    try {
      const page = await context.newPage();
      page.on('dialog', (d) => {
        ran.push(`dialog: ${d.message()}`);
        void d.dismiss();
      });
      page.on('pageerror', (e) => ran.push(`page error: ${e.message}`));
      let shown = '';
      for (const route of ['data', 'review', 'jobs', 'models', 'drift', 'predict']) {
        await page.goto(`${api.base}/ui/#/${route}`);
        await page.waitForLoadState('networkidle');
        await page.waitForTimeout(500);
        // Hovering every row fires any injected onmouseover.
        for (const row of (await page.locator('tr, [data-testid="review-item"]').all()).slice(0, 60)) await row.hover({ timeout: 1_000 }).catch(() => undefined);
        shown += await page.locator('body').innerText();
      }
      // The markup is shown as text (so it was rendered, not dropped): review items, the job's error.
      expect(shown).toContain(`${XSS[0]} online`);
      expect(shown).toContain(`${XSS[0]}/X_train_update.csv is missing`);
      expect(shown).toContain('<script>alert(2)</script>');
      expect(await page.evaluate('document.querySelectorAll(\'img[src="x"], svg[onload]\').length')).toBe(0);
    } finally {
      await context.close();
      await rm(dir, { recursive: true, force: true });
    }
    expect(ran).toEqual([]);
  }, 180_000);
});
