import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { uiDirectory } from '../../src/http/routes/ui.js';
import { tempDir } from '../support/data.js';
import { storeBackends } from '../support/stores.js';
import { startApi, type RunningApi } from './support.js';

// The console's files come from RAKUTEN_UI_DIR here: a stand-in build, so that these tests do
// not depend on `npm run build` having run.

const CSP = "default-src 'self'; img-src 'self' blob: data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
const INDEX = '<!doctype html><html><head><title>rakuten-pipeline console</title><script type="module" src="./assets/app.js"></script></head><body></body></html>';

describe('the web console at /ui/', () => {
  const [embedded] = storeBackends();
  let dir = '';
  let empty = '';
  const started: RunningApi[] = [];
  const previous = process.env['RAKUTEN_UI_DIR'];

  const start = async (uiDir: string, options: Parameters<typeof startApi>[1] = {}) => {
    process.env['RAKUTEN_UI_DIR'] = uiDir;
    const api = await startApi(embedded!, { jobs: 'inline', ...options });
    started.push(api);
    return api;
  };

  beforeAll(async () => {
    dir = await tempDir('rp-ui-');
    await mkdir(path.join(dir, 'build', 'assets'), { recursive: true });
    await writeFile(path.join(dir, 'build', 'index.html'), INDEX);
    await writeFile(path.join(dir, 'build', 'assets', 'app.js'), 'console.log("console");\n');
    await writeFile(path.join(dir, 'build', 'assets', 'app.css'), 'body { margin: 0; }\n');
    empty = path.join(dir, 'empty');
    await mkdir(empty);
  });
  afterEach(async () => {
    await Promise.all(started.splice(0).map((api) => api.close()));
    if (previous === undefined) delete process.env['RAKUTEN_UI_DIR'];
    else process.env['RAKUTEN_UI_DIR'] = previous;
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('redirects /ui to /ui/ and serves index.html and its assets with a strict CSP, without a key', async () => {
    const api = await start(path.join(dir, 'build'), { auth: { keys: ['test-api-key-0123456789abcdef'], protectReads: true } });
    const redirect = await fetch(`${api.base}/ui`, { redirect: 'manual' });
    expect(redirect.status).toBe(302);
    expect(redirect.headers.get('location')).toBe('/ui/');

    const index = await api.anonymous.get<string>('/ui/');
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toMatch(/^text\/html/);
    expect(index.body).toBe(INDEX);
    expect(index.headers.get('content-security-policy')).toBe(CSP);
    expect(index.headers.get('x-content-type-options')).toBe('nosniff');
    expect(index.headers.get('referrer-policy')).toBe('no-referrer');
    expect(index.headers.get('cache-control')).toBe('no-cache');

    const script = await api.anonymous.get<string>('/ui/assets/app.js');
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toMatch(/^(application|text)\/javascript/);
    expect(script.headers.get('content-security-policy')).toBe(CSP);
    const css = await api.anonymous.get<string>('/ui/assets/app.css');
    expect(css.status).toBe(200);
    expect(css.headers.get('content-type')).toMatch(/^text\/css/);

    // Reads stay protected: only the console's own files are public.
    expect((await api.anonymous.get('/models')).status).toBe(401);
    expect((await api.anonymous.get('/ui/assets/missing.js')).status).toBe(404);
    expect((await api.anonymous.get('/ui/../package.json')).status).not.toBe(200);
  });

  it('documents GET /ui only in the OpenAPI document', async () => {
    const api = await start(path.join(dir, 'build'));
    const doc = await api.anonymous.get<{ paths: Record<string, Record<string, { summary?: string }>> }>('/docs/json');
    expect(doc.status).toBe(200);
    expect(doc.body.paths['/ui']?.get?.summary).toMatch(/console/);
    expect(Object.keys(doc.body.paths).filter((p) => p.startsWith('/ui'))).toEqual(['/ui']);
  });

  it('is served under the plugin prefix', async () => {
    const api = await start(path.join(dir, 'build'), { prefix: '/api' });
    expect(api.base).toMatch(/\/api$/);
    const redirect = await fetch(`${api.base}/ui`, { redirect: 'manual' });
    expect(redirect.status).toBe(302);
    expect(redirect.headers.get('location')).toBe('/api/ui/');
    const index = await api.anonymous.get<string>('/ui/');
    expect(index.status).toBe(200);
    expect(index.body).toBe(INDEX);
    expect((await api.anonymous.get('/ui/assets/app.js')).status).toBe(200);
    expect((await fetch(`${new URL(api.base).origin}/ui/`)).status).toBe(404);
  });

  it('answers 503 when the console is not built, and nothing with ui: false', async () => {
    const api = await start(empty);
    const reply = await api.anonymous.get<{ code: string; message: string }>('/ui/');
    expect(reply.status).toBe(503);
    expect(reply.body.code).toBe('UI_NOT_BUILT');
    expect(reply.body.message).toBe('the console is not built: run npm run build');
    expect((await api.anonymous.get('/health')).status).toBe(200);

    const off = await start(path.join(dir, 'build'), { ui: false });
    expect((await off.anonymous.get('/ui/')).status).toBe(404);
    expect((await fetch(`${off.base}/ui`, { redirect: 'manual' })).status).toBe(404);
  });

  it('ships an index.html that the policy allows: no inline script or style, relative asset URLs', async () => {
    const html = await readFile(path.resolve('ui', 'index.html'), 'utf8');
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)];
    expect(scripts.length).toBeGreaterThan(0);
    for (const [, attributes, body] of scripts) {
      expect(body?.trim()).toBe('');
      expect(attributes).toMatch(/\ssrc="\.\/assets\/[^"]+"/);
    }
    expect(html).not.toMatch(/<style\b|\sstyle=|\son[a-z]+=|javascript:/i);
    for (const [, url] of html.matchAll(/\s(?:src|href)="([^"]+)"/g)) expect(url, 'asset URLs are relative (any prefix) or inline data').toMatch(/^(\.\/|data:)/);
  });

  it('finds dist/ui of the package when running from the sources', () => {
    const saved = process.env['RAKUTEN_UI_DIR'];
    delete process.env['RAKUTEN_UI_DIR'];
    try {
      const built = path.resolve('dist', 'ui');
      expect(uiDirectory()).toBe(existsSync(path.join(built, 'index.html')) ? built : undefined);
    } finally {
      if (saved !== undefined) process.env['RAKUTEN_UI_DIR'] = saved;
    }
  });
});
