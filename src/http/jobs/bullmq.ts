import { Queue, QueueEvents, Worker, type Job } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';
import type { JsonValue } from '../../stores/types.js';
import { scrubSecrets } from '../../stores/uri.js';
import {
  redactQueueUrl,
  type JobChunk,
  type JobQueue,
  type QueueHandlers,
  type QueuedJob,
  type QueuedJobStatus,
  type QueueWorker,
  type QueueWorkerOptions,
  type ScheduleInfo,
  type ScheduleSpec,
} from './queue.js';

/** Options of {@link bullmqQueue}. */
export interface BullmqQueueOptions {
  /** Queue name: servers and workers of one deployment use the same (default `rakuten-jobs`). */
  name?: string;
  /** Prefix of its Redis keys (default `rakuten`). */
  prefix?: string;
}

// Finished jobs are kept a while for GET /jobs readers that ask the queue; records live in the store.
const KEEP_DONE = {
  removeOnComplete: { age: 24 * 3600 },
  removeOnFail: { age: 7 * 24 * 3600 },
} as const;

type JobData = QueuedJob | { schedule: ScheduleSpec };

function connect(url: string, extra: RedisOptions = {}): Redis {
  // BullMQ's blocking commands need `maxRetriesPerRequest: null`; a worker waits for Redis to come back.
  return new Redis(url, { maxRetriesPerRequest: null, lazyConnect: false, ...extra });
}

// Commands of a queue (not the workers' blocking ones) give up after this long while Redis is
// away, so a request that asks the queue answers instead of hanging until Redis is back.
const COMMAND_TIMEOUT_MS = 5_000;

// Quits a connection, or drops it when Redis does not answer.
async function hangUp(c: Redis | undefined): Promise<void> {
  if (!c) return;
  await Promise.race([c.quit().catch(() => undefined), new Promise((r) => setTimeout(r, 1_000).unref())]);
  c.disconnect();
}

const names = (options: BullmqQueueOptions) => {
  const name = options.name ?? 'rakuten-jobs';
  return {
    jobs: name,
    chunks: `${name}-chunks`,
    prefix: options.prefix ?? 'rakuten',
  };
};

function toInfo(s: { key: string; id?: string | null; pattern?: string; tz?: string; next?: number; template?: { data?: unknown } }): ScheduleInfo {
  const data = s.template?.data as { schedule?: ScheduleSpec } | undefined;
  return {
    id: s.id ?? s.key,
    cron: s.pattern ?? '',
    ...(s.tz ? { timezone: s.tz } : {}),
    run: data?.schedule?.run ?? {},
    next: s.next === undefined ? null : new Date(s.next).toISOString(),
  };
}

/**
 * A {@link JobQueue} on BullMQ and Redis: `serve --queue redis://host:6379` enqueues jobs there,
 * `rakuten-pipeline worker` processes take them ({@link startBullmqWorker}). Redis carries only
 * job ids and kinds; parameters, progress, results and cancellations stay in the store.
 *
 * @example
 * ```ts
 * import { bullmqQueue } from 'rakuten-pipeline/queue';
 * const queue = await bullmqQueue('redis://127.0.0.1:6379');
 * await app.register(rakutenApi, { pipeline, queue });
 * app.addHook('onClose', () => queue.close());
 * ```
 */
