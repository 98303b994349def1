import type { FastifyInstance } from 'fastify';
import sharp from 'sharp';
import { expect } from 'vitest';
import { createServer, type ServerOptions } from '../../src/http/server.js';
import type { JobView } from '../../src/http/jobs/types.js';
import type { StoreBackend, StoreHarness } from '../support/stores.js';

/** An API key the test servers accept (at least 16 characters). */
export const API_KEY = 'test-api-key-0123456789abcdef';
/** A second accepted key, sent as `X-API-Key`. */
export const OTHER_KEY = 'second-key-fedcba9876543210';

/** A real API server listening on 127.0.0.1, on a fresh store of one backend. */
export interface RunningApi {
  /** `http://127.0.0.1:PORT` (plus the prefix, when mounted under one). */
  readonly base: string;
  /** The Fastify instance (for `close`; tests talk HTTP only). */
  readonly app: FastifyInstance;
  /** The store it runs on. */
  readonly harness: StoreHarness;
  /** A client sending {@link API_KEY} as a Bearer token. */
  readonly client: ApiClient;
  /** A client sending no key. */
  readonly anonymous: ApiClient;
  /** Closes the server (which closes its store) and deletes the store. */
  close(): Promise<void>;
}

/**
 * Starts `createServer` on a fresh store of `backend` and listens on a free port. Keys default
 * to {@link API_KEY} and {@link OTHER_KEY}; logs are off unless `RP_TEST_HTTP_LOGS` is set.
 */
export async function startApi(backend: StoreBackend, options: Omit<ServerOptions, 'storeUri'> = {}): Promise<RunningApi> {
  const harness = await backend.create();
  let app: FastifyInstance;
  try {
    app = await createServer({
      logger: process.env['RP_TEST_HTTP_LOGS'] ? { level: 'info' } : false,
      auth: { keys: [API_KEY, OTHER_KEY] },
      ...options,
      storeUri: harness.uri,
    });
  } catch (e) {
    await harness.dispose();
    throw e;
  }
  const address = await app.listen({ port: 0, host: '127.0.0.1' });
  const base = `${address}${options.prefix ?? ''}`;
  return {
    base,
    app,
    harness,
    client: new ApiClient(base, { authorization: `Bearer ${API_KEY}` }),
    anonymous: new ApiClient(base, {}),
    async close() {
      try {
        await app.close();
      } finally {
        await harness.dispose();
      }
    },
  };
}

/** An HTTP answer with its body parsed (JSON when it is JSON, else text). */
export interface Reply<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
}

/** The error body every route answers with. */
export interface ErrorBody {
  statusCode: number;
  error: string;
  code: string;
  message: string;
}

/** A tiny client over global `fetch`. */
export class ApiClient {
  constructor(
    readonly base: string,
    private readonly headers: Record<string, string>,
  ) {}

  /** The same server with other headers (another key, no key...). */
  with(headers: Record<string, string>): ApiClient {
    return new ApiClient(this.base, headers);
  }

  /** Any request; `json` is sent as `application/json`, `body` as is. */
  async request<T = unknown>(method: string, path: string, init: { json?: unknown; body?: RequestInit['body']; headers?: Record<string, string> } = {}): Promise<Reply<T>> {
    const headers: Record<string, string> = { ...this.headers, ...init.headers };
    let body = init.body;
    if (init.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(init.json);
    }
    const response = await fetch(this.base + path, { method, headers, ...(body !== undefined ? { body } : {}), signal: AbortSignal.timeout(60_000) });
    const text = await response.text();
    const parsed = (response.headers.get('content-type') ?? '').includes('json') && text ? (JSON.parse(text) as T) : (text as T);
    return { status: response.status, headers: response.headers, body: parsed };
  }

  get<T = unknown>(path: string): Promise<Reply<T>> {
    return this.request<T>('GET', path);
  }

  post<T = unknown>(path: string, json?: unknown): Promise<Reply<T>> {
    return this.request<T>('POST', path, json === undefined ? {} : { json });
  }

  delete<T = unknown>(path: string): Promise<Reply<T>> {
    return this.request<T>('DELETE', path);
  }

  /** Starts a job with `POST path`, checks the 202 answer and its `Location`, returns the job. */
  async start(path: string, json: unknown = {}): Promise<JobView> {
    const reply = await this.post<JobView>(path, json);
    expect(reply.status, JSON.stringify(reply.body)).toBe(202);
    expect(reply.body.state).toBe('running');
    expect(reply.headers.get('location')).toBe(`${new URL(this.base).pathname.replace(/\/$/, '')}/jobs/${reply.body.id}`);
    return reply.body;
  }

