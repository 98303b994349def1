import { spawn, type ChildProcess } from 'node:child_process';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MOCK_MODEL_KIND } from '../../src/models/mock-model.js';
import { NAIVE_BAYES_KIND } from '../../src/models/naive-bayes.js';
import { COLLECTIONS } from '../../src/collections.js';
import { workerExecutor } from '../../src/http/jobs/executor.js';
import { createPipeline } from '../../src/pipeline/pipeline.js';
import type { PrepareRun } from '../../src/stages/prepare/types.js';
import { cli } from '../support/cli.js';
import { makeCatalogue, REPO_ROOT, tempDir } from '../support/data.js';
import { emulatorUnavailable, startMongoEmulator, type MongoEmulator } from '../support/mongo-emulator.js';
import { ApiClient } from '../http/support.js';

// Plugins and credentials cross every boundary: `serve` on a password-protected MongoDB runs each
// job kind in worker threads (which reopen the store with the real connection string, written
// nowhere), and a third-party store driver and model kind, named by module specifier, run through
// the CLI, the API's worker jobs and the library alike.

const API_KEY = 'plugins-workers-test-key-0001';
const PLUGIN = 'test/fixtures/plugin.ts';
const USER = 'rakuten';
const PASSWORD = 's3cr3t:p@ss/w0rd%';

const mongoSkip = await emulatorUnavailable('password-protected MongoDB tests');

interface Served {
  child: ChildProcess;
  base: string;
  output: { stdout: string; stderr: string };
  exited: Promise<number | null>;
}