export async function bullmqQueue(url: string, options: BullmqQueueOptions = {}): Promise<JobQueue> {
  const n = names(options);
  const shown = redactQueueUrl(url);
  // One try, no retries: a Redis that is not there is said at once, not retried for ever.
  const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: COMMAND_TIMEOUT_MS });
  let cause: Error | undefined;
  probe.on('error', (e: Error) => (cause ??= e)); // the socket's error: connect() only says the connection closed
  try {
    await probe.connect();
    await probe.ping();
  } catch (thrown) {
    const e = cause ?? thrown;
    throw new Error(`queue ${shown}: Redis does not answer: ${scrubSecrets((e as Error).message, url)}`, { cause: e });
  } finally {
    probe.disconnect();
  }
  const connection = connect(url, { commandTimeout: COMMAND_TIMEOUT_MS });
  const jobs = new Queue<JobData>(n.jobs, { connection, prefix: n.prefix });
  const chunks = new Queue<JobChunk>(n.chunks, {
    connection,
    prefix: n.prefix,
  });
  let events: QueueEvents | undefined;
  let eventsConnection: Redis | undefined;
  const chunkEvents = async () => {
    if (!events) {
      eventsConnection = connect(url);
      events = new QueueEvents(n.chunks, {
        connection: eventsConnection,
        prefix: n.prefix,
      });
      await events.waitUntilReady();
    }
    return events;
  };

  return {
    url: shown,
    async enqueue(job) {
      await jobs.add('job', { id: job.id, kind: job.kind }, { jobId: job.id, ...KEEP_DONE });
    },
    async remove(id) {
      const job = await jobs.getJob(id);
      if (!job) return false;
      const state = await job.getState();
      if (state !== 'waiting' && state !== 'delayed' && state !== 'prioritized') return false;
      try {
        await job.remove();
        return true;
      } catch {
        return false; // a worker took it meanwhile (its lock is held)
      }
    },
    async status(id): Promise<QueuedJobStatus> {
      const job = await jobs.getJob(id);
      if (!job) return { state: 'missing' };
      const state = await job.getState();
      if (state === 'completed') return { state: 'completed' };
      if (state === 'failed') return { state: 'failed', reason: job.failedReason };
      if (state === 'active') return { state: 'active' };
      if (state === 'unknown') return { state: 'missing' };
      return { state: 'waiting' };
    },
    async spread(list, { signal, onChunkDone } = {}) {
      signal?.throwIfAborted();
      const ev = await chunkEvents();
      const added = await chunks.addBulk(
        list.map((c) => ({
          name: 'chunk',
          data: c,
          opts: { jobId: `${c.jobId}-chunk-${c.index}`, ...KEEP_DONE },
        }))
      );
      const onAbort = () => void Promise.all(added.map((j) => j.remove().catch(() => undefined)));
      signal?.addEventListener('abort', onAbort, { once: true });
      try {
        return await Promise.all(
          added.map(async (job, i) => {
            const result = (await job.waitUntilFinished(ev)) as JsonValue;
            onChunkDone?.(i, result);
            return result;
          })
        );
      } finally {
        signal?.removeEventListener('abort', onAbort);
      }
    },
    async upsertSchedule(schedule) {
      await jobs.upsertJobScheduler(
        schedule.id,
        {
          pattern: schedule.cron,
          ...(schedule.timezone ? { tz: schedule.timezone } : {}),
        },
        { name: 'fire', data: { schedule }, opts: KEEP_DONE }
      );
      const found = (await jobs.getJobSchedulers()).find((s) => (s.id ?? s.key) === schedule.id);
      return found ? toInfo(found) : { ...schedule, next: null };
    },
    async listSchedules() {
      return (await jobs.getJobSchedulers(0, -1, true)).map(toInfo);
    },
    removeSchedule: (id) => jobs.removeJobScheduler(id),
    workers: () => jobs.getWorkersCount(),
    async close() {
      await Promise.all([jobs.close(), chunks.close(), events?.close()]);
      await Promise.all([connection, eventsConnection].map(hangUp));
    },
  };
}

/**
 * Takes jobs, chunks and schedule firings from the BullMQ queue at `url` and hands them to
 * `handlers`. A job whose worker dies is noticed by another worker after `lockDurationMs` and
 * handed out once more (attempt 2): the handler decides whether its kind may run again.
 */
export async function startBullmqWorker(url: string, handlers: QueueHandlers, options: QueueWorkerOptions & BullmqQueueOptions = {}): Promise<QueueWorker> {
  const n = names(options);
  const common = {
    prefix: n.prefix,
    concurrency: options.concurrency ?? 1,
    lockDuration: options.lockDurationMs ?? 30_000,
    stalledInterval: options.stalledIntervalMs ?? 30_000,
    // One more start after a worker died; a second death fails it for good.
    maxStalledCount: 1,
  };
  const connections: Redis[] = [];
  const conn = () => {
    const c = connect(url);
    connections.push(c);
    return c;
  };
  const jobWorker = new Worker<JobData, JsonValue>(
    n.jobs,
    async (job: Job<JobData, JsonValue>, _token, signal) => {
      const data = job.data;
      const abort = signal ?? new AbortController().signal;
      if ('schedule' in data) return handlers.fire(data.schedule);
      const attempt = Math.max(job.attemptsStarted, (job.stalledCounter ?? 0) + 1);
      return handlers.job(data, attempt, abort);
    },
    { ...common, connection: conn() }
  );
  const chunkWorker = new Worker<JobChunk, JsonValue>(n.chunks, (job, _token, signal) => handlers.chunk(job.data, signal ?? new AbortController().signal), {
    ...common,
    connection: conn(),
  });
  // Errors of the connection are retried by ioredis; log them rather than crash.
  for (const w of [jobWorker, chunkWorker])
    w.on('error', (e) => process.stderr.write(`worker: queue ${redactQueueUrl(url)}: ${scrubSecrets(e.message, url)}\n`));
  await Promise.all([jobWorker.waitUntilReady(), chunkWorker.waitUntilReady()]);
  return {
    async close() {
      jobWorker.cancelAllJobs('worker shutting down');
      chunkWorker.cancelAllJobs('worker shutting down');
      const closing = Promise.all([jobWorker.close(), chunkWorker.close()]);
      // BullMQ's close waits for Redis for ever: with Redis away, stop waiting once it has had
      // its time (the jobs' records are in the store; the queue hands their jobs out again).
      let timer: NodeJS.Timeout | undefined;
      const away = new Promise<void>((resolve) => {
        let since = 0;
        timer = setInterval(() => {
          const down = connections.some((c) => c.status !== 'ready');
          since = down ? since || Date.now() : 0;
          if (since && Date.now() - since >= COMMAND_TIMEOUT_MS) resolve();
        }, 250);
      });
      await Promise.race([closing, away]).finally(() => clearInterval(timer));
      await Promise.all(connections.map(hangUp));
    },
  };
}
