import { spawn, type ChildProcess } from 'node:child_process';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COLLECTIONS } from '../../src/collections.js';
import type { JobRecord } from '../../src/http/jobs/types.js';
import { makeCatalogue, REPO_ROOT, tempDir } from '../support/data.js';
import { all, storeBackends } from '../support/stores.js';
import { ApiClient, type ErrorBody } from './support.js';

// `rakuten-pipeline serve` as a child process (from the sources, through tsx's loader, in one
// process so that signals reach the server itself), talked to over HTTP and stopped with SIGTERM.

const ENV_KEY = 'env-key-for-the-cli-test-0001';
const FILE_KEY = 'file-key-for-the-cli-test-002';
const COMMENTED_KEY = 'commented-out-key-in-the-file-003';

/** A running `serve`, with everything it printed so far. */
interface Served {
  child: ChildProcess;
  base: string;
  docs: string;
  output: { stdout: string; stderr: string };
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

async function serve(args: string[]): Promise<Served> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'src/cli/main.ts'), 'serve', '--port', '0', ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, RAKUTEN_API_KEYS: ENV_KEY, RAKUTEN_API_KEYS_FILE: '', FORCE_COLOR: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = { stdout: '', stderr: '' };
  child.stdout!.setEncoding('utf8').on('data', (s: string) => (output.stdout += s));
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (output.stderr += s));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const started = Date.now();
  for (;;) {
    const m = /^listening on (http:\/\/127\.0\.0\.1:\d+) \(docs: (\S+)\)$/m.exec(output.stdout);
    if (m) return { child, base: m[1]!, docs: m[2]!, output, exited };
    if (child.exitCode !== null || Date.now() - started > 60_000) {
      child.kill('SIGKILL');
      throw new Error(`serve did not start (exit ${child.exitCode}):\n${output.stdout}\n${output.stderr}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

let data = '';
let keysFile = '';
beforeAll(async () => {
  data = (await makeCatalogue({ rows: 120, testRows: 12, imageFraction: 0.3 })).outDir;
  keysFile = path.join(await tempDir('rp-keys-'), 'keys.txt');
  await writeFile(keysFile, `# API keys of the CLI test\n${FILE_KEY}   # the operator's key\n# ${COMMENTED_KEY}\n`);
});
afterAll(async () => {
  await rm(data, { recursive: true, force: true });
  await rm(path.dirname(keysFile), { recursive: true, force: true });
});

describe('rakuten-pipeline serve', () => {
  for (const backend of storeBackends()) {
    it.skipIf(backend.skip)(`serves the API on ${backend.name} and stops cleanly on SIGTERM`, async () => {
      const harness = await backend.create();
      let served: Served | undefined;
      try {
        served = await serve(['--store', harness.uri, '--data', data, '--api-keys-file', keysFile, '--max-image-bytes', '4096']);
        expect(served.docs).toBe(`${served.base}/docs`);
        const anonymous = new ApiClient(served.base, {});
        const health = await anonymous.get<{ status: string; store: { driver: string } }>('/health');
        expect(health.status).toBe(200);
        expect(health.body).toMatchObject({ status: 'ok', store: { driver: backend.name.startsWith('mongodb') ? 'mongodb' : 'embedded' } });
        expect((await anonymous.get<string>('/docs')).status).toBe(200);

        // Keys from the environment and from the file; a commented-out line is no key.
        expect((await anonymous.post<ErrorBody>('/prepare-data', {})).status).toBe(401);
        expect((await anonymous.with({ authorization: `Bearer ${COMMENTED_KEY}` }).post<ErrorBody>('/prepare-data', {})).body.message).toBe('invalid API key');
        const fromFile = new ApiClient(served.base, { authorization: `Bearer ${FILE_KEY}` });
        const fromEnv = new ApiClient(served.base, { 'x-api-key': ENV_KEY });

        // --data is the default folder of /load-data; the job runs in a worker thread.
        const load = await fromFile.runJob('/load-data');
        expect(load.params).toEqual({ dataDir: data });
        expect(load.result).toMatchObject({ labelledTrainRows: 120, testRows: 12 });
        const status = await fromEnv.get<{ labelledTrainRows: number }>('/data-status');
        expect(status.body.labelledTrainRows).toBe(120);

        // --max-image-bytes reaches the upload limit.
        const form = new FormData();
        form.set('designation', 'x');
        form.set('image', new Blob([Buffer.alloc(8192, 1)]), 'big.jpg');
        expect((await anonymous.request('POST', '/predict/product', { body: form })).status).toBe(413);

        // SIGTERM while a job runs: the job is stopped and recorded, the process exits 0.
        const second = await fromEnv.start('/load-data');
        served.child.kill('SIGTERM');
        const exit = await Promise.race([served.exited, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('serve did not exit within 30 s of SIGTERM')), 30_000))]);
        expect(exit, served.output.stderr).toEqual({ code: 0, signal: null });
        expect(served.output.stderr).toContain('serve: SIGTERM: cancelling jobs and closing');
        // Request logs go to stdout as JSON, without the keys.
        expect(served.output.stdout).toMatch(/"url":"\/load-data"/);
        for (const key of [ENV_KEY, FILE_KEY, COMMENTED_KEY]) {
          expect(served.output.stdout).not.toContain(key);
          expect(served.output.stderr).not.toContain(key);
        }

        const store = await harness.open();
        try {
          const jobs = await all(store.documents.collection<JobRecord>(COLLECTIONS.jobs).find());
          expect(jobs).toHaveLength(2);
          const stopped = jobs.find((j) => j._id === second.id);
          // Either it was cancelled by the shutdown or it had just finished: never left running.
          expect(['cancelled', 'succeeded']).toContain(stopped?.state);
          expect(stopped?.finishedAt).not.toBeNull();
        } finally {
          await store.close();
        }
      } finally {
        if (served && served.child.exitCode === null) served.child.kill('SIGKILL');
        await harness.dispose();
      }
    });
  }

  it('refuses to start with a key that is too short', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'src/cli/main.ts'), 'serve', '--port', '0', '--store', await tempDir('rp-store-')], {
      cwd: REPO_ROOT,
      env: { ...process.env, RAKUTEN_API_KEYS: 'short', RAKUTEN_API_KEYS_FILE: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    expect(code).toBe(1);
    expect(stderr).toContain('rakuten-pipeline: API key #1 is 5 characters long; at least 16 are required');
  });
});
