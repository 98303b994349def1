import { execFile, spawn } from 'node:child_process';
import { rm } from 'node:fs/promises';
import os from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_ARGS } from '../support/cli.js';
import { REPO_ROOT } from '../support/data.js';
import { freePort, startRedis, redisUnavailable, type TestRedis } from '../support/redis.js';
import { sleep, startQueuedApi, type QueuedApi, type RunningApi } from '../http/support.js';

// Redis not there, or gone: a process must say so and exit, a request must answer, never hang.

const redisSkip = redisUnavailable('queue redis-down tests');
const SECRET = 'hunter2-queue-password';

function cliWithin(ms: number, args: string[]): Promise<{ code: number | string | null; out: string; ms: number }> {
  const started = Date.now();
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [...CLI_ARGS, ...args],
      { cwd: REPO_ROOT, timeout: ms, killSignal: 'SIGKILL', env: { ...process.env, RAKUTEN_QUEUE: '', RAKUTEN_API_KEYS: 'redis-down-test-key-0123456789', FORCE_COLOR: '0' } },
      (error, stdout, stderr) => resolve({ code: error ? ((error as { code?: number | string }).code ?? (error as { signal?: string }).signal ?? null) : 0, out: `${stdout}${stderr}`, ms: Date.now() - started }),
    );
  });
}

describe.skipIf(redisSkip)('queue: Redis not answering', () => {
  for (const command of ['worker', 'serve']) {
    it(`${command} --queue on a Redis that refuses connections exits 1 with the reason, without the password`, async () => {
      const url = `redis://:${SECRET}@127.0.0.1:${await freePort()}`;
      const dir = `${os.tmpdir()}/rp-redis-down-${process.pid}-${command}`;
      const res = await cliWithin(25_000, [command, '--store', dir, '--queue', url, ...(command === 'serve' ? ['--port', '0', '--quiet'] : [])]);
      await rm(dir, { recursive: true, force: true });
      expect(res.code, res.out.slice(0, 2000)).toBe(1);
      expect(res.out).toMatch(/Redis does not answer: .*ECONNREFUSED/);
      expect(res.out).not.toContain(SECRET);
      expect(res.out).not.toContain('Unhandled error event');
    }, 40_000);
  }
});

describe.skipIf(redisSkip)('queue: Redis gone while a server runs', () => {
  let queued: QueuedApi;
  let redis: TestRedis;
  let api: RunningApi;

  beforeAll(async () => {
    queued = await startQueuedApi({ dataDir: REPO_ROOT });
    ({ redis, api } = queued);
  });
  afterAll(() => queued?.stop());

  it('answers GET /jobs and a POST of a job within seconds, and frees the slot of a job it could not enqueue', async () => {
    const healthy = await api.anonymous.get<{ status: string; queue?: { ok: boolean; workers: number } }>('/health');
    expect(healthy.status).toBe(200);
    expect(healthy.body).toMatchObject({ status: 'ok', queue: { ok: true, workers: 0 } });
    // No worker: the job stays queued.
    const queued = await api.client.post<{ id: string; state: string }>('/evaluate-model', {});
    expect(queued.status).toBe(202);
    await redis.stop();
    const t0 = Date.now();
    const got = await api.client.get<{ state: string }>(`/jobs/${queued.body.id}`);
    expect(got.status).toBe(200);
    expect(got.body.state).toBe('queued');
    const list = await api.client.get<unknown[]>('/jobs');
    expect(list.status).toBe(200);
    expect(Date.now() - t0).toBeLessThan(25_000);
    // A load conflicts with nothing queued here but cannot be enqueued: an error, not a hang.
    const t1 = Date.now();
    const load = await api.client.post<{ message: string }>('/load-data', {});
    expect(load.status).toBeGreaterThanOrEqual(500);
    expect(Date.now() - t1).toBeLessThan(25_000);
    const failed = (await api.client.get<{ id: string; kind: string; state: string; error: { message: string } | null }[]>('/jobs')).body.find((j) => j.kind === 'load');
    expect(failed).toMatchObject({ state: 'failed', error: { message: expect.stringMatching(/could not enqueue/) } });
  }, 90_000);

  it('says in /health that the queue is away (503), as it says so of the store', async () => {
    // Runs after the test above stopped Redis; the probe's answer is cached for 1 s.
    await sleep(1_100);
    const t0 = Date.now();
    const health = await api.anonymous.get<{ status: string; store: { ok: boolean }; queue?: { ok: boolean; workers: number; error?: string } }>('/health');
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(health.status).toBe(503);
    expect(health.body).toMatchObject({ status: 'degraded', store: { ok: true }, queue: { ok: false, workers: 0, error: expect.any(String) } });
  });
});

describe.skipIf(redisSkip)('queue: Redis gone when a worker is stopped', () => {
  it('worker exits on SIGTERM within seconds although Redis does not answer', async () => {
    const redis = await startRedis();
    const dir = `${os.tmpdir()}/rp-redis-down-${process.pid}-sigterm`;
    const child = spawn(process.execPath, [...CLI_ARGS, 'worker', '--store', dir, '--queue', redis.url], {
      cwd: REPO_ROOT,
      env: { ...process.env, RAKUTEN_QUEUE: '', FORCE_COLOR: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (s: string) => (out += s));
    child.stderr!.setEncoding('utf8').on('data', (s: string) => (out += s));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const t0 = Date.now();
      while (!/^worker ready/m.test(out)) {
        if (Date.now() - t0 > 30_000 || child.exitCode !== null) throw new Error(`worker did not start:\n${out}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      await redis.stop();
      await new Promise((r) => setTimeout(r, 500));
      child.kill('SIGTERM');
      const code = await Promise.race([exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 20_000))]);
      expect(code, out.slice(-2000)).toBe(0);
    } finally {
      child.kill('SIGKILL');
      await redis.stop();
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
