import { COLLECTIONS } from '../collections.js';
import { checkSpecificationVersion, MODEL_FACTORY_SPEC_VERSION } from '../specification.js';
import { randomUUID } from 'node:crypto';
import { IntegrityError } from '../stores/errors.js';
import { currentOwner, ownerGone, type RunOwner } from '../stores/generations.js';
import { sha256Hex } from '../stores/hash.js';
import type { BaseDocument, Filter, JsonValue, Store } from '../stores/types.js';
import type { PreprocessingSpec, RecordedPreprocessing } from './preprocessing-spec.js';
import type { EpochReport, ModelArtifact, ModelFactory, ProductClassifier } from './types.js';

/** Validation scores recorded with a model version. */
export interface ValidationScores {
  /** Weighted F1 on the validation split (images used where present). */
  weightedF1: number;
  /** Weighted F1 on the validation split with every image ignored. */
  textOnlyWeightedF1: number;
  /** Weighted F1 on the validation products that have an image, using it (`null` when none do). */
  withImageWeightedF1: number | null;
  /** Weighted F1 on those same products with their image ignored (`null` when none do). */
  withImageTextOnlyWeightedF1: number | null;
  /** Accuracy on the validation split. */
  accuracy: number;
  /** F1 per class code on the validation split. */
  perClassF1: Record<string, number>;
  /** Validation products. */
  count: number;
}

/** A registered model version, stored in `model_metadata`. */
export interface ModelVersion extends BaseDocument {
  /** Discriminates versions from aliases in `model_metadata`. */
  type: 'version';
  /** Version number, 1, 2, ... */
  version: number;
  /** Model kind (selects the factory that loads it). */
  kind: string;
  /** Creation time (ISO-8601). */
  createdAt: string;
  /** Hyper-parameters. */
  params: Record<string, JsonValue>;
  /** TensorFlow.js backend it was trained on. */
  backend: string;
  /** Training wall time in seconds. */
  trainingSeconds: number;
  /** Products per class code in the training and validation splits. */
  dataDistribution: {
    /** Training split. */
    train: Record<string, number>;
    /** Validation split. */
    val: Record<string, number>;
  };
  /** Metrics per epoch. */
  history: EpochReport[];
  /** Validation scores. */
  validation: ValidationScores;
  /**
   * The preprocessing spec of the prepare run it was trained on: prediction and evaluation rebuild
   * exactly this (`Preprocessor.fromSpec`). Versions registered before specs existed hold
   * `{ image: { size, tolerance } }` or `{}`; the defaults stand for what they did not record.
   */
  preprocessing: PreprocessingSpec | RecordedPreprocessing;
  /** The split generation (prepare run) it was trained and scored on. */
  prepareRun: string | null;
  /** The data generation (load run) those splits were made from. */
  dataGeneration?: string | null;
  /**
   * Review corrections added to the training data (`includeCorrections`); absent when none were
   * asked for.
   */
  corrections?: {
    /** Corrections included. */
    count: number;
    /** Of which a class other than the one predicted. */
    changed: number;
    /** The newest correction's time (ISO-8601), `null` when there were none. */
    through: string | null;
    /** Their ids (`online:<id>`, `batch:<id>`), at most 1,000 listed. */
    ids: string[];
  };
  /** Model manifest (weights are stored as files beside it). */
  manifest: JsonValue;
  /** Its weight files: name in the artifact and key in the store (a list: file names hold dots, which MongoDB field names may not). */
  files: {
    /** Name in the artifact. */
    name: string;
    /** Key in the store. */
    key: string;
    /** Hex SHA-256 of the bytes, checked whenever the model is loaded. */
    sha256?: string;
    /** Size in bytes. */
    size?: number;
  }[];
  /** Class codes, in the model's output order. */
  classes: number[];
}

/** The `champion` alias, stored in `model_metadata`. */
export interface ModelAlias extends BaseDocument {
  /** Discriminates aliases from versions. */
  type: 'alias';
  /** Version the alias points to. */
  version: number;
  /** When it last moved (ISO-8601). */
  updatedAt: string;
  /** Why it moved. */
  reason: string;
}

/**
 * A version number claimed by a registration in progress (weights being written). Invisible to
 * {@link ModelRegistry.list}; replaced by the {@link ModelVersion} when the registration completes.
 */
export interface ModelReservation extends BaseDocument {
  /** Discriminates reservations from versions and aliases. */
  type: 'reservation';
  /** The claimed number. */
  version: number;
  /** Process registering it. */
  owner: RunOwner;
  /** Identifies the registration that claimed it. */
  token: string;
  /** When it was claimed (ISO-8601). */
  createdAt: string;
}