/** `rakuten-pipeline [global args] serve ...` from the sources; resolves once it listens, or with its exit. */
async function serve(globals: string[], args: string[]): Promise<Served> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'src/cli/main.ts'), ...globals, 'serve', '--port', '0', ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, RAKUTEN_API_KEYS: API_KEY, RAKUTEN_API_KEYS_FILE: '', RAKUTEN_TF_BACKEND: 'cpu', FORCE_COLOR: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = { stdout: '', stderr: '' };
  child.stdout!.setEncoding('utf8').on('data', (s: string) => (output.stdout += s));
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (output.stderr += s));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const started = Date.now();
  for (;;) {
    const m = /^listening on (http:\/\/127\.0\.0\.1:\d+)/m.exec(output.stdout);
    if (m) return { child, base: m[1]!, output, exited };
    if (child.exitCode !== null) return { child, base: '', output, exited };
    if (Date.now() - started > 60_000) {
      child.kill('SIGKILL');
      throw new Error(`serve did not start:\n${output.stdout}\n${output.stderr}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function stop(served: Served): Promise<void> {
  if (served.child.exitCode === null) served.child.kill('SIGTERM');
  await served.exited;
}

/** Every job kind through the API, each in a worker thread; returns the train job's result. */
async function everyJob(api: ApiClient, kind: string): Promise<{ kind: string; version: number }> {
  await api.runJob('/load-data', {});
  await api.runJob('/prepare-data', { seed: 3 });
  const trained = await api.runJob('/train-model', { kind, epochs: 2 });
  const result = trained.result as { kind: string; version: number };
  await api.runJob('/evaluate-model', { model: result.version });
  await api.runJob('/predict', { model: result.version });
  return result;
}

let data = '';
const dirs: string[] = [];
beforeAll(async () => {
  data = (await makeCatalogue({ rows: 150, testRows: 15, imageFraction: 0.2 })).outDir;
});
afterAll(async () => {
  for (const d of [data, ...dirs]) await rm(d, { recursive: true, force: true });
});

describe.skipIf(mongoSkip)('serve on a password-protected MongoDB', () => {
  let emulator: MongoEmulator;
  beforeAll(async () => {
    emulator = await startMongoEmulator({ user: USER, password: PASSWORD });
  });
  afterAll(() => emulator?.stop());
  const uri = (password: string) => `mongodb://${USER}:${encodeURIComponent(password)}@127.0.0.1:${emulator.port}/rp_auth?directConnection=true`;

  it('runs load, prepare, train, evaluate and predict jobs in worker threads; the password is written nowhere', async () => {
    const served = await serve([], ['--store', uri(PASSWORD), '--data', data]);
    try {
      expect(served.base, served.output.stderr).not.toBe('');
      const api = new ApiClient(served.base, { authorization: `Bearer ${API_KEY}` });
      const trained = await everyJob(api, NAIVE_BAYES_KIND);
      expect(trained.kind).toBe(NAIVE_BAYES_KIND);
      const health = await api.get<{ store: { driver: string; ok: boolean } }>('/health');
      expect(health.body.store).toMatchObject({ driver: 'mongodb', ok: true });
    } finally {
      await stop(served);
    }
    const secrets = [PASSWORD, encodeURIComponent(PASSWORD)];
    for (const s of secrets) expect(served.output.stdout + served.output.stderr).not.toContain(s);
    // Every document of every collection (runs, jobs, models, GridFS metadata) is free of it.
    const client = await MongoClient.connect(uri(PASSWORD));
    try {
      const db = client.db('rp_auth');
      const names = (await db.listCollections().toArray()).map((c) => c.name);
      expect(names).toEqual(expect.arrayContaining(['api_jobs', 'model_metadata', 'data_pipeline']));
      for (const name of names) {
        const text = JSON.stringify(await db.collection(name).find({}).toArray());
        for (const s of secrets) expect(text.includes(s), `${name} holds the password`).toBe(false);
      }
    } finally {
      await client.close();
    }
  });

  it('refuses to start with a wrong password, without printing it', async () => {
    const wrong = 'wrong-pass-0042';
    const served = await serve([], ['--store', uri(wrong)]);
    const code = await served.exited;
    expect(code).not.toBe(0);
    expect(served.output.stderr).toMatch(/Authentication failed/);
    expect(served.output.stderr).toContain(`${USER}:***@`);
    expect(served.output.stderr + served.output.stdout).not.toContain(wrong);
  });
});

describe('a third-party store driver and model kind (plugin module)', () => {
  it('run through the CLI', async () => {
    const dir = await tempDir('rp-plugin-cli-');
    dirs.push(dir);
    const store = `custom://${path.join(dir, 'store')}`;
    const p = ['--plugin', PLUGIN];
    const loaded = await cli(...p, 'load', '--store', store, '--data', data, '--json');
    expect(loaded.code, loaded.stderr).toBe(0);
    expect((await cli(...p, 'prepare', '--store', store, '--json')).code).toBe(0);
    const trained = await cli(...p, 'train', '--store', store, '--kind', MOCK_MODEL_KIND, '--json');
    expect(trained.code, trained.stderr).toBe(0);
    expect(JSON.parse(trained.stdout)).toMatchObject({ model: { kind: MOCK_MODEL_KIND, version: 1 } });
    const status = await cli(...p, 'status', '--store', store, '--json');
    expect(JSON.parse(status.stdout)).toMatchObject({ driver: 'custom' });
    const predicted = await cli(...p, 'predict', '--store', store, '--json');
    expect(JSON.parse(predicted.stdout)).toMatchObject({ modelVersion: 1 });
    // Without the plugin, neither its scheme nor its model kind is known.
    const noDriver = await cli('status', '--store', store);
    expect(noDriver.code).toBe(1);
    expect(noDriver.stderr).toMatch(/No storage driver accepts/);
    const noKind = await cli(...p, 'train', '--store', store, '--kind', 'no-such-kind');
    expect(noKind.stderr).toMatch(/unknown model kind "no-such-kind"; known: text-image-v1, naive-bayes-v1, mock-v1/);
  });

  it('run as the API\'s worker jobs', async () => {
    const dir = await tempDir('rp-plugin-api-');
    dirs.push(dir);
    const served = await serve(['--plugin', PLUGIN], ['--store', `custom://${path.join(dir, 'store')}`, '--data', data]);
    try {
      expect(served.base, served.output.stderr).not.toBe('');
      const api = new ApiClient(served.base, { authorization: `Bearer ${API_KEY}` });
      expect((await everyJob(api, MOCK_MODEL_KIND)).kind).toBe(MOCK_MODEL_KIND);
      expect((await api.get<{ store: { driver: string } }>('/health')).body.store.driver).toBe('custom');
      const models = await api.get<{ versions: { kind: string }[] }>('/models');
      expect(models.body.versions.map((v) => v.kind)).toEqual([MOCK_MODEL_KIND]);
    } finally {
      await stop(served);
    }
  });

  it('run through the library', async () => {
    const dir = await tempDir('rp-plugin-lib-');
    dirs.push(dir);
    const pipeline = await createPipeline({ store: `custom://${path.join(dir, 'store')}`, plugins: [`./${PLUGIN}`] });
    try {
      expect(pipeline.store.driver).toBe('custom');
      expect(pipeline.models.map((m) => m.kind)).toContain(MOCK_MODEL_KIND);
      await pipeline.load({ dataDir: data });
      await pipeline.prepare();
      const { model } = await pipeline.train({ kind: MOCK_MODEL_KIND });
      expect(model.kind).toBe(MOCK_MODEL_KIND);
      expect((await pipeline.evaluate({ model: model.version, report: false })).metrics.count).toBeGreaterThan(0);
      expect((await pipeline.predict({ model: model.version })).count).toBe(15);
      expect(pipeline.blueprint().plugins[0]).toMatch(/^file:.*test\/fixtures\/plugin\.ts$/);
    } finally {
      await pipeline.close();
    }
  });
});

describe('a job worker rebuilds the same preprocessing', () => {
  it('prepares with the pipeline\'s non-default text options in a worker thread', async () => {
    const dir = await tempDir('rp-worker-prep-');
    dirs.push(dir);
    const preprocessing = { text: { stem: false, removeStopWords: false, minTokenLength: 3 }, image: { size: 32 } };
    const pipeline = await createPipeline({ store: path.join(dir, 'store'), preprocessing });
    try {
      await pipeline.load({ dataDir: data });
      const plan = pipeline.blueprint();
      expect(plan.preprocessing).toMatchObject(preprocessing);
      const result = (await workerExecutor(plan).execute('prepare', { seed: 3 }, {})) as { runId: string };
      const run = await pipeline.store.documents.collection<PrepareRun>(COLLECTIONS.pipelineMetadata).get(result.runId);
      expect(run?.preprocessing).toEqual(pipeline.preprocessor.spec);
      expect(run?.params.imageSize).toBe(32);
    } finally {
      await pipeline.close();
    }
  });

  it('refuses to start worker jobs for a pipeline it cannot rebuild, saying why', async () => {
    const dir = await tempDir('rp-worker-refuse-');
    dirs.push(dir);
    const pipeline = await createPipeline({ store: path.join(dir, 'store'), plugins: [{ name: 'inline-only', models: [] }] });
    try {
      expect(() => pipeline.blueprint()).toThrow(/plugin inline-only has no module: job workers cannot load it/);
    } finally {
      await pipeline.close();
    }
  });
});
