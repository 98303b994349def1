/**
 * Drift monitoring: how far recent inputs (online and batch predictions) have moved from the
 * training generation of the model that served them, per feature, with the population stability
 * index (PSI) and a threshold.
 *
 * @module
 */
import { randomUUID } from 'node:crypto';
import { COLLECTIONS } from '../../collections.js';
import type { ModelRegistry } from '../../models/registry.js';
import type { ModelInput } from '../../models/types.js';
import type { BaseDocument, DocumentCollection, Store } from '../../stores/types.js';
import type { Language } from '../preprocess/text.js';
import { profileInput, trainingVocabulary, type InputProfile } from './profile.js';

/** The features a drift report measures. */
export const DRIFT_FEATURES = ['predicted_class', 'text_length', 'language', 'oov_share', 'has_image', 'image_feature'] as const;
/** One of {@link DRIFT_FEATURES}. */
export type DriftFeature = (typeof DRIFT_FEATURES)[number];

const LABELS: Record<DriftFeature, string> = {
  predicted_class: 'Predicted class distribution',
  text_length: 'Text length (characters)',
  language: 'Language mix',
  oov_share: 'Out-of-vocabulary token share',
  has_image: 'Share with an image',
  image_feature: 'Image features (vector norm or mean intensity)',
};

/**
 * PSI above which a feature is flagged: 0.25, the usual "significant shift" level (0.1-0.25 is
 * commonly read as moderate).
 */
export const DEFAULT_DRIFT_THRESHOLD = 0.25;

/** A reference distribution: shares per category, or per bin of a numeric feature. */
export type Histogram = {
  /** Values behind it. */
  count: number;
} & (
  | {
      /** Categorical. */
      kind: 'categorical';
      /** Share per category. */
      shares: Record<string, number>;
    }
  | {
      /** Numeric, binned at the reference's deciles. */
      kind: 'numeric';
      /** Upper bounds of every bin but the last (inclusive), ascending. */
      edges: number[];
      /** Share per bin (`edges.length + 1` of them). */
      shares: number[];
    }
);

/** What a model version was trained on, as drift monitoring needs it: stored in `drift_references`. */
export interface DriftReference extends BaseDocument {
  /** The model version (`_id` is `v<version>`). */
  modelVersion: number;
  /** Its split generation. */
  prepareRun: string | null;
  /** When it was computed (ISO-8601). */
  createdAt: string;
  /** Reference products (the validation split: held out, so its out-of-vocabulary share is a fair reference). */
  count: number;
  /** The training vocabulary (tokens seen at least twice). */
  vocabulary: string[];
  /** One distribution per feature. */
  features: Record<DriftFeature, Histogram>;
}

/** One feature of a {@link DriftReport}. */
export interface DriftFeatureReport {
  /** Feature. */
  name: DriftFeature;
  /** Human-readable name. */
  label: string;
  /** Always `psi` (population stability index). */
  measure: 'psi';
  /** Its value (0: identical distributions). */
  value: number;
  /** Flagged above this plus `noise`. */
  threshold: number;
  /**
   * PSI that sampling alone gives two samples of these sizes from one distribution, about
   * `(bins - 1) * (1 / reference + 1 / current)`: small samples (few images, a small validation
   * split) must move further before they are called drift.
   */
  noise: number;
  /** Whether `value > threshold + noise` (never when the window is too small). */
  flagged: boolean;
  /** Reference and current share per bin. */
  bins: {
    /** Bin label: a category, or a range. */
    bin: string;
    /** Share in the reference. */
    reference: number;
    /** Share in the window. */
    current: number;
  }[];
}

/** A drift report, stored in `drift_reports`. */
export interface DriftReport extends BaseDocument {
  /** When (ISO-8601). */
  createdAt: string;
  /** The champion whose predictions and training generation were compared. */
  modelVersion: number;
  /** The recent predictions compared. */
  window: {
    /** Predictions in the window. */
    size: number;
    /** Of which online (`/predict/product`). */
    online: number;
    /** Of which batch. */
    batch: number;
    /** Oldest prediction time (ISO-8601), `null` when empty. */
    from: string | null;
    /** Newest. */
    to: string | null;
  };
  /** The reference. */
  reference: {
    /** Its split generation. */
    prepareRun: string | null;
    /** Reference products. */
    count: number;
  };
  /** One entry per feature. */
  features: DriftFeatureReport[];
  /** Names of the flagged features. */
  flagged: DriftFeature[];
  /** Whether the window held at least the minimum number of predictions (else nothing is flagged). */
  enough: boolean;
  /** Why nothing could be flagged, when so. */
  note?: string;
}