  /** Polls `GET /jobs/{id}` until the job has reached a final state; returns it. */
  async waitForJob(id: string, timeoutMs = 120_000): Promise<JobView> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const reply = await this.get<JobView>(`/jobs/${id}`);
      expect(reply.status).toBe(200);
      if (['succeeded', 'failed', 'cancelled'].includes(reply.body.state)) return reply.body;
      if (Date.now() > deadline) throw new Error(`job ${id} still ${reply.body.state} after ${timeoutMs} ms: ${JSON.stringify(reply.body)}`);
      await sleep(100);
    }
  }

  /** Polls `GET /jobs/{id}` until `predicate` holds; returns the job. */
  async waitUntil(id: string, predicate: (job: JobView) => boolean, timeoutMs = 60_000): Promise<JobView> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const job = (await this.get<JobView>(`/jobs/${id}`)).body;
      if (predicate(job)) return job;
      if (Date.now() > deadline) throw new Error(`job ${id}: condition not reached after ${timeoutMs} ms: ${JSON.stringify(job)}`);
      await sleep(100);
    }
  }

  /** Starts a job and waits for it; fails the test unless it succeeds. */
  async runJob(path: string, json: unknown = {}): Promise<JobView> {
    const started = await this.start(path, json);
    const job = await this.waitForJob(started.id);
    expect(job.state, `${path}: ${JSON.stringify(job.error)}`).toBe('succeeded');
    expect(job.finishedAt).not.toBeNull();
    return job;
  }

  /** Runs jobs one after the other (`[route, body]` each); fails the test at the first that does not succeed. */
  async runJobs(steps: readonly (readonly [string, unknown])[]): Promise<JobView[]> {
    const done: JobView[] = [];
    for (const [path, json] of steps) done.push(await this.runJob(path, json));
    return done;
  }
}

/** Waits `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * A JPEG of `size`x`size` pixels: a plain colour with a dark square in the middle, or (with
 * `noise`) seeded random pixels, which JPEG cannot compress (about 1 byte per pixel or more).
 */
export async function jpeg(size = 96, options: { colour?: { r: number; g: number; b: number }; noise?: boolean } = {}): Promise<Buffer> {
  if (options.noise) {
    let state = 12345;
    const pixels = Buffer.alloc(size * size * 3);
    for (let i = 0; i < pixels.length; i++) {
      state = (state * 1103515245 + 12345) >>> 0;
      pixels[i] = state >>> 24;
    }
    return sharp(pixels, { raw: { width: size, height: size, channels: 3 } }).jpeg({ quality: 90 }).toBuffer();
  }
  const inner = await sharp({ create: { width: Math.round(size / 2), height: Math.round(size / 2), channels: 3, background: { r: 20, g: 20, b: 20 } } })
    .png()
    .toBuffer();
  return sharp({ create: { width: size, height: size, channels: 3, background: options.colour ?? { r: 200, g: 60, b: 40 } } })
    .composite([{ input: inner, gravity: 'centre' }])
    .jpeg({ quality: 85 })
    .toBuffer();
}

/** Samples of a Prometheus text exposition: `name{labels}` → value. */
export function metricSamples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

/** Sum of the samples of metric `name` whose labels include all of `labels`. */
export function metricSum(samples: Map<string, number>, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const [key, value] of samples) {
    const brace = key.indexOf('{');
    const metric = brace < 0 ? key : key.slice(0, brace);
    if (metric !== name) continue;
    const labelText = brace < 0 ? '' : key.slice(brace);
    if (Object.entries(labels).every(([k, v]) => labelText.includes(`${k}="${v}"`))) sum += value;
  }
  return sum;
}

/** An API on the embedded store whose jobs go to a BullMQ queue on a Redis of its own (no workers). */
export interface QueuedApi {
  redis: import('../support/redis.js').TestRedis;
  queue: import('../../src/http/jobs/queue.js').JobQueue;
  api: RunningApi;
  /** Closes the API, the queue and Redis. */
  stop(): Promise<void>;
}

/** Starts a {@link QueuedApi}. */
export async function startQueuedApi(options: Omit<ServerOptions, 'storeUri' | 'queue'> = {}): Promise<QueuedApi> {
  const [{ startRedis }, { bullmqQueue }, { storeBackends }] = await Promise.all([
    import('../support/redis.js'),
    import('../../src/http/jobs/bullmq.js'),
    import('../support/stores.js'),
  ]);
  const redis = await startRedis();
  const queue = await bullmqQueue(redis.url);
  const api = await startApi(storeBackends()[0]!, { ...options, queue });
  return {
    redis,
    queue,
    api,
    async stop() {
      await api.close();
      await queue.close();
      await redis.stop();
    },
  };
}
