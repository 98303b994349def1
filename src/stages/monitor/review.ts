/**
 * The review queue: the champion's least certain predictions (online and batch) and those where
 * image and text disagree, for a person to accept or correct; corrections are kept with who and
 * when, and the next training can take them as labelled data.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { categoryNames } from '../../categories.js';
import { COLLECTIONS } from '../../collections.js';
import type { ModelRegistry } from '../../models/registry.js';
import type { BaseDocument, DocumentCollection, Store } from '../../stores/types.js';
import type { RowId } from '../load/ids.js';
import type { ProductRow } from '../load/types.js';
import type { Confidence } from '../predict/confidence.js';
import { currentData } from '../views.js';
import type { InputProfile } from './profile.js';

/** Image key prefix of pictures kept for review: uploads of online predictions and copies made for corrections. */
export const REVIEW_IMAGE_PREFIX = 'review/';

/** One of the top classes of a stored prediction. */
export interface StoredClass {
  /** Product type code. */
  prdtypecode: number;
  /** Probability. */
  probability: number;
  /** English category name (absent for a code outside the 27). */
  name?: string;
}

/** One of the top classes of a review item. */
export interface ReviewClass {
  /** Product type code. */
  prdtypecode: number;
  /** Probability. */
  probability: number;
  /** English category name, `null` for a code outside the 27. */
  name: string | null;
}

/** A page of the review queue. */
export interface ReviewPage {
  /** Unreviewed predictions of the champion matching the reason. */
  pending: number;
  /** The least certain of them first. */
  items: ReviewItem[];
}

/** What review needs of every stored prediction, online or batch. */
export interface ReviewablePrediction extends BaseDocument {
  /** Model version. */
  modelVersion: number;
  /** Predicted code. */
  prdtypecode: number;
  /** Its English category name. */
  name?: string;
  /** Top 3 classes. */
  top: StoredClass[];
  /** When (ISO-8601). */
  predictedAt: string;
  /** Margin and entropy (absent in documents written before the review queue existed). */
  margin?: number;
  /** Normalised entropy. */
  entropy?: number;
  /** The class the text alone gives, `null` without an image. */
  textClass?: number | null;
  /** The class the image alone gives, `null` without an image. */
  imageClass?: number | null;
  /** Whether text alone and image alone give different classes. */
  disagreement?: boolean;
  /** The input's drift profile. */
  profile?: InputProfile;
  /** Set once a person accepted or corrected it. */
  reviewed?: boolean;
}

/** An online prediction (`POST /predict/product`), stored in `online_predictions`. */
export interface OnlinePrediction extends ReviewablePrediction {
  /** `input.image`, at the top level where filters can reach it (pruning checks who still uses a picture). */
  imageKey: string | null;
  /** What was sent. */
  input: {
    /** Title as sent. */
    designation: string;
    /** Description as sent (cut at 20,000 characters). */
    description: string;
    /** Key of the uploaded image in the image store (under `review/`), `null` without one. */
    image: string | null;
  };
}

/** A batch prediction as review reads it (`predictions`). */
interface BatchPrediction extends ReviewablePrediction {
  productid: RowId;
}

/** Where a review item comes from. */
export type ReviewSource = 'online' | 'batch';

/** One entry of the review queue. */
export interface ReviewItem {
  /** `online:<id>` or `batch:<id>`. */
  id: string;
  /** Its source. */
  source: ReviewSource;
  /** When it was predicted. */
  predictedAt: string;
  /** Model version. */
  modelVersion: number;
  /** Predicted code. */
  prdtypecode: number;
  /** Its name. */
  name: string | null;
  /** Top classes. */
  top: ReviewClass[];
  /** Confidence. */
  confidence: Confidence;
  /** Text-only class (`null` without an image). */
  textClass: number | null;
  /** Image-only class (`null` without an image). */
  imageClass: number | null;
  /** Whether they differ. */
  disagreement: boolean;
  /** Why it is listed. */
  reasons: ('uncertain' | 'disagreement')[];
  /** The product. */
  input: {
    /** Title. */
    designation: string;
    /** Description. */
    description: string;
    /** Whether there is an image (`GET /review/{id}/image`). */
    hasImage: boolean;
  };
}

