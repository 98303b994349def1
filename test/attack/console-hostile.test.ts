import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { Writable } from 'node:stream';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { chromium } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COLLECTIONS } from '../../src/collections.js';
import type { DemoCatalogueSummary } from '../../src/demo/generate-catalogue.js';
import { createServer } from '../../src/http/server.js';
import { NAIVE_BAYES_KIND } from '../../src/models/naive-bayes.js';
import { makeCatalogue, REPO_ROOT, tempDir } from '../support/data.js';
import { storeBackends } from '../support/stores.js';
import { API_KEY, jpeg, startApi, type ErrorBody, type RunningApi } from '../http/support.js';

// Hostile use of the web console and its API (issue 14): review ids, verdict races, the queue after
// a batch prediction is run again, what /predict/product stores and /review serves back, static
// files under /ui/, the job event stream when clients leave and the server stops, monitoring reads
// on large collections, and markup in the data shown by the console in headless Chromium.

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
  await api.client.runJobs([
    ['/load-data', {}],
    ['/prepare-data', {}],
    ['/train-model', { kind: NAIVE_BAYES_KIND, seed: 1 }],
    ['/predict', {}],
  ] as const);
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
    const queue = await api.client.get<Queue>('/review?reason=uncertain&limit=200');
    const item = queue.body.items.find((i) => i.source === 'batch' && i.input.hasImage)!;
    const replies = await Promise.all(Array.from({ length: 8 }, (_, k) => api.client.post<ErrorBody>(`/review/${item.id}`, { prdtypecode: k % 2 ? 10 : 2583 })));
    expect(replies.map((r) => r.status).sort()).toEqual([201, 409, 409, 409, 409, 409, 409, 409]);
    const corrections = await api.client.get<{ id: string }[]>('/review/corrections?limit=500');
    expect(corrections.body.filter((c) => c.id === item.id)).toHaveLength(1);
  });

  it('answers 404 (never 500 nor a file) for odd ids', async () => {
    for (const id of ['online:..%2F..%2Fpackage.json', 'online:%00', 'batch:%2F', 'batch:', 'nope', 'batch:__proto__', 'online:constructor', 'batch:v9:1']) {
      expect((await api.client.request('GET', `/review/${id}/image`)).status, id).toBe(404);
      expect((await api.client.post(`/review/${id}`, { prdtypecode: 10 })).status, id).toBe(404);
    }
  });

  it('keeps reviewed batch predictions off the queue and out of `pending` after the batch prediction is run again', async () => {
    const before = await api.client.get<Queue>('/review?reason=all&limit=200');
    const batch = before.body.items.filter((i) => i.source === 'batch');
    expect(batch.some((i) => i.disagreement)).toBe(true);
    for (const i of batch) expect([201, 409]).toContain((await api.client.post(`/review/${i.id}`, { prdtypecode: i.prdtypecode })).status);
    expect((await api.client.get<Queue>('/review?reason=all')).body).toEqual({ pending: 0, items: [] });
    // The same champion predicts the test rows again: its documents are rewritten.
    await api.client.runJob('/predict', {});
    for (const reason of ['uncertain', 'disagreement', 'all']) {
      const after = await api.client.get<Queue>(`/review?reason=${reason}`);
      expect(after.body, reason).toEqual({ pending: 0, items: [] });
    }
  }, 60_000);
});

