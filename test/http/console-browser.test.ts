import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CATEGORIES } from '../../src/categories.js';
import type { DemoCatalogueSummary } from '../../src/demo/generate-catalogue.js';
import { NAIVE_BAYES_KIND } from '../../src/models/naive-bayes.js';
import { makeCatalogue, REPO_ROOT, tempDir } from '../support/data.js';
import { storeBackends } from '../support/stores.js';
import { API_KEY, jpeg, startApi, type RunningApi } from './support.js';

// The console clicked through in Debian's Chromium (playwright-core, no browser download) against
// a real server with a trained champion: data status and champion, a prediction from the form,
// a correction in the review queue, a training started and followed to its end, the comparison of
// two versions, and a drift flag after shifted traffic. A screenshot of each page is saved in
// reports/console/ (RP_SCREENSHOTS to choose another folder).

const CHROMIUM = process.env['RP_CHROMIUM'] ?? '/usr/bin/chromium';
const BUILT = path.join(REPO_ROOT, 'dist/ui/index.html');
const SKIP = !existsSync(CHROMIUM)
  ? `${CHROMIUM} not found (apt-get install chromium): the console browser test is SKIPPED`
  : !existsSync(BUILT)
    ? `${BUILT} missing (npm run build): the console browser test is SKIPPED`
    : undefined;
if (SKIP) console.warn(`[console-browser] ${SKIP}`);

const SHOTS = process.env['RP_SCREENSHOTS'] ?? path.join(REPO_ROOT, 'reports', 'console');
const NAMES = CATEGORIES.map((c) => c.en);