/** A prediction as drift monitoring reads it (online log and batch predictions both have these fields). */
export interface ProfiledPrediction extends BaseDocument {
  /** Model version that predicted. */
  modelVersion: number;
  /** Predicted code. */
  prdtypecode: number;
  /** When (ISO-8601). */
  predictedAt: string;
  /** The input's profile (absent in documents written before profiles existed). */
  profile?: InputProfile;
}

const key = (v: number) => `v${v}`;
const round = (x: number) => Math.round(x * 1e4) / 1e4;

function categorical(values: readonly string[]): Histogram {
  const shares: Record<string, number> = {};
  for (const v of values) shares[v] = (shares[v] ?? 0) + 1;
  for (const k of Object.keys(shares)) shares[k] = round((shares[k] as number) / (values.length || 1));
  return { kind: 'categorical', shares, count: values.length };
}

/** Bins at the deciles of the reference values (ties merged). */
function numeric(values: readonly number[]): Histogram {
  const sorted = [...values].sort((a, b) => a - b);
  const edges: number[] = [];
  for (let q = 1; q < 10 && sorted.length; q++) {
    const edge = sorted[Math.min(sorted.length - 1, Math.floor((q * sorted.length) / 10))] as number;
    if (edges.at(-1) !== edge) edges.push(edge);
  }
  return { kind: 'numeric', edges, shares: numericShares(edges, values), count: values.length };
}

function binOf(edges: readonly number[], x: number): number {
  let i = 0;
  while (i < edges.length && x > (edges[i] as number)) i++;
  return i;
}

function numericShares(edges: readonly number[], values: readonly number[]): number[] {
  const counts = new Array<number>(edges.length + 1).fill(0);
  for (const v of values) counts[binOf(edges, v)] = (counts[binOf(edges, v)] as number) + 1;
  return counts.map((c) => round(c / (values.length || 1)));
}

/** The values of each feature in a list of profiles and predicted codes. */
function featureValues(profiles: readonly InputProfile[], predicted: readonly number[]) {
  return {
    predicted_class: predicted.map(String),
    text_length: profiles.map((p) => p.chars),
    language: profiles.map((p) => p.language),
    oov_share: profiles.flatMap((p) => (p.oov === null ? [] : [p.oov])),
    has_image: profiles.map((p) => (p.image ? 'yes' : 'no')),
    image_feature: profiles.flatMap((p) => (p.imageStat === null ? [] : [p.imageStat])),
  };
}

/**
 * The reference of a model version, from what its training read: the vocabulary of its training
 * inputs, and the profiles and predicted classes of its validation inputs.
 */
export function buildDriftReference(args: {
  modelVersion: number;
  prepareRun: string | null;
  trainInputs: readonly ModelInput[];
  valInputs: readonly ModelInput[];
  valLanguages: readonly Language[];
  valPredicted: readonly number[];
}): DriftReference {
  const vocabulary = trainingVocabulary(args.trainInputs);
  const vocab = new Set(vocabulary);
  const profiles = args.valInputs.map((input, i) => profileInput(input, args.valLanguages[i] ?? 'fr', vocab));
  const v = featureValues(profiles, args.valPredicted);
  return {
    _id: key(args.modelVersion),
    modelVersion: args.modelVersion,
    prepareRun: args.prepareRun,
    createdAt: new Date().toISOString(),
    count: profiles.length,
    vocabulary,
    features: {
      predicted_class: categorical(v.predicted_class),
      text_length: numeric(v.text_length),
      language: categorical(v.language),
      oov_share: numeric(v.oov_share),
      has_image: categorical(v.has_image),
      image_feature: numeric(v.image_feature),
    },
  };
}

/**
 * Population stability index of two share vectors over the same bins, `sum((c - r) ln(c / r))`.
 * Shares are smoothed with half a product per bin (`nReference`, `nCurrent`: the products behind
 * each side), so that a bin that is empty in a small window is not an infinite shift; what stays
 * is the usual sampling noise of PSI, about `(bins - 1) / nCurrent`.
 */
export function psi(reference: readonly number[], current: readonly number[], nReference: number, nCurrent: number): number {
  const k = reference.length;
  const smooth = (share: number, n: number) => (share * n + 0.5) / (n + 0.5 * k);
  let s = 0;
  for (let i = 0; i < k; i++) {
    const r = smooth(reference[i] as number, nReference);
    const c = smooth(current[i] as number, nCurrent);
    s += (c - r) * Math.log(c / r);
  }
  return round(s);
}