/** Outcome of {@link ModelRegistry.considerForChampion}. */
export interface ChampionDecision {
  /** Whether the candidate became champion. */
  promoted: boolean;
  /** The champion before the decision, if any. */
  previous: number | null;
  /** Human-readable reason. */
  reason: string;
  /** The champion moved while the decision was made; nothing was changed (decide again). */
  conflict?: boolean;
  /** Classes whose F1 fell by more than the margin (they block promotion). */
  regressions: {
    /** Class code. */
    prdtypecode: number;
    /** Champion's F1 on it. */
    before: number;
    /** Candidate's F1 on it. */
    after: number;
  }[];
}

/** A model reference: a version number, or `champion` / `latest`. */
export type ModelRef = number | 'champion' | 'latest';

/** Key prefix of model files in the store. */
export const MODEL_FILE_PREFIX = 'models/';
const CHAMPION_ID = 'alias:champion';

type MetadataDoc = ModelVersion | ModelAlias | ModelReservation;

/** A reservation older than this whose owner cannot be checked is abandoned. */
const RESERVATION_TTL_MS = 24 * 3600_000;

/**
 * Versioned model registry over any store: metadata in `model_metadata`, weight files through
 * the store's blob interface (files in the embedded store, GridFS on MongoDB). Loaded models are
 * cached, so prediction never reloads a model per call.
 *
 * @example
 * ```ts
 * import { BUILT_IN_MODELS, ModelRegistry, openStore } from 'rakuten-pipeline';
 *
 * const store = await openStore('mongodb://user:password@db/rakuten_db');
 * const registry = new ModelRegistry(store, BUILT_IN_MODELS);
 * for (const v of await registry.list()) console.log(v.version, v.kind, v.validation.weightedF1);
 * await registry.promote(3, 'rolled back after a bad release');
 * await store.close();
 * ```
 */
export class ModelRegistry {
  private readonly factories = new Map<string, ModelFactory>();
  private readonly cache = new Map<number, Promise<ProductClassifier>>();

  /**
   * Creates a registry over `store` able to load the given model kinds.
   *
   * @throws TypeError when a factory declares no `specificationVersion` or one this package does
   *   not support (see `MODEL_FACTORY_SPEC_VERSION`).
   */
  constructor(
    private readonly store: Store,
    factories: readonly ModelFactory[],
  ) {
    for (const f of factories) {
      checkSpecificationVersion('ModelFactory', `model factory ${JSON.stringify(f.kind)}`, f.specificationVersion, MODEL_FACTORY_SPEC_VERSION);
      this.factories.set(f.kind, f);
    }
  }

  private get docs() {
    return this.store.documents.collection<MetadataDoc>(COLLECTIONS.modelMetadata);
  }

  /** Every version, oldest first. */
  async list(): Promise<ModelVersion[]> {
    const out: ModelVersion[] = [];
    for await (const doc of this.docs.find({ type: 'version' }, { sort: { field: 'version' } })) out.push(doc as ModelVersion);
    return out;
  }

  /** The champion's version number, if one was chosen. */
  async championVersion(): Promise<number | null> {
    const alias = (await this.docs.get(CHAMPION_ID)) as ModelAlias | undefined;
    return alias?.version ?? null;
  }

  /** Resolves a reference to a stored version (undefined when there is none). */
  async get(ref: ModelRef): Promise<ModelVersion | undefined> {
    let version: number | null;
    if (ref === 'champion') version = await this.championVersion();
    else if (ref === 'latest') version = (await this.list()).at(-1)?.version ?? null;
    else version = ref;
    if (version === null) return undefined;
    return (await this.docs.get(`v${version}`)) as ModelVersion | undefined;
  }

  /** Like {@link ModelRegistry.get}, but throws a clear error when there is no such model. */
  async require(ref: ModelRef): Promise<ModelVersion> {
    const found = await this.get(ref);
    if (!found) {
      throw new Error(
        ref === 'champion' || ref === 'latest'
          ? `No ${ref} model in ${this.store.uri}: run \`rakuten-pipeline train\` first`
          : `Model version ${ref} not found in ${this.store.uri}`,
      );
    }
    return found;
  }

  /**
   * Stores a trained model as the next version. The number is claimed first (insert-if-absent, so
   * concurrent registrations get distinct numbers), then the files are written, then the metadata
   * that points to them replaces the claim: a registration that dies leaves no visible version.
   */
  async register(
    model: ProductClassifier,
    meta: Omit<ModelVersion, '_id' | 'type' | 'version' | 'kind' | 'createdAt' | 'manifest' | 'files' | 'classes' | 'params' | 'history'>,
  ): Promise<ModelVersion> {
    await this.collectAbandonedReservations();
    const artifact = await model.save();
    const reservation = await this.claimVersion();
    try {
      return await this.complete(model, meta, artifact, reservation);
    } catch (error) {
      // A registration that fails in this process cleans up after itself (a killed one is
      // cleaned up by the next registration).
      await this.docs.deleteMany({ _id: reservation._id, type: 'reservation', token: reservation.token } as Filter<MetadataDoc>).catch(() => 0);
      throw error;
    }
  }

