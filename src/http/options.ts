import type { Pipeline } from '../pipeline/pipeline.js';
import type { Store } from '../stores/types.js';
import type { ApiKeys } from './auth.js';
import type { JobExecutor } from './jobs/executor.js';
import type { JobQueue } from './jobs/queue.js';

/** Who may call which routes. */
export interface AuthOptions {
  /** Accepted API keys (default: from `RAKUTEN_API_KEYS` / `RAKUTEN_API_KEYS_FILE`). */
  keys?: ApiKeys | readonly string[];
  /** Also require a key on the read-only routes (default false). */
  protectReads?: boolean;
  /** Also require a key on `POST /predict/product` (default false). */
  protectPredictProduct?: boolean;
}

/** Options of the {@link rakutenApi} plugin. */
export interface RakutenApiOptions {
  /**
   * The pipeline the API serves (store, model kinds, plugins, preprocessing): see
   * `createPipeline`. The plugin does not close it.
   */
  pipeline?: Pipeline;
  /** @deprecated Give `pipeline`. A store you opened, served with the built-in model kinds; the plugin does not close it. */
  store?: Store;
  /**
   * Where jobs run: `worker` (default: a worker thread per job that rebuilds the same pipeline
   * from its blueprint — store connection string, plugin modules, model kinds — so long work never
   * blocks requests), `inline` (this thread: for plugins given as objects without a module), or an
   * executor of your own.
   */
  jobs?: 'worker' | 'inline' | JobExecutor;
  /**
   * A queue (see `bullmqQueue` in `rakuten-pipeline/queue`): jobs are then enqueued for
   * `rakuten-pipeline worker` processes instead of running in this server, and pipeline runs and
   * schedules are available. The plugin does not close it.
   */
  queue?: JobQueue;
  /**
   * API keys. Routes that start work or change state always need one; with no keys configured
   * they answer 401. `false` turns the check off, for hosts that authenticate requests
   * themselves before they reach the plugin.
   */
  auth?: AuthOptions | false;
  /** Data folder `POST /load-data` uses when the body names none. */
  dataDir?: string;
  /** When set, data folders named in requests must lie inside one of these. */
  allowedDataDirs?: readonly string[];
  /** Largest accepted image upload in bytes (default 5 MiB). */
  maxImageBytes?: number;
  /**
   * Store every `/predict/product` answer in `online_predictions` (top classes, confidence, input
   * profile, the title, description and image) for the review queue and drift reports (default
   * true, keeping the newest 100,000). `{ keep: n }` keeps the newest `n` (older ones are deleted
   * with their pictures as new ones arrive; corrections are never deleted). `false` keeps nothing
   * of online requests: they then appear in neither.
   */
  recordPredictions?: boolean | RecordPredictions;
  /** Serve the OpenAPI document and Swagger UI at `/docs` (default true). */
  docs?: boolean;
  /**
   * Serve the web console at `/ui/` (default true): a prebuilt single-page app shipped in the
   * package (data status, jobs, models, predictions, review queue, drift) that uses this API only.
   * Its files are public; the actions it offers that change state ask for an API key.
   */
  ui?: boolean;
  /** Serve Prometheus metrics at `/metrics` (default true). */
  metrics?: boolean;
  /** How long the champion's version is cached before the registry is asked again, in ms (default 5,000). */
  championTtlMs?: number;
}

/** How many online predictions `recordPredictions` keeps. */
export interface RecordPredictions {
  /** The newest this many are kept (older ones are pruned with their pictures; corrections never are). */
  keep: number;
}
