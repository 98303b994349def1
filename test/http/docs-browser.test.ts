import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../support/data.js';
import { storeBackends } from '../support/stores.js';
import { startApi, type RunningApi } from './support.js';

// /docs rendered by a real headless Chromium: the Debian package's binary, driven by
// playwright-core (no browser is ever downloaded). CI installs it; elsewhere the test is skipped.

const CHROMIUM = process.env['RP_CHROMIUM'] ?? '/usr/bin/chromium';
const SKIP = existsSync(CHROMIUM) ? undefined : `${CHROMIUM} not found (apt-get install chromium): the /docs browser test is SKIPPED`;
if (SKIP) console.warn(`[docs-browser] ${SKIP}`);

describe.skipIf(SKIP)('Swagger UI at /docs in headless Chromium', () => {
  const [embedded] = storeBackends();
  let api: RunningApi;
  let dir = '';
  let context: BrowserContext | undefined;
  beforeAll(async () => {
    dir = await tempDir('rp-chromium-');
    api = await startApi(embedded!, { jobs: 'inline' });
    // A persistent context is how playwright takes a user data folder: a fresh one per run.
    context = await chromium.launchPersistentContext(path.join(dir, 'profile'), {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1280, height: 900 },
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
      timeout: 60_000,
    });
  }, 90_000);
  afterAll(async () => {
    await context?.close();
    await api?.close();
    if (process.env['RP_KEEP_SCREENSHOTS']) console.log(`[docs-browser] screenshots kept in ${dir}`);
    else await rm(dir, { recursive: true, force: true });
  });

  it('lists every operation and renders a non-trivial page', async () => {
    const page = await context!.newPage();
    const failed: string[] = [];
    page.on('requestfailed', (r) => failed.push(`${r.url()}: ${r.failure()?.errorText ?? ''}`));
    page.on('pageerror', (e) => failed.push(`page error: ${e.message}`));
    const response = await page.goto(`${api.base}/docs`, { waitUntil: 'load', timeout: 30_000 });
    expect(response?.status()).toBe(200);

    await page.getByText('/train-model', { exact: true }).waitFor({ state: 'visible', timeout: 30_000 });
    await expect(page.locator('.info .title').textContent()).resolves.toContain('rakuten-pipeline API');
    const paths = await page.locator('.opblock-summary-path').allTextContents();
    const operations = paths.map((p) => p.replace(/\u200b/g, '').trim());
    for (const route of ['/load-data', '/prepare-data', '/train-model', '/evaluate-model', '/predict', '/jobs', '/jobs/{id}', '/models', '/models/{version}/promote', '/predict/product', '/data-status', '/health', '/metrics', '/pipeline-runs', '/pipeline-runs/{id}', '/pipeline-runs/{id}/resume', '/schedules', '/schedules/{id}', '/ui', '/jobs/events', '/categories', '/models/compare', '/models/{version}/guardrail', '/review', '/review/{id}', '/drift']) {
      expect(operations, route).toContain(route);
    }
    expect(operations).toHaveLength(36);
    // Security schemes are offered (the Authorize button) and nothing failed to load.
    await expect(page.locator('.btn.authorize').count()).resolves.toBeGreaterThan(0);
    expect(failed).toEqual([]);

    const file = path.join(dir, 'docs.png');
    await page.screenshot({ path: file, fullPage: true });
    const png = await readFile(file);
    expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    const meta = await sharp(png).metadata();
    expect(meta.width).toBe(1280);
    expect(meta.height).toBeGreaterThan(900);
    // Not a blank page: text and coloured method badges make a varied image.
    const stats = await sharp(png).stats();
    expect(stats.entropy).toBeGreaterThan(0.5);
    expect(stats.isOpaque).toBe(true);
    expect(png.length).toBeGreaterThan(30_000);
    await page.close();
  });
});