describe('what /predict/product stores and /review serves back', () => {
  it('serves a stored upload as an image or an opaque download, never as a page', async () => {
    const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script><rect width="10" height="10"/></svg>');
    const made = await api.anonymous.post<{ id: string }>('/predict/product', { designation: 'x', image: svg.toString('base64') });
    expect(made.status).toBe(200);
    const image = await api.client.request('GET', `/review/${made.body.id}/image`);
    expect(image.status).toBe(200);
    expect(image.headers.get('content-type')).toBe('application/octet-stream');
    expect(image.headers.get('x-content-type-options')).toBe('nosniff');
    expect(image.headers.get('content-security-policy')).toBe("default-src 'none'");
    const html = Buffer.from('<html><script>alert(1)</script></html>').toString('base64');
    expect((await api.anonymous.post<ErrorBody>('/predict/product', { designation: 'x', image: html })).body.code).toBe('BAD_IMAGE');
  });

  it('stores nothing with recordPredictions: false, not even a refused bomb, and keeps keys out of corrections and logs', async () => {
    const store = await api.harness.open();
    const lines: string[] = [];
    const app = await createServer({
      storeUri: api.harness.uri,
      auth: { keys: [API_KEY] },
      recordPredictions: false,
      jobs: 'inline',
      logger: { level: 'trace', stream: new Writable({ write: (chunk: Buffer, _encoding, done) => (lines.push(chunk.toString()), done()) }) },
    });
    try {
      const base = await app.listen({ port: 0, host: '127.0.0.1' });
      const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
        fetch(`${base}${url}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
      const online = store.documents.collection(COLLECTIONS.onlinePredictions);
      const reviewImages = async () => {
        let n = 0;
        for await (const _ of store.images.list({ prefix: 'review/' })) n++;
        return n;
      };
      const before = [await online.count(), await reviewImages()];
      const reply = await post('/predict/product', { designation: 'y', image: (await jpeg(80, { noise: true })).toString('base64') });
      expect(reply.status).toBe(200);
      expect(((await reply.json()) as { id?: string }).id).toBeUndefined();
      expect((await post('/predict/product', { designation: 'y', image: (await pngClaiming(16_000)).toString('base64') })).status).toBe(413);
      expect([await online.count(), await reviewImages()]).toEqual(before);

      // A verdict sent with the key in the header and in the query string: only its id is kept.
      const queue = (await (await fetch(`${base}/review?reason=uncertain&limit=200`, { headers: { 'x-api-key': API_KEY } })).json()) as Queue;
      const corrections = store.documents.collection(COLLECTIONS.reviewCorrections);
      const item = (await Promise.all(queue.items.map(async (i) => ((await corrections.get(i.id)) ? undefined : i)))).find((i) => i !== undefined)!;
      const verdict = await post(`/review/${item.id}?api_key=${API_KEY}`, { prdtypecode: item.prdtypecode }, { 'x-api-key': API_KEY });
      expect(verdict.status).toBe(201);
      expect(await verdict.text()).not.toContain(API_KEY);
      expect(JSON.stringify(await corrections.get(item.id))).not.toContain(API_KEY);
      expect(lines.length).toBeGreaterThan(0);
      expect(lines.join('')).not.toContain(API_KEY);
    } finally {
      await app.close();
      await store.close();
    }
  });

  it('keeps at most recordPredictions.keep online predictions, however many anonymous requests arrive', async () => {
    const store = await api.harness.open();
    const app = await createServer({ storeUri: api.harness.uri, auth: { keys: [API_KEY] }, recordPredictions: { keep: 5 }, jobs: 'inline', logger: false });
    try {
      const base = await app.listen({ port: 0, host: '127.0.0.1' });
      const online = store.documents.collection(COLLECTIONS.onlinePredictions);
      for (let i = 0; i < 40; i++) {
        const reply = await fetch(`${base}/predict/product`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ designation: `flood ${i}`, image: (await jpeg(40, { noise: true })).toString('base64') }),
        });
        expect(reply.status).toBe(200);
      }
      // Pruned as they arrive (every `keep` requests at most), in the background.
      await expect.poll(() => online.count(), { timeout: 10_000 }).toBeLessThanOrEqual(10);
    } finally {
      await app.close();
      await store.close();
    }
    await expect(createServer({ storeUri: api.harness.uri, recordPredictions: { keep: 0 } })).rejects.toThrow(/keep must be a positive integer/);
  });
});

/** A valid 1-pixel PNG whose header announces `side` x `side` pixels (a 70-byte decompression bomb). */
async function pngClaiming(side: number): Promise<Buffer> {
  const png = await sharp({ create: { width: 1, height: 1, channels: 3, background: { r: 0, g: 0, b: 0 } } }).png().toBuffer();
  png.writeUInt32BE(side, 16);
  png.writeUInt32BE(side, 20);
  png.writeUInt32BE(crc32(png.subarray(12, 29)), 29);
  return png;
}

function crc32(bytes: Uint8Array): number {
  let c = ~0;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}

describe('static files and the job event stream', () => {
  it('serves nothing outside the console folder, and every console file with its policy', async () => {
    const escapes = ['/ui/../package.json', '/ui/%2e%2e/package.json', '/ui/.%2e/.%2e/package.json', '/ui/%2e%2e%2fpackage.json', '/ui/..%2f..%2fpackage.json'];
    for (const p of [...escapes, '/ui/%2e%2e%5cpackage.json', '/ui/assets/../../package.json', '/ui//etc/passwd', '/ui/index.html%00']) {
      const answer = await rawGet(p);
      expect(answer, p).not.toMatch(/^HTTP\/1\.1 200/);
      expect(answer, p).not.toContain('"name": "rakuten-pipeline"');
    }
    const index = await rawGet('/ui/');
    expect(index).toMatch(/^HTTP\/1\.1 200/);
    const assets = [...index.matchAll(/(?:src|href)="\.?\/?(assets\/[^"]+)"/g)].map((m) => m[1]!);
    expect(assets.length).toBeGreaterThan(0);
    for (const asset of assets) {
      expect(await rawGet(`/ui/${asset}`), asset).toMatch(/^HTTP\/1\.1 200[\s\S]*content-security-policy: default-src 'self'/i);
    }
  });

  it('releases the timers of closed streams, and closes at once while a client holds one open', async () => {
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const before = timers();
    const clients = await Promise.all(
      Array.from({ length: 40 }, async () => {
        const abort = new AbortController();
        const response = await fetch(`${api.base}/jobs/events`, { signal: abort.signal });
        await response.body!.getReader().read();
        return abort;
      }),
    );
    // Two per stream (poll and ping); other timers come and go.
    expect(timers()).toBeGreaterThanOrEqual(before + 60);
    for (const c of clients) c.abort();
    await expect.poll(timers, { timeout: 5_000 }).toBeLessThanOrEqual(before);

    const other = await startApi(embedded!, { jobs: 'inline' });
    const abort = new AbortController();
    const stream = await fetch(`${other.base}/jobs/events`, { signal: abort.signal });
    expect(stream.status).toBe(200);
    const t0 = Date.now();
    await other.close();
    expect(Date.now() - t0).toBeLessThan(3_000);
    abort.abort();
  });
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
        const margin = (k: number) => (((i + k) * 7919) % 1000) / 1000;
        await online.upsertMany(Array.from({ length: 1000 }, (_, k) => ({ ...prediction, _id: `old-${i + k}`, margin: margin(k), predictedAt: at(k, Date.UTC(2025, 0, 1)) })));
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
        review: await slowest(() => api.client.get('/review?reason=all')),
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
        if (route === 'review') {
          // Review reads take the key (the queue shows other callers' inputs).
          await page.getByTestId('key-dialog').waitFor();
          await page.getByLabel('API key').fill(API_KEY);
          await page.getByRole('button', { name: 'Use key' }).click();
        }
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
