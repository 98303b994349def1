// Hostile cases #34, #35 and #39: data folders named in requests are checked on their real
// paths, and a decompression bomb on /predict/product is refused from its header.
import { mkdir, symlink } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NAIVE_BAYES_KIND } from '../../src/models/naive-bayes.js';
import { makeCatalogue, tempDir } from '../support/data.js';
import { pngBomb } from '../support/hostile.js';
import { storeBackends } from '../support/stores.js';
import { jpeg, startApi, type ErrorBody, type RunningApi } from './support.js';

for (const backend of storeBackends()) {
  describe.skipIf(backend.skip)(`HTTP data folders on ${backend.name}`, () => {
    let api: RunningApi;
    let allowed = '';
    let catalogue = '';
    beforeAll(async () => {
      allowed = await tempDir('rp-allowed-');
      const elsewhere = await tempDir('rp-elsewhere-');
      catalogue = path.join(allowed, 'catalogue');
      await makeCatalogue({ rows: 20, testRows: 0, imageFraction: 0, outDir: catalogue });
      await symlink('/etc', path.join(allowed, 'etc-link'));
      await symlink(elsewhere, path.join(allowed, 'escape-link'));
      await symlink(catalogue, path.join(allowed, 'inside-link'));
      await mkdir(`${allowed}-sibling`);
      api = await startApi(backend, { allowedDataDirs: [allowed], jobs: 'inline' });
    });
    afterAll(() => api?.close());

    it('refuses symlinks leading out of an allowed folder, and NUL bytes, before any job', async () => {
      const cases: { dataDir: string; status: number; code: string; message: RegExp }[] = [
        { dataDir: path.join(allowed, 'etc-link'), status: 403, code: 'DATA_DIR_NOT_ALLOWED', message: /etc-link is outside the data folders/ },
        { dataDir: path.join(allowed, 'escape-link'), status: 403, code: 'DATA_DIR_NOT_ALLOWED', message: /escape-link is outside/ },
        { dataDir: path.join(allowed, 'etc-link', 'ssl'), status: 403, code: 'DATA_DIR_NOT_ALLOWED', message: /outside/ },
        { dataDir: path.join(allowed, '..'), status: 403, code: 'DATA_DIR_NOT_ALLOWED', message: /outside/ },
        { dataDir: `${allowed}-sibling`, status: 403, code: 'DATA_DIR_NOT_ALLOWED', message: /outside/ },
        { dataDir: `${catalogue}\u0000x`, status: 400, code: 'BAD_DATA_DIR', message: /^body\/dataDir must not contain a NUL character$/ },
      ];
      for (const route of ['/load-data', '/evaluate-model']) {
        for (const c of cases) {
          const reply = await api.client.post<ErrorBody>(route, { dataDir: c.dataDir });
          const label = `${route} ${JSON.stringify(c.dataDir)}`;
          expect(reply.status, label).toBe(c.status);
          expect(reply.body.code, label).toBe(c.code);
          expect(reply.body.message, label).toMatch(c.message);
        }
      }
      expect((await api.anonymous.get<unknown[]>('/jobs')).body).toEqual([]);
    });

    it('accepts a symlink that stays inside, and loads the real path', async () => {
      const job = await api.client.runJob('/load-data', { dataDir: path.join(allowed, 'inside-link') });
      expect(job.params).toEqual({ dataDir: catalogue });
      expect(job.result).toMatchObject({ labelledTrainRows: 20 });
    });
  });
}

const embedded = storeBackends()[0];
describe.skipIf(!embedded || embedded.skip)('POST /predict/product with a decompression bomb', () => {
  let api: RunningApi;
  beforeAll(async () => {
    const data = await makeCatalogue({ rows: 120, testRows: 0, imageFraction: 0 });
    api = await startApi(embedded!, { jobs: 'inline', dataDir: data.outDir });
    await api.client.runJob('/load-data');
    await api.client.runJob('/prepare-data', { seed: 1 });
    await api.client.runJob('/train-model', { kind: NAIVE_BAYES_KIND });
  }, 120_000);
  afterAll(() => api?.close());

  it('answers 413 naming the pixel limit, at once, and still serves normal images', async () => {
    const bomb = pngBomb(16000).toString('base64');
    const t0 = performance.now();
    const reply = await api.anonymous.post<ErrorBody>('/predict/product', { designation: 'x', image: bomb });
    expect(performance.now() - t0).toBeLessThan(2_000);
    expect(reply.status).toBe(413);
    expect(reply.body).toMatchObject({
      code: 'IMAGE_TOO_LARGE',
      message: 'body/image: image is 16000 x 16000 = 256,000,000 pixels, above the limit of 40,000,000 pixels (maxInputPixels); refused without decoding',
    });
    const ok = await api.anonymous.post<{ usedImage: boolean }>('/predict/product', { designation: 'Lampe', image: (await jpeg(96)).toString('base64') });
    expect(ok.status).toBe(200);
  });
});
