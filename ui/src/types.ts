// Shapes of the API answers the console reads (see src/http/schemas.ts and the stage records).
// Everything in them that came from data (titles, descriptions, file names, reasons) is
// rendered as text only.

declare global {
  /** The package version, set by scripts/build-ui.mjs. */
  const __VERSION__: string;
}

export interface Category {
  prdtypecode: number;
  fr: string;
  en: string;
}

export interface Health {
  status: 'ok' | 'degraded';
  store: { driver: string; ok: boolean; error?: string };
  queue?: { ok: boolean; workers: number; error?: string };
  champion: number | null;
  runningJobs: number;
  uptimeSeconds: number;
}

export interface QuarantineEntry {
  file: string;
  row: number;
  line?: number;
  field: string;
  reason: string;
  message?: string;
  action?: string;
}

export interface ImageCounts {
  rows: number;
  withImage: number;
  missing: number;
  stored: number;
}

export interface LoadRun {
  _id?: string;
  status: string;
  committed?: boolean;
  startedAt: string;
  finishedAt: string | null;
  seconds?: number;
  source?: string;
  warnings?: string[];
  errors?: string[];
  labelledTrainRows?: number;
  quarantine?: QuarantineEntry[];
  quarantineTotal?: number;
  quarantineByReason?: Record<string, number>;
}

/** One split's counts: `total`/`perClass` in the stage record (`count`/`classes` accepted too). */
export interface SplitSummary {
  total?: number;
  count?: number;
  perClass?: Record<string, number>;
  classes?: Record<string, number>;
  withImage?: number;
}

export interface PrepareRun {
  _id?: string;
  status: string;
  committed?: boolean;
  startedAt: string;
  finishedAt: string | null;
  splits?: Partial<Record<'train' | 'val' | 'test', SplitSummary>>;
  duplicateGroups?: { groups: number; items: number; largest: number; mixedLabels: number; byText: number; byImage: number };
  failures?: { productid: number | string; image: string; reason: string }[];
  images?: { processed: number; reused: number; failed: number };
  maxClassShareGapPp?: number;
  errors?: string[];
}

export interface DataStatus {
  store: string;
  driver: string;
  collections: Record<string, number>;
  labelledTrainRows: number;
  testRows: number;
  images: { train?: ImageCounts; test?: ImageCounts; total?: number } | null;
  lastLoad: LoadRun | null;
  lastPrepare?: PrepareRun | null;
  warnings?: string[];
}

export type JobState = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

/** The server's own progress event type: one definition for both sides (a type-only import: nothing of src/ is bundled). */
import type { ProgressEvent as JobProgress } from '../../src/progress.js';
export type { JobProgress };

export interface JobView {
  id: string;
  kind: string;
  state: JobState;
  params: unknown;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  progress: JobProgress | null;
  result: unknown;
  error: { message: string } | null;
  cancelRequested: boolean;
}

export interface Validation {
  weightedF1?: number;
  textOnlyWeightedF1?: number;
  accuracy?: number;
  count?: number;
  perClassF1?: Record<string, number>;
}

export interface ModelVersion {
  version: number;
  kind: string;
  createdAt: string;
  backend: string;
  trainingSeconds: number;
  epochs: number;
  params: unknown;
  validation: Validation | null;
  classes: number[];
  champion: boolean;
}

export interface ModelsReply {
  champion: number | null;
  versions: ModelVersion[];
}

export interface Comparison {
  a: { version: number; weightedF1: number | null };
  b: { version: number; weightedF1: number | null };
  /** Whether both were scored on the same validation split (else per-class figures are indicative only). */
  sameSplit?: boolean;
  classes: { prdtypecode: number; name?: string | null; a: number | null; b: number | null; delta: number | null }[];
  confusion: { dataset: string; labels: number[]; a: number[][]; b: number[][]; diff: number[][] } | null;
}

export interface Guardrail {
  version: number;
  champion: number | null;
  promote: boolean;
  reason: string;
  margin: number;
  sameSplit?: boolean;
  regressions: { prdtypecode: number; name?: string | null; before: number; after: number }[];
}

export interface ClassScore {
  prdtypecode: number;
  probability: number;
  name?: string | null;
}

export interface Confidence {
  margin: number;
  entropy: number;
}

export interface PredictionReply {
  prdtypecode: number;
  name?: string | null;
  top: ClassScore[];
  modelVersion: number;
  usedImage: boolean;
  ms: number;
  confidence?: Confidence;
  textClass?: number | null;
  imageClass?: number | null;
  disagreement?: boolean;
  id?: string;
}

export interface ReviewItem {
  id: string;
  source: 'online' | 'batch';
  predictedAt: string;
  modelVersion: number;
  prdtypecode: number;
  name?: string | null;
  top: ClassScore[];
  confidence: Confidence;
  textClass: number | null;
  imageClass: number | null;
  disagreement: boolean;
  reasons: string[];
  input: { designation: string; description?: string | null; hasImage: boolean };
}

export interface ReviewReply {
  pending: number;
  items: ReviewItem[];
}

export interface Correction {
  id: string;
  predictionId: string;
  source: string;
  modelVersion?: number;
  predicted: number;
  prdtypecode: number;
  accepted: boolean;
  keyId?: string | null;
  at: string;
  /** Title of the reviewed product (hostile text). */
  designation?: string;
}

export interface DriftBin {
  bin: string;
  reference: number;
  current: number;
}

export interface DriftFeature {
  name: string;
  label: string;
  measure: string;
  value: number;
  threshold: number;
  /** PSI that sampling alone gives samples of these sizes. */
  noise: number;
  flagged: boolean;
  bins: DriftBin[];
}

export interface DriftReport {
  id: string;
  createdAt: string;
  modelVersion: number | null;
  window: { size: number; online?: number; batch?: number; from?: string | null; to?: string | null };
  reference: { prepareRun: string | null; count: number };
  features: DriftFeature[];
  flagged: string[];
  enough: boolean;
  note?: string;
}