function compare(name: DriftFeature, reference: Histogram, values: readonly (string | number)[], threshold: number, enough: boolean): DriftFeatureReport {
  let bins: DriftFeatureReport['bins'];
  if (reference.kind === 'categorical') {
    const current = categorical(values.map(String));
    if (current.kind !== 'categorical') throw new Error('unreachable');
    const names = [...new Set([...Object.keys(reference.shares), ...Object.keys(current.shares)])].sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
    bins = names.map((bin) => ({ bin, reference: reference.shares[bin] ?? 0, current: current.shares[bin] ?? 0 }));
  } else {
    const shares = numericShares(reference.edges, values as number[]);
    const e = reference.edges;
    bins = reference.shares.map((r, i) => ({
      bin: i === 0 ? `≤ ${e[0] ?? '∞'}` : i === e.length ? `> ${e[i - 1]}` : `${e[i - 1]} – ${e[i]}`,
      reference: r,
      current: shares[i] ?? 0,
    }));
  }
  // A side with no values at all (no image in the window) has no distribution to compare.
  const nRef = Math.max(1, reference.count);
  const value = values.length === 0 ? 0 : psi(bins.map((b) => b.reference), bins.map((b) => b.current), nRef, values.length);
  const noise = values.length === 0 ? 0 : round((bins.length - 1) * (1 / nRef + 1 / values.length));
  return { name, label: LABELS[name], measure: 'psi', value, threshold, noise, flagged: enough && values.length > 0 && value > threshold + noise, bins };
}

/** A drift report cannot be made: no champion, or a champion without a reference. */
export class DriftUnavailableError extends Error {
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = 'DriftUnavailableError';
  }
}

/** A reference as {@link DriftMonitor.reference} gives it. */
export interface LoadedReference {
  /** The stored reference. */
  reference: DriftReference;
  /** Its vocabulary as a set. */
  vocabulary: Set<string>;
}

/** Options of {@link DriftMonitor.report}. */
export interface DriftOptions {
  /** Most recent predictions compared (default 1,000). */
  window?: number;
  /**
   * Fewest predictions for a report that can flag (default 200: PSI's sampling noise is about
   * `(bins - 1) / window`, 0.13 for the 27 classes at 200).
   */
  minimum?: number;
  /** PSI threshold per feature (default {@link DEFAULT_DRIFT_THRESHOLD} for every one). */
  thresholds?: Partial<Record<DriftFeature, number>>;
  /** Store the report in `drift_reports` (default true). */
  save?: boolean;
}

/**
 * Computes, stores and lists drift reports of the champion: its most recent predictions (online
 * and batch, with their input profiles) against the reference saved when it was trained.
 *
 * @example
 * ```ts
 * const monitor = new DriftMonitor(store, registry);
 * const report = await monitor.report({ window: 500 });
 * for (const f of report.features) console.log(f.name, f.value, f.flagged ? 'DRIFT' : 'ok');
 * ```
 */
export class DriftMonitor {
  private readonly reports: DocumentCollection<DriftReport>;
  private readonly references: DocumentCollection<DriftReference>;
  // `null`: looked up and absent (a version trained before 0.3): asked once, not once per prediction.
  private readonly cache = new Map<number, LoadedReference | null>();
  private indexed: Promise<void> | undefined;

  /** Creates the monitor. */
  constructor(
    private readonly store: Store,
    private readonly registry: ModelRegistry,
  ) {
    this.reports = store.documents.collection<DriftReport>(COLLECTIONS.driftReports);
    this.references = store.documents.collection<DriftReference>(COLLECTIONS.driftReferences);
  }

  /**
   * Indexes of the sorted reads below, made once per monitor: without them `/metrics` (every
   * scrape), `GET /drift` and each report read every stored report and prediction (0.3-0.6 s at
   * 30,000 documents, growing with every report and prediction ever made).
   */
  private ensureIndexes(): Promise<void> {
    this.indexed ??= (async () => {
      await this.reports.ensureIndex(['createdAt']);
      for (const name of [COLLECTIONS.onlinePredictions, COLLECTIONS.predictions]) {
        await this.store.documents.collection<ProfiledPrediction>(name).ensureIndex(['modelVersion', 'predictedAt']);
      }
    })().catch((e: unknown) => {
      this.indexed = undefined;
      throw e;
    });
    return this.indexed;
  }

