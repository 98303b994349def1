/** A step of progress in a long-running stage. */
export interface ProgressEvent {
  /** Stage reporting, e.g. `load`. */
  stage: string;
  /** Part of the stage, e.g. `x_train`. */
  phase: string;
  /** Units done so far in this phase. */
  done: number;
  /** Units in this phase (0 when unknown). */
  total: number;
  /** What the units are, e.g. `bytes`, `rows`, `images`. */
  unit: string;
  /** Units per second since the phase's first event; absent until there is elapsed time to measure. */
  rate?: number;
  /** Seconds left at that rate; absent when the total is unknown or the rate is not known yet. */
  etaSeconds?: number;
}

/** Receives progress events; must not throw. */
export type ProgressListener = (event: ProgressEvent) => void;

/** Options every long-running stage accepts. */
export interface StageRunOptions {
  /** Receives progress events. */
  onProgress?: ProgressListener;
  /** Aborts the work between batches; what was committed stays committed. */
  signal?: AbortSignal;
}

/**
 * Wraps a listener so that every event carries the phase's `rate` (units per second, from the
 * phase's first event) and `etaSeconds` (what is left at that rate): the one place stages get them
 * from. Events that already carry a rate (a wrapped listener wrapped again) pass unchanged.
 *
 * @param now - Clock in milliseconds (tests pass their own).
 * @returns `undefined` when `listener` is.
 */
export function withRate(listener: ProgressListener | undefined, now: () => number = () => performance.now()): ProgressListener | undefined {
  if (!listener) return undefined;
  const starts = new Map<string, { at: number; done: number }>();
  return (event) => {
    if (event.rate !== undefined) return listener(event);
    const key = `${event.stage}\0${event.phase}`;
    const t = now();
    const start = starts.get(key);
    if (!start || event.done < start.done) {
      // A phase's first event (or one restarted from lower) starts its clock.
      starts.set(key, { at: t, done: event.done });
      return listener(event);
    }
    const seconds = (t - start.at) / 1000;
    if (seconds <= 0 || event.done === start.done) return listener(event);
    const rate = (event.done - start.done) / seconds;
    const left = event.total > 0 ? Math.max(0, event.total - event.done) : undefined;
    listener(left === undefined ? { ...event, rate } : { ...event, rate, etaSeconds: left / rate });
  };
}
