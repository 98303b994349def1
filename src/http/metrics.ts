import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { JobState } from './jobs/types.js';
import type { DriftReport } from '../stages/monitor/drift.js';

/** Sources the metrics read when scraped. */
export interface MetricSources {
  /** Jobs per state. */
  jobsByState(): Promise<Record<JobState, number>>;
  /** Champion version, `null` when none. */
  championVersion(): Promise<number | null>;
  /** The newest drift report, if any. */
  latestDrift?(): Promise<DriftReport | undefined>;
}

/**
 * Prometheus metrics of one API instance, in a registry of its own (so several instances, or the
 * host application's own metrics, never collide): request counts and latencies per route, jobs
 * by state, predictions by class, and the champion version.
 */
export class ApiMetrics {
  /** The registry `/metrics` renders. */
  readonly registry = new Registry();
  private readonly requests: Counter<'method' | 'route' | 'status'>;
  private readonly latency: Histogram<'method' | 'route'>;
  private readonly predictions: Counter<'prdtypecode' | 'source'>;

  /** Creates the metrics. */
  constructor(sources: MetricSources) {
    const registers = [this.registry];
    this.requests = new Counter({
      name: 'rakuten_http_requests_total',
      help: 'HTTP requests by method, route and status code',
      labelNames: ['method', 'route', 'status'],
      registers,
    });
    this.latency = new Histogram({
      name: 'rakuten_http_request_duration_seconds',
      help: 'HTTP request latency by method and route',
      labelNames: ['method', 'route'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
    this.predictions = new Counter({
      name: 'rakuten_predictions_total',
      help: 'Predictions by predicted product type code and source (online or batch)',
      labelNames: ['prdtypecode', 'source'],
      registers,
    });
    new Gauge({
      name: 'rakuten_jobs',
      help: 'Jobs recorded in the store by state',
      labelNames: ['state'],
      registers,
      async collect() {
        for (const [state, n] of Object.entries(await sources.jobsByState())) this.set({ state }, n);
      },
    });
    new Gauge({
      name: 'rakuten_champion_model_version',
      help: 'Version of the champion model (0 when none)',
      registers,
      async collect() {
        this.set((await sources.championVersion()) ?? 0);
      },
    });
    // Read from the store at each scrape: every server exports the newest report, whichever computed it.
    const drift = async () => sources.latestDrift?.();
    new Gauge({
      name: 'rakuten_drift_psi',
      help: 'Population stability index of each feature in the newest drift report (recent predictions vs the champion\'s training data)',
      labelNames: ['feature'],
      registers,
      async collect() {
        this.reset();
        for (const f of (await drift())?.features ?? []) this.set({ feature: f.name }, f.value);
      },
    });
    new Gauge({
      name: 'rakuten_drift_flagged',
      help: '1 when the feature is above its drift threshold in the newest drift report, else 0',
      labelNames: ['feature'],
      registers,
      async collect() {
        this.reset();
        for (const f of (await drift())?.features ?? []) this.set({ feature: f.name }, f.flagged ? 1 : 0);
      },
    });
  }

  /** Records a finished request. `route` is the route pattern (`/jobs/:id`), never the raw URL. */
  observeRequest(method: string, route: string, status: number, seconds: number): void {
    this.requests.inc({ method, route, status: String(status) });
    this.latency.observe({ method, route }, seconds);
  }

  /** Counts predictions of one class. */
  countPrediction(prdtypecode: number, source: 'online' | 'batch', n = 1): void {
    this.predictions.inc({ prdtypecode: String(prdtypecode), source }, n);
  }

  /** The Prometheus text exposition. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  /** Its content type. */
  get contentType(): string {
    return this.registry.contentType;
  }
}