/** A person's verdict on a prediction, stored in `review_corrections` (`_id` is the review item's id). */
export interface Correction extends BaseDocument {
  /** The review item. */
  predictionId: string;
  /** Its source. */
  source: ReviewSource;
  /** The product id, for batch predictions. */
  productid?: RowId;
  /** Model version that predicted. */
  modelVersion: number;
  /** What it predicted. */
  predicted: number;
  /** The class the reviewer gave (equal to `predicted` when accepted). */
  prdtypecode: number;
  /** Whether the prediction was accepted as it was. */
  accepted: boolean;
  /** Who: the id of the API key used (a hash prefix, never the key), `null` when the server has no keys. */
  keyId: string | null;
  /** When (ISO-8601). */
  at: string;
  /** `input.image`, at the top level where filters can reach it. */
  imageKey: string | null;
  /** The labelled product, copied so that it outlives reloads of the data. */
  input: {
    /** Title. */
    designation: string;
    /** Description. */
    description: string;
    /** Key of its image (under `review/`), `null` without one. */
    image: string | null;
  };
}

/** What {@link ReviewQueue.pruneOnline} deleted. */
export interface PruneResult {
  /** Online predictions. */
  deleted: number;
  /** Their pictures that nothing else used. */
  images: number;
}

/** The image of a review item. */
export interface ReviewImage {
  /** Its bytes. */
  bytes: Buffer;
  /** Their content type, by magic number. */
  contentType: string;
}

/** Refused review operations, with what the HTTP API answers. */
export class ReviewError extends Error {
  /** Creates the error. */
  constructor(
    /** Why: no such item, a verdict already recorded, or a code that is no class. */
    readonly code: 'NOT_FOUND' | 'ALREADY_REVIEWED' | 'UNKNOWN_CLASS',
    message: string,
  ) {
    super(message);
    this.name = 'ReviewError';
  }
}

/** The id of an API key as recorded with a correction: `key:` and 12 hex digits of its SHA-256. */
export function keyId(key: string): string {
  return `key:${createHash('sha256').update(key).digest('hex').slice(0, 12)}`;
}

/** The content type of image bytes, by their magic number. */
export function sniffImageType(bytes: Uint8Array): string {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(12, bytes.length));
  if (b[0] === 0xff && b[1] === 0xd8) return 'image/jpeg';
  if (b.subarray(0, 4).toString('latin1') === '\x89PNG') return 'image/png';
  if (b.subarray(0, 4).toString('latin1') === 'RIFF' && b.subarray(8, 12).toString('latin1') === 'WEBP') return 'image/webp';
  if (b.subarray(0, 3).toString('latin1') === 'GIF') return 'image/gif';
  return 'application/octet-stream';
}

/** Stores image bytes for review, content-addressed (the same picture twice is stored once); resolves its key. */
export async function keepReviewImage(store: Store, bytes: Uint8Array): Promise<string> {
  const sha = createHash('sha256').update(bytes).digest('hex');
  const key = `${REVIEW_IMAGE_PREFIX}${sha.slice(0, 32)}`;
  // Same bytes again: `unchanged`, nothing written.
  await store.images.put(key, bytes, { contentType: sniffImageType(bytes), metadata: { source: 'review' } });
  return key;
}

const SOURCES: Record<ReviewSource, string> = { online: COLLECTIONS.onlinePredictions, batch: COLLECTIONS.predictions };

/** A name or null. */
const nameOf = (code: number) => categoryNames(code)?.en ?? null;

/**
 * The review queue of a store.
 *
 * @example
 * ```ts
 * const review = new ReviewQueue(store, registry);
 * const { items } = await review.list({ limit: 10 });
 * await review.correct(items[0].id, 2583, { keyId: null });
 * ```
 */
export class ReviewQueue {
  private readonly corrections: DocumentCollection<Correction>;
  private indexed: Promise<void> | undefined;

  /** Creates the queue. */
  constructor(
    private readonly store: Store,
    private readonly registry: ModelRegistry,
  ) {
    this.corrections = store.documents.collection<Correction>(COLLECTIONS.reviewCorrections);
  }

  /**
   * Indexes of the queue's reads (filter by version and mark, sorted by margin), made once per
   * queue: without them every `GET /review` read every prediction ever stored, twice.
   */
  private ensureIndexes(): Promise<void> {
    this.indexed ??= (async () => {
      for (const source of ['online', 'batch'] as const) {
        await this.collection(source).ensureIndex(['modelVersion', 'reviewed', 'margin']);
        await this.collection(source).ensureIndex(['modelVersion', 'reviewed', 'disagreement', 'margin']);
      }
      await this.corrections.ensureIndex(['at']);
      await this.corrections.ensureIndex(['imageKey']);
      const online = this.store.documents.collection<OnlinePrediction>(COLLECTIONS.onlinePredictions);
      await online.ensureIndex(['predictedAt']);
      await online.ensureIndex(['imageKey']);
    })().catch((e: unknown) => {
      this.indexed = undefined;
      throw e;
    });
    return this.indexed;
  }

  private collection(source: ReviewSource): DocumentCollection<ReviewablePrediction> {
    return this.store.documents.collection<ReviewablePrediction>(SOURCES[source]);
  }