  private async complete(
    model: ProductClassifier,
    meta: Parameters<ModelRegistry['register']>[1],
    artifact: ModelArtifact,
    reservation: ModelReservation,
  ): Promise<ModelVersion> {
    const version = reservation.version;
    const files: ModelVersion['files'] = [];
    for (const [name, bytes] of Object.entries(artifact.files)) {
      // The claim's token in the key: cleaning up an abandoned claim of the same number can never
      // touch these files.
      const key = `${MODEL_FILE_PREFIX}v${version}/${reservation.token}/${name}`;
      await this.store.images.put(key, bytes, { contentType: 'application/octet-stream', metadata: { version, file: name } });
      files.push({ name, key, sha256: sha256Hex(bytes), size: bytes.byteLength });
    }
    const doc: ModelVersion = {
      _id: `v${version}`,
      type: 'version',
      version,
      kind: artifact.kind,
      createdAt: new Date().toISOString(),
      params: { ...model.params },
      history: [...model.history],
      classes: [...model.classes],
      manifest: artifact.manifest,
      files,
      ...meta,
    };
    const done = await this.docs.compareAndSet(doc._id, { type: 'reservation', token: reservation.token } as Filter<MetadataDoc>, doc);
    if (!done) throw new Error(`Model version ${version}: its reservation was taken over while its files were written; not registered`);
    return doc;
  }

  /** Claims the lowest number above every version and reservation. */
  private async claimVersion(): Promise<ModelReservation> {
    let last = 0;
    const numbered = this.docs.find({ type: { $in: ['version', 'reservation'] } } as Filter<MetadataDoc>, {
      sort: { field: 'version', direction: -1 },
      limit: 1,
    });
    for await (const doc of numbered) last = doc.version;
    const token = randomUUID();
    for (let version = last + 1; ; version++) {
      const claim: ModelReservation = {
        _id: `v${version}`,
        type: 'reservation',
        version,
        owner: currentOwner(),
        token,
        createdAt: new Date().toISOString(),
      };
      if (await this.docs.insertIfAbsent(claim)) return claim;
    }
  }

  /** Deletes the claims and files of registrations whose process died before completing. */
  private async collectAbandonedReservations(): Promise<void> {
    const stale: ModelReservation[] = [];
    for await (const doc of this.docs.find({ type: 'reservation' } as Filter<MetadataDoc>)) {
      const r = doc as ModelReservation;
      const expired = Date.now() - Date.parse(r.createdAt) > RESERVATION_TTL_MS;
      // Same host and the process is gone: certainly dead, whatever its age.
      if (expired || ownerGone(r.owner) === true) stale.push(r);
    }
    for (const r of stale) {
      // The claim goes first, and only this claim (its token): if it is already gone, another
      // process cleaned it up or the number was claimed again, and the files are not ours to delete.
      const removed = await this.docs.deleteMany({ _id: r._id, type: 'reservation', token: r.token } as Filter<MetadataDoc>);
      if (removed === 0) continue;
      const keys: string[] = [];
      for await (const info of this.store.images.list({ prefix: `${MODEL_FILE_PREFIX}v${r.version}/${r.token}/` })) keys.push(info.key);
      for (const key of keys) await this.store.images.delete(key);
    }
  }

  /** Loads a version's model (cached: the same promise for every caller). */
  load(version: ModelVersion): Promise<ProductClassifier> {
    let cached = this.cache.get(version.version);
    if (!cached) {
      cached = this.loadUncached(version);
      cached.catch(() => this.cache.delete(version.version));
      this.cache.set(version.version, cached);
    }
    return cached;
  }