describe.skipIf(SKIP)('web console in headless Chromium', () => {
  const [embedded] = storeBackends();
  let data: DemoCatalogueSummary;
  let api: RunningApi;
  let dir = '';
  let context: BrowserContext | undefined;
  let page: Page;
  const problems: string[] = [];

  beforeAll(async () => {
    dir = await tempDir('rp-console-');
    await mkdir(SHOTS, { recursive: true });
    data = await makeCatalogue({ rows: 300, testRows: 30, imageFraction: 0.2 });
    // Jobs in worker threads, as `serve` runs them: the page must stay live while one trains.
    api = await startApi(embedded!, { dataDir: data.outDir });
    await api.client.runJobs([
      ['/load-data', {}],
      ['/prepare-data', {}],
      ['/train-model', { kind: NAIVE_BAYES_KIND, seed: 1 }],
      ['/evaluate-model', { model: 1 }],
      ['/predict', {}],
    ] as const);
    context = await chromium.launchPersistentContext(path.join(dir, 'profile'), {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1280, height: 900 },
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      timeout: 60_000,
    });
    page = await context.newPage();
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    // Failed requests are judged by their answers below (Chromium also logs each one as an error).
    page.on('console', (m) => {
      if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) problems.push(`console: ${m.text()}`);
    });
    page.on('response', (r) => {
      // Expected failures: the drift page asks for the newest report before there is one, and the
      // review page's first reads are refused until the key is given.
      const where = new URL(r.url()).pathname;
      const expected = (r.status() === 404 && where === '/drift') || (r.status() === 401 && where.startsWith('/review'));
      if (r.status() >= 400 && !expected) problems.push(`${r.request().method()} ${r.url()}: ${r.status()}`);
    });
    // Any alert() would be script from the data running: there must be none.
    page.on('dialog', (d) => {
      problems.push(`dialog: ${d.message()}`);
      void d.dismiss();
    });
  }, 240_000);
  afterAll(async () => {
    await context?.close();
    await api?.close();
    await rm(dir, { recursive: true, force: true });
    if (data) await rm(data.outDir, { recursive: true, force: true });
  });

  const shot = (name: string) => page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
  /** Answers the key dialog when it opens for the first state-changing call of the session. */
  const giveKey = async () => {
    await page.getByTestId('key-dialog').waitFor();
    await page.getByLabel('API key').fill(API_KEY);
    await page.getByRole('button', { name: 'Use key' }).click();
    await page.getByTestId('key-dialog').waitFor({ state: 'detached' });
  };

  it('shows the data status and the champion', async () => {
    await page.goto(`${api.base}/ui`);
    expect(page.url()).toMatch(new RegExp(`^${api.base}/ui/(#/data)?$`));
    await page.getByTestId('class-distribution').waitFor();
    await expect(page.getByTestId('champion').innerText()).resolves.toBe('Champion: v1');
    const distribution = await page.getByTestId('class-distribution').innerText();
    expect(NAMES.some((n) => distribution.includes(n))).toBe(true);
    await shot('1-data');
  });

  it('predicts a product from the form, with its category name', async () => {
    await page.goto(`${api.base}/ui/#/predict`);
    await page.getByLabel('Title').fill('Lot de 4 verres à pied en cristal');
    await page.getByLabel('Description').fill('<b>Verres</b> à vin, lavables au lave-vaisselle');
    await page.getByLabel('Image file').setInputFiles({ name: 'verres.jpg', mimeType: 'image/jpeg', buffer: await jpeg(96) });
    await page.getByRole('button', { name: 'Classify' }).click();
    await page.getByTestId('prediction').waitFor();
    const text = await page.getByTestId('prediction').innerText();
    expect(NAMES.some((n) => text.includes(n)), text).toBe(true);
    expect(await page.getByTestId('top-class').count()).toBeGreaterThanOrEqual(3);
    await shot('2-predict');
  });

  it('corrects an item of the review queue', async () => {
    await page.goto(`${api.base}/ui/#/review`);
    // The queue shows what other callers sent: reading it already takes the key (asked once for the tab).
    await giveKey();
    const item = page.getByTestId('review-item').first();
    await item.waitFor();
    const id = await item.getAttribute('data-id');
    await shot('3-review');
    await item.getByRole('combobox').selectOption({ index: 3 });
    await item.getByRole('button', { name: /^Correct/ }).click();
    await expect.poll(async () => (await api.client.get<{ id: string; keyId: string; accepted: boolean }[]>('/review/corrections')).body, { timeout: 10_000 }).toEqual([
      expect.objectContaining({ id, keyId: expect.stringMatching(/^key:/), accepted: false }),
    ]);
    // The key stays out of the page, its URL and persistent storage.
    expect(await page.content()).not.toContain(API_KEY);
    expect(page.url()).not.toContain(API_KEY);
    expect(await page.evaluate('[localStorage.length, document.cookie]')).toEqual([0, '']);
    await shot('3-review-corrected');
  });

  it('starts a training and follows its progress live to the end', async () => {
    await page.goto(`${api.base}/ui/#/jobs`);
    await page.getByTestId('live-state').getByText('live').waitFor();
    await page.getByLabel('Model kind').fill('text-image-v1');
    await page.getByLabel('Epochs').fill('3');
    await page.getByRole('button', { name: 'Start training' }).click();
    const running = page.getByTestId('running-job');
    await running.waitFor({ timeout: 30_000 });
    const id = await running.getAttribute('data-job-id');
    // Progress arrives as events: the bar moves without any reload (the page is never reloaded here).
    await running.getByRole('progressbar').and(page.locator('[aria-valuenow]')).waitFor({ timeout: 120_000 });
    await shot('4-jobs-running');
    const row = page.locator(`[data-testid="history-job"][data-job-id="${id}"]`);
    const seen = new Set<string>();
    const deadline = Date.now() + 240_000;
    while (Date.now() < deadline && (await row.count()) === 0) {
      const now = await running.getByRole('progressbar').getAttribute('aria-valuenow', { timeout: 1_000 }).catch(() => null);
      if (now !== null) seen.add(now);
      await page.waitForTimeout(100);
    }
    await row.getByText('succeeded').waitFor({ timeout: 30_000 });
    // Epochs 0 and at least one more were shown as they happened.
    expect(seen.size, [...seen].join(', ')).toBeGreaterThanOrEqual(2);
    await expect(page.getByTestId('running-job').count()).resolves.toBe(0);
    await shot('4-jobs-done');
    const version = ((await api.anonymous.get<{ result: { version: number } }>(`/jobs/${id}`)).body.result).version;
    expect(version).toBe(2);
  }, 300_000);

  it('compares the two versions per class and by confusion matrix', async () => {
    expect((await api.client.runJob('/evaluate-model', { model: 2 })).state).toBe('succeeded');
    await page.goto(`${api.base}/ui/#/models`);
    await page.getByTestId('model-version').nth(1).waitFor();
    await page.getByLabel('Version a').selectOption('1');
    await page.getByLabel('Version b').selectOption('2');
    await page.getByRole('button', { name: 'Compare' }).click();
    await page.getByTestId('confusion-diff').waitFor();
    const comparison = await page.getByTestId('comparison').innerText();
    expect(NAMES.some((n) => comparison.includes(n))).toBe(true);
    await shot('5-models-compare');
    // Promotion shows the guardrail's verdict first.
    await page.getByRole('button', { name: 'Promote v2' }).click();
    await page.getByTestId('guardrail').waitFor();
    await expect(page.getByTestId('guardrail').innerText()).resolves.toMatch(/weighted F1|class|champion/);
    await shot('5-models-guardrail');
    await page.getByTestId('promote-dialog').getByRole('button', { name: /Cancel|Close/ }).first().click();
  }, 120_000);

  it('flags drift after shifted traffic', async () => {
    // Only English titles, of two kinds of product: the language mix and the classes move.
    const titles = ['Wireless gaming mouse with RGB lights and six buttons for the computer', 'Paperback novel for young adults, the first book of the series'];
    for (let i = 0; i < 240; i++) {
      const reply = await api.anonymous.post('/predict/product', { designation: `${titles[i % 2]} ${i}`, description: 'Brand new, with the original box and the user manual in English.' });
      expect(reply.status).toBe(200);
    }
    await page.goto(`${api.base}/ui/#/drift`);
    await page.getByRole('button', { name: 'Compute now' }).click();
    const language = page.locator('[data-testid="drift-feature"][data-feature="language"]');
    await language.waitFor();
    await expect(language.getAttribute('class')).resolves.toContain('flagged');
    await shot('6-drift');
  }, 120_000);

  it('raised no page error, console error or dialog on the way', () => {
    expect(problems).toEqual([]);
  });
});