  private parse(id: string): { source: ReviewSource; docId: string } {
    const m = /^(online|batch):(.+)$/.exec(id);
    if (!m) throw new ReviewError('NOT_FOUND', `no review item ${id}: ids are "online:<id>" or "batch:<id>"`);
    return { source: m[1] as ReviewSource, docId: m[2] as string };
  }

  /** The batch prediction's product row of the current data, if still loaded. */
  private async row(productid: RowId): Promise<ProductRow | undefined> {
    const data = await currentData(this.store).catch(() => undefined);
    if (!data) return undefined;
    for await (const row of data.rows.xTest.find({ productid }, { limit: 1 })) return row;
    return undefined;
  }

  private async item(source: ReviewSource, doc: ReviewablePrediction): Promise<ReviewItem> {
    let input: ReviewItem['input'] = { designation: '', description: '', hasImage: false };
    if (source === 'online') {
      const o = (doc as OnlinePrediction).input;
      input = { designation: o.designation, description: o.description, hasImage: o.image !== null };
    } else {
      const row = await this.row((doc as BatchPrediction).productid);
      if (row) input = { designation: row.designation, description: row.description, hasImage: row.image !== null };
    }
    const margin = doc.margin ?? 1;
    const disagreement = doc.disagreement ?? false;
    return {
      id: `${source}:${doc._id}`,
      source,
      predictedAt: doc.predictedAt,
      modelVersion: doc.modelVersion,
      prdtypecode: doc.prdtypecode,
      name: nameOf(doc.prdtypecode),
      top: doc.top.map((t) => ({ prdtypecode: t.prdtypecode, probability: t.probability, name: nameOf(t.prdtypecode) })),
      confidence: { margin, entropy: doc.entropy ?? 0 },
      textClass: doc.textClass ?? null,
      imageClass: doc.imageClass ?? null,
      disagreement,
      reasons: [...(disagreement ? (['disagreement'] as const) : []), ...(margin < UNCERTAIN_MARGIN ? (['uncertain'] as const) : [])],
      input,
    };
  }

  /**
   * The champion's unreviewed predictions, least certain (lowest margin) first: `uncertain` all of
   * them, `disagreement` those whose text and image give different classes, `all` both lists merged.
   */
  async list(options: { limit?: number; reason?: 'uncertain' | 'disagreement' | 'all' } = {}): Promise<ReviewPage> {
    const limit = options.limit ?? 20;
    const version = await this.registry.championVersion();
    if (version === null) return { pending: 0, items: [] };
    await this.ensureIndexes();
    const found: { source: ReviewSource; doc: ReviewablePrediction }[] = [];
    let pending = 0;
    for (const source of ['online', 'batch'] as const) {
      const docs = this.collection(source);
      const filter = { modelVersion: version, reviewed: null, ...(options.reason === 'disagreement' ? { disagreement: true } : {}) };
      pending += await docs.count(filter);
      for await (const doc of docs.find(filter, { sort: { field: 'margin', direction: 1 }, limit: limit * 2 })) {
        // A batch prediction run again with the same version is rewritten without its mark: its correction still stands.
        if (doc.margin !== undefined && !(await this.corrections.get(`${source}:${doc._id}`))) found.push({ source, doc });
      }
      if (options.reason === 'all') {
        for await (const doc of docs.find({ modelVersion: version, reviewed: null, disagreement: true }, { sort: { field: 'margin', direction: 1 }, limit })) {
          // Checked as above: a batch prediction written before its mark was kept may lack it.
          if (found.some((f) => f.doc._id === doc._id && f.source === source)) continue;
          if (doc.margin !== undefined && !(await this.corrections.get(`${source}:${doc._id}`))) found.push({ source, doc });
        }
      }
    }
    // Disagreements first in `all` (rarer and often a wrong image), then by margin.
    found.sort((a, b) => {
      if (options.reason === 'all' && (a.doc.disagreement ?? false) !== (b.doc.disagreement ?? false)) return a.doc.disagreement ? -1 : 1;
      return (a.doc.margin ?? 1) - (b.doc.margin ?? 1);
    });
    const items = await Promise.all(found.slice(0, limit).map((f) => this.item(f.source, f.doc)));
    return { pending, items };
  }

  /** The image of a review item, with its content type; `undefined` when it has none. */
  async image(id: string): Promise<ReviewImage | undefined> {
    const { source, docId } = this.parse(id);
    const doc = await this.collection(source).get(docId);
    if (!doc) throw new ReviewError('NOT_FOUND', `no review item ${id}`);
    const imageKey = source === 'online' ? (doc as OnlinePrediction).input.image : ((await this.row((doc as BatchPrediction).productid))?.image ?? null);
    if (!imageKey) return undefined;
    const bytes = await this.store.images.get(imageKey);
    return bytes ? { bytes, contentType: sniffImageType(bytes) } : undefined;
  }