  private async loadUncached(version: ModelVersion): Promise<ProductClassifier> {
    const factory = this.factories.get(version.kind);
    if (!factory) throw new Error(`No model factory for kind ${version.kind} (version ${version.version})`);
    const files: Record<string, Uint8Array> = {};
    for (const { name, key, sha256 } of version.files) {
      let bytes: Buffer | undefined;
      try {
        bytes = await this.store.images.get(key);
      } catch (error) {
        if (error instanceof IntegrityError) {
          throw new Error(`Model version ${version.version}: file ${name} (${key}) is corrupt: ${error.message}`, { cause: error });
        }
        throw error;
      }
      if (!bytes) throw new Error(`Model version ${version.version}: file ${key} is missing from the store`);
      // Also against the hash the version recorded: catches bytes swapped under the same key.
      const actual = sha256Hex(bytes);
      if (sha256 !== undefined && actual !== sha256) {
        throw new Error(`Model version ${version.version}: file ${name} (${key}) is corrupt: SHA-256 ${actual}, recorded ${sha256}`);
      }
      files[name] = bytes;
    }
    const artifact: ModelArtifact = { kind: version.kind, manifest: version.manifest, files };
    return factory.load(artifact);
  }

  /**
   * Points `champion` at a version. With `expected` (a version number, or `null` for "no champion
   * yet") the alias moves only if it still points there, atomically; resolves whether it moved.
   */
  async promote(version: number, reason: string, expected?: number | null): Promise<boolean> {
    await this.require(version);
    const alias: ModelAlias = { _id: CHAMPION_ID, type: 'alias', version, updatedAt: new Date().toISOString(), reason };
    if (expected === undefined) {
      await this.docs.upsertMany([alias]);
      return true;
    }
    if (expected === null) return this.docs.insertIfAbsent(alias);
    return this.docs.compareAndSet(CHAMPION_ID, { type: 'alias', version: expected } as Filter<MetadataDoc>, alias);
  }

  /**
   * Promotes `candidate` when there is no champion, or when it beats the champion's weighted F1
   * and no class's F1 drops by more than `margin` (both scored on the same validation set:
   * `championScores` must come from running the champion on the candidate's validation split).
   * Pass `scoredChampion`, the version those scores belong to: if the alias moved since, nothing
   * changes and the decision says `conflict`.
   */
  async considerForChampion(
    candidate: ModelVersion,
    championScores: ValidationScores | null,
    margin: number,
    scoredChampion?: number | null,
  ): Promise<ChampionDecision> {
    if (!Number.isFinite(margin) || margin < 0 || margin > 1) {
      throw new RangeError(`Guardrail margin must be a number between 0 and 1, got ${String(margin)}`);
    }
    // The alias moves only if it still points at the champion the scores belong to.
    const previous = scoredChampion !== undefined ? scoredChampion : await this.championVersion();
    const moved = (): ChampionDecision => ({
      promoted: false, previous, conflict: true, reason: 'the champion moved while this decision was made', regressions: [],
    });
    if (previous === null || !championScores) {
      if (!(await this.promote(candidate.version, 'first model', previous))) return moved();
      return { promoted: true, previous, reason: 'no champion yet', regressions: [] };
    }
    const verdict = guardrailVerdict(candidate.validation, championScores, margin, previous);
    if (verdict.promote) {
      if (!(await this.promote(candidate.version, verdict.reason, previous))) return moved();
      return { promoted: true, previous, reason: verdict.reason, regressions: verdict.regressions };
    }
    return { promoted: false, previous, reason: verdict.reason, regressions: verdict.regressions };
  }
}

/** What the guardrail says of a candidate against a champion, without moving anything. */
export interface GuardrailVerdict {
  /** Whether the candidate would be promoted. */
  promote: boolean;
  /** Why. */
  reason: string;
  /** Classes whose F1 would fall by more than the margin. */
  regressions: ChampionDecision['regressions'];
}

/**
 * The guardrail of {@link ModelRegistry.considerForChampion} as a pure function: promote when the
 * candidate's weighted F1 beats the champion's and no class's F1 drops by more than `margin`
 * (both scored on the same validation set). The console shows it before a manual promotion.
 */
export function guardrailVerdict(candidate: ValidationScores, champion: ValidationScores, margin: number, championVersion: number | null): GuardrailVerdict {
  const regressions = Object.entries(champion.perClassF1)
    .map(([code, before]) => ({ prdtypecode: Number(code), before, after: candidate.perClassF1[code] ?? 0 }))
    .filter((r) => r.before - r.after > margin);
  const better = candidate.weightedF1 > champion.weightedF1;
  if (better && regressions.length === 0) {
    return { promote: true, regressions, reason: `validation weighted F1 ${candidate.weightedF1.toFixed(4)} > ${champion.weightedF1.toFixed(4)} (v${championVersion}), no class down by more than ${margin}` };
  }
  const reason = !better
    ? `validation weighted F1 ${candidate.weightedF1.toFixed(4)} does not beat v${championVersion}'s ${champion.weightedF1.toFixed(4)}`
    : `${regressions.length} class(es) drop by more than ${margin} F1: ${regressions.map((r) => r.prdtypecode).join(', ')}`;
  return { promote: false, regressions, reason };
}
