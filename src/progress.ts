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