  /**
   * Records a person's class for a prediction (its own code: accepted; another: corrected) and
   * takes it off the queue. A prediction is reviewed once: a second verdict is refused, never
   * silently replacing the first.
   */
  async correct(id: string, prdtypecode: number, who: { keyId: string | null }): Promise<Correction> {
    const { source, docId } = this.parse(id);
    const docs = this.collection(source);
    const doc = await docs.get(docId);
    if (!doc) throw new ReviewError('NOT_FOUND', `no review item ${id}`);
    const model = await this.registry.get(doc.modelVersion);
    const known = model?.classes ?? [];
    if (!known.includes(prdtypecode) && !categoryNames(prdtypecode)) {
      throw new ReviewError('UNKNOWN_CLASS', `body/prdtypecode: ${prdtypecode} is not a product type code of the catalogue nor of model v${doc.modelVersion}`);
    }
    let input: Correction['input'];
    let productid: RowId | undefined;
    if (source === 'online') {
      input = (doc as OnlinePrediction).input;
    } else {
      productid = (doc as BatchPrediction).productid;
      const row = await this.row(productid);
      if (!row) throw new ReviewError('NOT_FOUND', `product ${String(productid)} of ${id} is no longer in the loaded data`);
      const bytes = row.image ? await this.store.images.get(row.image) : undefined;
      input = { designation: row.designation, description: row.description, image: bytes ? await keepReviewImage(this.store, bytes) : null };
    }
    const correction: Correction = {
      _id: id,
      predictionId: id,
      source,
      ...(productid !== undefined ? { productid } : {}),
      modelVersion: doc.modelVersion,
      predicted: doc.prdtypecode,
      prdtypecode,
      accepted: prdtypecode === doc.prdtypecode,
      keyId: who.keyId,
      at: new Date().toISOString(),
      imageKey: input.image,
      input,
    };
    if (!(await this.corrections.insertIfAbsent(correction))) {
      const first = await this.corrections.get(id);
      throw new ReviewError('ALREADY_REVIEWED', `${id} was already reviewed${first ? ` at ${first.at} (class ${first.prdtypecode})` : ''}`);
    }
    await docs.upsertMany([{ ...doc, reviewed: true }]);
    return correction;
  }

  /**
   * Keeps the newest `keep` online predictions and deletes the older ones, with their pictures
   * unless another online prediction or a correction still uses them (corrections are never
   * pruned: they are labelled data). The HTTP API calls it as predictions are recorded
   * (`recordPredictions: { keep }`), so that anonymous traffic cannot fill the store.
   */
  async pruneOnline(keep: number): Promise<PruneResult> {
    if (!Number.isInteger(keep) || keep < 0) throw new RangeError(`keep must be a non-negative integer, got ${String(keep)}`);
    await this.ensureIndexes();
    const online = this.store.documents.collection<OnlinePrediction>(COLLECTIONS.onlinePredictions);
    const excess = (await online.count()) - keep;
    if (excess <= 0) return { deleted: 0, images: 0 };
    const old: OnlinePrediction[] = [];
    for await (const d of online.find({}, { sort: { field: 'predictedAt', direction: 1 }, limit: excess })) old.push(d);
    let deleted = 0;
    for (let i = 0; i < old.length; i += 500) deleted += await online.deleteMany({ _id: { $in: old.slice(i, i + 500).map((d) => d._id) } });
    let images = 0;
    for (const key of new Set(old.flatMap((d) => (d.imageKey ? [d.imageKey] : [])))) {
      if ((await online.count({ imageKey: key })) > 0 || (await this.corrections.count({ imageKey: key })) > 0) continue;
      if (await this.store.images.delete(key)) images++;
    }
    return { deleted, images };
  }

  /** Stored corrections, newest first. */
  async listCorrections(limit = 50): Promise<Correction[]> {
    const out: Correction[] = [];
    for await (const c of this.corrections.find({}, { sort: { field: 'at', direction: -1 }, limit })) out.push(c);
    return out;
  }

  /**
   * Every correction as a labelled product for training: one per product (the newest verdict when
   * the same title, description and image were reviewed more than once).
   */
  async trainingCorrections(): Promise<Correction[]> {
    const seen = new Set<string>();
    const out: Correction[] = [];
    for await (const c of this.corrections.find({}, { sort: { field: 'at', direction: -1 } })) {
      const key = JSON.stringify([c.input.designation, c.input.description, c.input.image]);
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(c);
    }
    return out;
  }
}

/** Margin under which a prediction counts as uncertain (listed with the reason `uncertain`). */
export const UNCERTAIN_MARGIN = 0.2;
