import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';

/** A Redis server of a test's own (Debian's redis-server, in memory, on a free port). */
export interface TestRedis {
  /** Its URL. */
  readonly url: string;
  /** Stops it. */
  stop(): Promise<void>;
}

const REDIS_SERVER = '/usr/bin/redis-server';

/**
 * Why the Redis suites are skipped here, or `undefined` when they can run. In CI a missing
 * redis-server fails them instead (`.ci/run` installs it).
 */
export function redisUnavailable(what: string): string | undefined {
  if (existsSync(REDIS_SERVER)) return undefined;
  if (process.env['CI']) throw new Error(`${what}: ${REDIS_SERVER} is missing (apt-get install redis-server; .ci/run installs it)`);
  const reason = `${what} SKIPPED: ${REDIS_SERVER} is missing (apt-get install redis-server)`;
  console.warn(`[redis] ${reason}`);
  return reason;
}

/** A TCP port nothing listens on now (the kernel's pick, closed again). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

/** Starts a Redis server and resolves once it answers PING. */
export async function startRedis(): Promise<TestRedis> {
  const port = await freePort();
  const child: ChildProcess = spawn(REDIS_SERVER, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const url = `redis://127.0.0.1:${port}`;
  const started = Date.now();
  for (;;) {
    const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on('error', () => undefined); // refused until it listens: reported by connect()
    try {
      await probe.connect();
      await probe.ping();
      probe.disconnect();
      break;
    } catch {
      probe.disconnect();
      if (child.exitCode !== null || Date.now() - started > 10_000) throw new Error(`redis-server did not start on port ${port}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return {
    url,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
