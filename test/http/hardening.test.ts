import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobView } from '../../src/http/jobs/types.js';
import { makeCatalogue, tempDir } from '../support/data.js';
import { storeBackends } from '../support/stores.js';
import { API_KEY, startApi, type ErrorBody, type RunningApi } from './support.js';

for (const backend of storeBackends()) {
  describe.skipIf(backend.skip)(`HTTP API hardening on ${backend.name}`, () => {
    let api: RunningApi;
    let dataRoot = '';
    let logs = '';
    beforeAll(async () => {
      dataRoot = await tempDir('rp-allowed-');
      await makeCatalogue({ outDir: path.join(dataRoot, 'catalogue'), rows: 40, testRows: 20, imageFraction: 0 });
      const stream = new Writable({
        write(chunk: Buffer, _encoding, done) {
          logs += chunk.toString();
          done();
        },
      });
      api = await startApi(backend, { allowedDataDirs: [dataRoot], dataDir: path.join(dataRoot, 'catalogue'), jobs: 'inline', logger: { level: 'info', stream } });
    });
    afterAll(() => api?.close());

    it('never writes a key sent in the query string to the request log (#33)', async () => {
      const reply = await api.anonymous.get(`/health?api_key=${API_KEY}&x=1&access_token=${API_KEY}&Token=${API_KEY}`);
      expect(reply.status).toBe(200);
      expect(logs).toMatch(/"url":"\/health\?api_key=\[REDACTED\]&x=1&access_token=\[REDACTED\]&Token=\[REDACTED\]"/);
      expect(logs).not.toContain(API_KEY);
    });

    it('shows server paths on the open read routes only to callers with a key (#43)', async () => {
      const started = await api.client.start('/load-data', {});
      const job = await api.client.waitForJob(started.id);
      expect(job.state, JSON.stringify(job.error)).toBe('succeeded');
      // A failed job's error names paths too.
      const failed = await api.client.waitForJob((await api.client.start('/prepare-data', { seed: 1 })).id);
      expect(failed.state).toBe('succeeded');
      const anonymous = [
        await api.anonymous.get('/data-status'),
        await api.anonymous.get('/jobs'),
        await api.anonymous.get(`/jobs/${job.id}`),
      ];
      for (const reply of anonymous) {
        expect(reply.status).toBe(200);
        const text = JSON.stringify(reply.body);
        expect(text).not.toContain(os.tmpdir());
        expect(text).not.toContain('127.0.0.1');
      }
      const status = anonymous[0]?.body as { store: string; lastLoad: { source: string; store: string } };
      expect(status.store).toBe('<store>');
      expect(status.lastLoad.source).toBe('<data>');
      expect((anonymous[2]?.body as JobView).params).toEqual({ dataDir: '<data>' });
      // With a key: the real paths.
      const full = await api.client.get<{ store: string; lastLoad: { source: string } }>('/data-status');
      expect(full.body.lastLoad.source).toBe(path.join(dataRoot, 'catalogue'));
      expect((await api.client.get<JobView>(`/jobs/${job.id}`)).body.params).toEqual({ dataDir: path.join(dataRoot, 'catalogue') });
    });

    it('answers 400 to a multipart body without or with a wrong boundary (#37)', async () => {
      const none = await api.anonymous.request<ErrorBody>('POST', '/predict/product', { body: 'designation=x', headers: { 'content-type': 'multipart/form-data' } });
      expect(none.status, JSON.stringify(none.body)).toBe(400);
      expect(none.body.message).toMatch(/multipart/i);
      const wrong = await api.anonymous.request<ErrorBody>('POST', '/predict/product', {
        body: '--other\r\ncontent-disposition: form-data; name="designation"\r\n\r\nLampe\r\n--other--\r\n',
        headers: { 'content-type': 'multipart/form-data; boundary=expected' },
      });
      expect(wrong.status, JSON.stringify(wrong.body)).toBe(400);
      const truncated = await api.anonymous.request<ErrorBody>('POST', '/predict/product', {
        body: '--b\r\ncontent-disposition: form-data; name="designation"\r\n\r\nLam',
        headers: { 'content-type': 'multipart/form-data; boundary=b' },
      });
      expect(truncated.status, JSON.stringify(truncated.body)).toBe(400);
    });

    it('refuses a blank designation and a file where designation text belongs (#37, #38)', async () => {
      for (const designation of ['', '   ', '\n\t']) {
        const reply = await api.anonymous.post<ErrorBody>('/predict/product', { designation });
        expect(reply.status, JSON.stringify(designation)).toBe(400);
        expect(reply.body.message).toBe('body/designation must not be empty or blank');
      }
      const form = new FormData();
      form.append('designation', new Blob([Buffer.from('Lampe de chevet')]), 'title.txt');
      const file = await api.anonymous.request<ErrorBody>('POST', '/predict/product', { body: form });
      expect(file.status, JSON.stringify(file.body)).toBe(400);
      expect(file.body.message).toMatch(/^body\/designation: a file was sent/);
    });

    it('answers 404 at once for a job naming a model version that does not exist (#41)', async () => {
      for (const route of ['/evaluate-model', '/predict']) {
        const reply = await api.client.post<ErrorBody>(route, { model: 999 });
        expect(reply.status, route).toBe(404);
        expect(reply.body).toMatchObject({ code: 'MODEL_NOT_FOUND', message: 'body/model: no model version 999' });
      }
    });
  });
}
