import { realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import type { FastifyRequest } from 'fastify';
import type { Pipeline } from '../pipeline/pipeline.js';
import type { ModelRegistry } from '../models/registry.js';
import type { Predictor } from '../stages/predict/predictor.js';
import type { Store } from '../stores/types.js';
import type { ApiMetrics } from './metrics.js';
import type { JobManager } from './jobs/manager.js';
import type { PipelineRuns } from './jobs/runs.js';
import type { ReviewQueue } from '../stages/monitor/review.js';
import type { DriftMonitor } from '../stages/monitor/drift.js';

/** An error with the HTTP status it should be answered with. */
export class HttpError extends Error {
  /** HTTP status code. */
  readonly statusCode: number;
  /** Machine-readable code. */
  readonly code: string;
  /** Creates the error. */
  constructor(statusCode: number, code: string, message: string) {
    super(message);
    this.name = 'HttpError';
    this.statusCode = statusCode;
    this.code = code;
  }
}

/**
 * The champion's version, cached for `ttlMs` so `/predict/product` does not ask the registry on
 * every call; dropped at once when this instance promotes or trains.
 */
export class ChampionCache {
  private value: { version: number | null; at: number } | undefined;
  /** Creates the cache. */
  constructor(
    private readonly registry: ModelRegistry,
    private readonly ttlMs: number,
  ) {}
  /** The champion's version number, `null` when there is none. */
  async get(): Promise<number | null> {
    if (this.value && Date.now() - this.value.at < this.ttlMs) return this.value.version;
    const version = await this.registry.championVersion();
    this.value = { version, at: Date.now() };
    return version;
  }
  /** Forgets the cached value. */
  invalidate(): void {
    this.value = undefined;
  }
}

/** What one probe found. */
export interface ProbeResult<T> {
  /** Whether the service answered in time. */
  ok: boolean;
  /** What it answered (the champion version of the store, the worker count of a queue), `null` when it did not. */
  value: T | null;
  /** Why not ok. */
  error?: string;
}

/**
 * Reachability of a service for `/health` (the store, the queue): one real read per probe,
 * cached for `maxAgeMs` so that probe storms cost one read a second, and answered as failed after
 * `timeoutMs` even while the read still hangs (a frozen server). At most one read is in flight.
 */
export class Probe<T> {
  private last: { at: number; result: ProbeResult<T> } | undefined;
  private pending: Promise<ProbeResult<T>> | undefined;
  /** Creates the probe over a read of the service, named `what` in its error. */
  constructor(
    private readonly read: () => Promise<T>,
    private readonly what = 'the store',
    private readonly maxAgeMs = 1_000,
    private readonly timeoutMs = 2_000,
  ) {}
  /** The service's state, at most `maxAgeMs` old. */
  async check(): Promise<ProbeResult<T>> {
    if (this.last && Date.now() - this.last.at < this.maxAgeMs) return this.last.result;
    this.pending ??= this.read().then(
      (value): ProbeResult<T> => ({ ok: true, value }),
      (e: unknown): ProbeResult<T> => ({ ok: false, value: null, error: (e as Error).message }),
    );
    const pending = this.pending;
    void pending.finally(() => {
      if (this.pending === pending) this.pending = undefined;
    });
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<ProbeResult<T>>((resolve) => {
      timer = setTimeout(() => resolve({ ok: false, value: null, error: `${this.what} did not answer within ${this.timeoutMs / 1000} s` }), this.timeoutMs);
    });
    const result = await Promise.race([pending, late]);
    clearTimeout(timer);
    this.last = { at: Date.now(), result };
    return result;
  }
}

/** What the route modules share within one plugin instance. */
export interface ApiContext {
  /** The store. */
  store: Store;
  /** Its model registry. */
  registry: ModelRegistry;
  /** Predictor with its model cache. */
  predictor: Predictor;
  /** Largest accepted image upload in bytes. */
  maxImageBytes: number;
  /** Store every `/predict/product` answer for review and drift, keeping the newest `keep` (`recordPredictions`); `false`: none. */
  recordPredictions: { keep: number } | false;
  /** The pipeline served. */
  pipeline: Pipeline;
  /** Jobs of this store. */
  jobs: JobManager;
  /** The review queue. */
  review: ReviewQueue;
  /** Drift reports. */
  drift: DriftMonitor;
  /** Pipeline runs of this store. */
  runs: PipelineRuns;
  /** Metrics (absent when turned off). */
  metrics: ApiMetrics | undefined;
  /** Champion version cache. */
  champion: ChampionCache;
  /** Store reachability for `/health` (the champion version read). */
  storeProbe: Probe<number | null>;
  /** Queue reachability for `/health` (the workers listening), when jobs go to a queue. */
  queueProbe: Probe<number> | undefined;
  /**
   * What a caller may see of a document: itself for callers with a valid key (or when the host
   * authenticates), else with server paths and the store URI replaced by `<store>`, `<data>`...
   */
  forCaller<T>(request: FastifyRequest, value: T): T;
  /** Resolves a data folder named by a request (or the default), enforcing the allowed roots. */
  dataDir(requested: string | undefined, field: string): string;
}

/** The real path of `p`, or undefined when it does not exist. */
function realPath(p: string): string | undefined {
  try {
    return realpathSync(p);
  } catch {
    return undefined;
  }
}

/**
 * The `dataDir` function of {@link ApiContext}. The allowed roots are checked on the lexical
 * path and again on the real one, so a symlink inside an allowed folder cannot lead out of it
 * (`A/link -> /etc`); the job then reads the real path it was checked on.
 */
export function dataDirResolver(defaultDir: string | undefined, allowed: readonly string[] | undefined) {
  const roots = allowed?.map((d) => path.resolve(d));
  const within = (list: readonly string[], p: string) => list.some((r) => p === r || p.startsWith(r.endsWith(path.sep) ? r : r + path.sep));
  return (requested: string | undefined, field: string): string => {
    const dir = requested ?? defaultDir;
    if (!dir) throw new HttpError(400, 'NO_DATA_DIR', `body/${field} is required: this server has no default data folder`);
    // fs calls throw a TypeError (a 500) on a NUL byte: it is a bad request.
    if (dir.includes('\0')) throw new HttpError(400, 'BAD_DATA_DIR', `body/${field} must not contain a NUL character`);
    const resolved = path.resolve(dir);
    const outside = () => new HttpError(403, 'DATA_DIR_NOT_ALLOWED', `body/${field}: ${dir} is outside the data folders this server may read`);
    if (roots && !within(roots, resolved)) throw outside();
    // Checked now so that a typo is a 400 at once, not a job that fails later.
    const real = realPath(resolved);
    if (real === undefined || !statSync(real, { throwIfNoEntry: false })?.isDirectory()) {
      throw new HttpError(400, 'NO_SUCH_DATA_DIR', `body/${field}: ${dir} is not a folder on the server`);
    }
    // Roots resolved now, not at start-up: an allowed folder may be created after the server.
    if (roots && !within(roots.map((r) => realPath(r) ?? r), real)) throw outside();
    return real;
  };
}
