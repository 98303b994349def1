import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { CLI_ARGS } from '../support/cli.js';
import { makeCatalogue, REPO_ROOT } from '../support/data.js';
import { startRedis, redisUnavailable, type TestRedis } from '../support/redis.js';
import { storeBackends, type StoreHarness } from '../support/stores.js';
import { ApiClient, sleep } from '../http/support.js';

// Past one process: two `serve --queue` and two `worker` processes on one Redis (Debian's
// redis-server) and one store, as a deployment runs them. Each store backend gets its own.

const API_KEY = 'queue-multi-process-key-0001';
const PLUGIN = 'test/fixtures/slow-plugin.ts';
const redisSkip = redisUnavailable('queue multi-process tests');

interface Proc {
  child: ChildProcess;
  out: { stdout: string; stderr: string };
}

/** Starts `rakuten-pipeline --plugin <slow> <args>` and resolves once its stdout matches `ready`. */
async function start(args: string[], ready: RegExp): Promise<Proc & { match: RegExpExecArray }> {
  const child = spawn(process.execPath, [...CLI_ARGS, '--plugin', PLUGIN, ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, RAKUTEN_API_KEYS: API_KEY, RAKUTEN_API_KEYS_FILE: '', RAKUTEN_QUEUE: '', RAKUTEN_TF_BACKEND: 'cpu', FORCE_COLOR: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out = { stdout: '', stderr: '' };
  child.stdout!.setEncoding('utf8').on('data', (s: string) => (out.stdout += s));
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (out.stderr += s));
  const started = Date.now();
  for (;;) {
    const match = ready.exec(out.stdout);
    if (match) return { child, out, match };
    if (child.exitCode !== null || Date.now() - started > 60_000) {
      child.kill('SIGKILL');
      throw new Error(`${args[0]} did not start:\n${out.stdout}\n${out.stderr}`);
    }
    await sleep(50);
  }
}

async function stopAll(procs: Proc[]): Promise<void> {
  await Promise.all(
    procs.map(
      (p) =>
        new Promise<void>((resolve) => {
          if (p.child.exitCode !== null || p.child.signalCode !== null) return resolve();
          const kill = setTimeout(() => p.child.kill('SIGKILL'), 15_000);
          p.child.once('exit', () => {
            clearTimeout(kill);
            resolve();
          });
          p.child.kill('SIGTERM');
        }),
    ),
  );
}

interface Job {
  id: string;
  kind: string;
  state: string;
  owner?: string;
  progress: { done: number } | null;
  result: Record<string, unknown> | null;
  error: { message: string } | null;
  attempt?: number;
}
interface Run {
  id: string;
  state: string;
  scheduleId: string | null;
  steps: { kind: string; state: string; jobId: string | null; result: Record<string, unknown> | null; error: { message: string } | null }[];
  error: { message: string } | null;
}

/** Polls `get` until `done` holds (or fails the test with the last value after `ms`). */
async function until<T>(get: () => Promise<T>, done: (v: T) => boolean, ms = 60_000): Promise<T> {
  const started = Date.now();
  let last = await get();
  while (!done(last)) {
    if (Date.now() - started > ms) throw new Error(`timed out after ${ms} ms; last: ${JSON.stringify(last)}`);
    await sleep(200);
    last = await get();
  }
  return last;
}

for (const backend of storeBackends()) {
  describe.skipIf(redisSkip ?? backend.skip)(`queue: two servers and two workers on ${backend.name}`, () => {
    let redis: TestRedis;
    let harness: StoreHarness;
    let dataDir = '';
    let testRows = 0;
    const procs: Proc[] = [];
    const workers: (Proc & { pid: number })[] = [];
    let a: ApiClient;
    let b: ApiClient;

    // What the processes said, when a test fails: the workers' logs name every job they took.
    const dumpLogs = () =>
      onTestFailed(() => {
        for (const [i, p] of procs.entries()) console.error(`--- process ${i} (${p.child.spawnargs.slice(-8).join(' ')})\n${p.out.stderr.slice(-4000)}`);
      });
    const job = (api: ApiClient, id: string) => api.get<Job>(`/jobs/${id}`).then((r) => r.body);
    const run = (api: ApiClient, id: string) => api.get<Run>(`/pipeline-runs/${id}`).then((r) => r.body);
    const finished = (s: string) => ['succeeded', 'failed', 'cancelled'].includes(s);

    beforeAll(async () => {
      [redis, harness] = await Promise.all([startRedis(), backend.create()]);
      const data = await makeCatalogue({ rows: 160, testRows: 60 });
      dataDir = data.outDir;
      testRows = 60;
      const common = ['--store', harness.uri, '--queue', redis.url];
      const servers = await Promise.all([0, 1].map(() => start(['serve', ...common, '--port', '0', '--quiet'], /^listening on (http:\/\/127\.0\.0\.1:\d+)/m)));
      // Short locks: a killed worker's job is noticed within seconds. Small chunks: the 60 test
      // rows are predicted in 3 chunks spread over both workers.
      const ws = await Promise.all(
        [0, 1].map(() => start(['worker', ...common, '--lock-ms', '2000', '--stalled-ms', '1000', '--chunk-rows', '20'], /^worker ready/m)),
      );
      procs.push(...servers, ...ws);
      workers.push(...ws.map((w) => ({ ...w, pid: w.child.pid as number })));
      const headers = { 'x-api-key': API_KEY };
      a = new ApiClient(servers[0]!.match[1]!, headers);
      b = new ApiClient(servers[1]!.match[1]!, headers);
    }, 120_000);

    afterAll(async () => {
      await stopAll(procs);
      await Promise.all([redis?.stop(), harness?.dispose()]);
    });

    it('runs a pipeline run on the workers, its batch prediction spread in chunks and merged', async () => {
      dumpLogs();
      const started = await a.post<Run>('/pipeline-runs', { load: { dataDir }, train: { kind: 'mock-v1' } });
      expect(started.status, JSON.stringify(started.body)).toBe(202);
      // Followed on the other server: the state is in the store, not in the server that took it.
      const done = await until(() => run(b, started.body.id), (r) => r.state !== 'running', 120_000);
      expect(done, JSON.stringify(done)).toMatchObject({ state: 'succeeded', error: null });
      expect(done.steps.map((s) => [s.kind, s.state])).toEqual(['load', 'prepare', 'train', 'evaluate', 'predict'].map((k) => [k, 'succeeded']));
      const trained = done.steps[2]!.result as { version: number };
      expect(done.steps[3]!.result).toMatchObject({ modelVersion: trained.version });
      expect(done.steps[4]!.result).toMatchObject({ count: testRows, chunks: 3 });
    });

    it('starts exactly one of two conflicting trainings posted to both servers at once, and a cancel sent to the other server reaches the worker', async () => {
      dumpLogs();
      const [ra, rb] = await Promise.all([a.post<Job>('/train-model', { kind: 'slow-v1', epochs: 100 }), b.post<Job>('/train-model', { kind: 'slow-v1', epochs: 100 })]);
      expect([ra.status, rb.status].sort()).toEqual([202, 409]);
      const [winner, other] = ra.status === 202 ? [a, b] : [b, a];
      const id = (ra.status === 202 ? ra : rb).body.id;
      await until(() => job(winner, id), (j) => j.state === 'running' && (j.progress?.done ?? 0) >= 2);
      const cancel = await other.request<Job>('DELETE', `/jobs/${id}`);
      expect(cancel.status).toBe(202);
      const final = await until(() => job(winner, id), (j) => finished(j.state), 20_000);
      expect(final).toMatchObject({ state: 'cancelled', error: { message: 'cancelled by request' } });
      expect(final.progress!.done).toBeLessThan(100);
    });

    it('resumes a pipeline run that failed at a step from that step', async () => {
      dumpLogs();
      const blocking = await a.post<Job>('/train-model', { kind: 'slow-v1', epochs: 8 });
      expect(blocking.status).toBe(202);
      const failed = await b.post<Run>('/pipeline-runs', { steps: ['prepare', 'train'], train: { kind: 'mock-v1' } });
      const failedRun = await until(() => run(a, failed.body.id), (r) => r.state !== 'running');
      expect(failedRun).toMatchObject({ state: 'failed', error: { message: expect.stringMatching(/prepare step could not start: .*conflict|cannot start a prepare job/) } });
      await until(() => job(a, blocking.body.id), (j) => finished(j.state));
      const resumed = await a.post<Run>(`/pipeline-runs/${failed.body.id}/resume`);
      expect(resumed.status).toBe(202);
      const done = await until(() => run(b, failed.body.id), (r) => r.state !== 'running');
      expect(done).toMatchObject({ state: 'succeeded' });
      expect(done.steps.map((s) => s.state)).toEqual(['succeeded', 'succeeded']);
      expect((await a.post(`/pipeline-runs/${failed.body.id}/resume`)).status).toBe(409);
    });

    it('fires a schedule: an ordinary pipeline run, listed, then removed', async () => {
      dumpLogs();
      const created = await b.post<{ id: string; next: string | null }>('/schedules', { id: 'every-second', cron: '* * * * * *', run: { steps: ['evaluate'] } });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      expect((await a.get<{ id: string }[]>('/schedules')).body.map((s) => s.id)).toContain('every-second');
      const firings = () => a.get<Run[]>('/pipeline-runs').then((r) => r.body.filter((x) => x.scheduleId === 'every-second'));
      await until(firings, (runs) => runs.length > 0, 20_000);
      // Removed at once: a firing every second would keep the workers busy for the next tests.
      expect((await a.request('DELETE', '/schedules/every-second')).status).toBe(204);
      const fired = await until(firings, (runs) => runs.every((r) => r.state !== 'running'), 30_000);
      expect(fired.find((r) => r.state === 'succeeded')?.steps[0], JSON.stringify(fired)).toMatchObject({ kind: 'evaluate', state: 'succeeded' });
      expect((await b.get<{ id: string }[]>('/schedules')).body).toEqual([]);
      expect((await a.request('DELETE', '/schedules/every-second')).status).toBe(404);
    });

    it("fails a SIGKILLed worker's training with the reason (trainings are not retried), and the other worker keeps going", async () => {
      dumpLogs();
      const versions = async () => (await a.get<{ versions: unknown[] }>('/models')).body.versions.length;
      const before = await versions();
      const started = await a.post<Job>('/train-model', { kind: 'slow-v1', epochs: 100 });
      await until(() => job(a, started.body.id), (j) => j.state === 'running' && (j.progress?.done ?? 0) >= 1);
      // The record's owner names the worker process running it (host:pid:...).
      const store = await harness.open();
      const owner = await store.documents
        .collection<{ _id: string; owner: string }>('api_jobs')
        .get(started.body.id)
        .finally(() => store.close());
      const victim = workers.find((w) => owner?.owner.split(':')[1] === String(w.pid));
      if (!victim) throw new Error(`no worker of ours owns the job: ${owner?.owner}`);
      victim.child.kill('SIGKILL');
      const final = await until(() => job(b, started.body.id), (j) => finished(j.state), 30_000);
      expect(final).toMatchObject({ state: 'failed', error: { message: expect.stringMatching(/interrupted: the worker running it stopped .*train jobs are not retried/) } });
      // The killed training registered no version, and the survivor still takes work.
      expect(await versions()).toBe(before);
      const after = await b.post<Job>('/evaluate-model', {});
      expect(after.status).toBe(202);
      expect(await until(() => job(a, after.body.id), (j) => finished(j.state))).toMatchObject({ state: 'succeeded' });
    }, 120_000);
  });
}