  /** Saves a version's reference (the trainer does, right after registering it). */
  async saveReference(reference: DriftReference): Promise<void> {
    await this.references.upsertMany([reference]);
    this.cache.delete(reference.modelVersion);
  }

  /** A version's reference and its vocabulary as a set (cached: references never change), `undefined` when none was saved. */
  async reference(version: number): Promise<LoadedReference | undefined> {
    const hit = this.cache.get(version);
    if (hit !== undefined) return hit ?? undefined;
    const reference = await this.references.get(key(version));
    if (!reference) {
      this.cache.set(version, null);
      return undefined;
    }
    const entry = { reference, vocabulary: new Set(reference.vocabulary) };
    this.cache.set(version, entry);
    return entry;
  }

  /** The newest predictions of `version` from the online log and the batch predictions, newest first. */
  private async window(version: number, size: number): Promise<(ProfiledPrediction & { source: 'online' | 'batch' })[]> {
    const read = async (name: string, source: 'online' | 'batch') => {
      const out: (ProfiledPrediction & { source: 'online' | 'batch' })[] = [];
      const docs = this.store.documents.collection<ProfiledPrediction>(name);
      for await (const d of docs.find({ modelVersion: version }, { sort: { field: 'predictedAt', direction: -1 }, limit: size })) {
        if (d.profile) out.push({ ...d, source });
      }
      return out;
    };
    const both = [...(await read(COLLECTIONS.onlinePredictions, 'online')), ...(await read(COLLECTIONS.predictions, 'batch'))];
    return both.sort((a, b) => b.predictedAt.localeCompare(a.predictedAt)).slice(0, size);
  }

  /**
   * Compares the champion's recent predictions with its reference, per feature, and stores the
   * report (unless `save: false`).
   *
   * @throws DriftUnavailableError when there is no champion, or it has no reference (trained before drift monitoring existed: retrain it).
   */
  async report(options: DriftOptions = {}): Promise<DriftReport> {
    const size = options.window ?? 1_000;
    const minimum = options.minimum ?? 200;
    if (!Number.isInteger(size) || size < 1 || size > 1_000_000) throw new RangeError(`window must be an integer between 1 and 1000000, got ${String(size)}`);
    const version = await this.registry.championVersion();
    if (version === null) throw new DriftUnavailableError('no champion model yet: drift is measured against the champion\'s training data');
    const ref = await this.reference(version);
    if (!ref) throw new DriftUnavailableError(`model version ${version} has no drift reference (it was trained before drift monitoring existed): train a new version`);
    await this.ensureIndexes();
    const recent = await this.window(version, size);
    const enough = recent.length >= minimum;
    const v = featureValues(
      recent.map((p) => p.profile as InputProfile),
      recent.map((p) => p.prdtypecode),
    );
    const features = DRIFT_FEATURES.map((name) =>
      compare(name, ref.reference.features[name], v[name], options.thresholds?.[name] ?? DEFAULT_DRIFT_THRESHOLD, enough),
    );
    const report: DriftReport = {
      _id: `${new Date().toISOString()}-${randomUUID().slice(0, 8)}`,
      createdAt: new Date().toISOString(),
      modelVersion: version,
      window: {
        size: recent.length,
        online: recent.filter((p) => p.source === 'online').length,
        batch: recent.filter((p) => p.source === 'batch').length,
        from: recent.at(-1)?.predictedAt ?? null,
        to: recent[0]?.predictedAt ?? null,
      },
      reference: { prepareRun: ref.reference.prepareRun, count: ref.reference.count },
      features,
      flagged: features.filter((f) => f.flagged).map((f) => f.name),
      enough,
      ...(enough ? {} : { note: `only ${recent.length} recent predictions of v${version}; at least ${minimum} are needed to flag drift` }),
    };
    if (options.save !== false) await this.reports.upsertMany([report]);
    return report;
  }

  /** Stored reports, newest first. */
  async list(limit = 20): Promise<DriftReport[]> {
    await this.ensureIndexes();
    const out: DriftReport[] = [];
    for await (const r of this.reports.find({}, { sort: { field: 'createdAt', direction: -1 }, limit })) out.push(r);
    return out;
  }

  /** The newest stored report, `undefined` when none. */
  async latest(): Promise<DriftReport | undefined> {
    return (await this.list(1))[0];
  }
}
