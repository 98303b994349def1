import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import pLimit from 'p-limit';
import { COLLECTIONS, PREP_IMAGE_PREFIX, RAW_IMAGE_PREFIX } from '../../collections.js';
import { checkOptions, PrepareParams } from '../options.js';
import { withRate, type StageRunOptions } from '../../progress.js';
import {
  collectGenerations,
  GenerationWriter,
  pipelineState,
  RunRecorder,
} from '../../stores/generations.js';
import type { DocumentCollection, Store } from '../../stores/types.js';
import { dataView, type DataView } from '../views.js';
import type { LoadSplit, ProductRow } from '../load/types.js';
import { IMAGE_METHOD_VERSION, UndecodableImageError } from '../preprocess/image.js';
import { Preprocessor } from '../preprocess/preprocessor.js';
import type { SplitAssignment, SplitItem, SplitName } from '../split/assign.js';
import { Splitter } from '../split/splitter.js';
import type { LabeledProduct, PrepareFailure, PrepareRun, SplitSummary } from './types.js';

/** Options of {@link PrepareStage.run}: {@link PrepareParams} (the schema shared with the API and the CLI) plus progress and cancellation. */
export interface PrepareOptions extends PrepareParams, StageRunOptions {}

/** The three split collections, by split name. */
export const SPLIT_COLLECTIONS: Record<SplitName, string> = {
  train: COLLECTIONS.labeledTrain,
  val: COLLECTIONS.labeledVal,
  test: COLLECTIONS.labeledTest,
};

const SPLITS: readonly SplitName[] = ['train', 'val', 'test'];
const BATCH = 500;
const MAX_FAILURES_LISTED = 1_000;

/**
 * Key of a product's preprocessed image, derived from its original's key (which carries the
 * original's content hash, so new bytes get a new preprocessed image too).
 */
export function preparedImageKey(rawKey: string, size: number, split: LoadSplit): string {
  const name = `${path.basename(rawKey).replace(/\.[^.]+$/, '')}.png`;
  const hash = /^raw\/[^/]+\/([0-9a-f]{16})\/[^/]+$/.exec(rawKey)?.[1];
  return `${PREP_IMAGE_PREFIX}${size}/${split}/${hash ? `${hash}/` : ''}${name}`;
}

/** What the split needs of a labelled product: small, held for every row. */
interface Item {
  id: string;
  label: number;
  textHash: string | null;
  hasImage: boolean;
  imageHash: string | null;
}

/** A labelled product preprocessed before the split is known, as staged in `prepare_staging`. */
type StagedProduct = Omit<LabeledProduct, 'split' | 'group'>;

/** What reuse needs of a stored preprocessed image (not its whole record: one per row is held). */
interface PreparedInfo {
  sourceSha256: unknown;
  tolerance: unknown;
  version: unknown;
  contentHash: string;
}

/** Rows whose image is being prepared at most (the bound on what the stage holds beyond {@link Item}s). */
const ROWS_IN_FLIGHT = 256;

async function sha256ByKey(store: Store, prefix: string): Promise<Map<string, string>> {
  const map = new Map<string, string>();
  for await (const info of store.images.list({ prefix })) map.set(info.key, info.sha256);
  return map;
}

async function preparedByKey(store: Store, prefix: string): Promise<Map<string, PreparedInfo>> {
  const map = new Map<string, PreparedInfo>();
  for await (const { key, metadata: m } of store.images.list({ prefix })) {
    map.set(key, { sourceSha256: m['sourceSha256'], tolerance: m['tolerance'], version: m['imageVersion'], contentHash: String(m['contentHash']) });
  }
  return map;
}

function emptySummary(): SplitSummary {
  return { total: 0, perClass: {}, withImage: 0 };
}

/**
 * Prepare stage: preprocesses every loaded product (text and image, through one
 * {@link Preprocessor}), splits the labelled ones into train / validation / test with a
 * {@link Splitter} — stratified, seeded, and keeping duplicates (same cleaned text or same image
 * hash) together — and writes
 * `labeled_train`, `labeled_val`, `labeled_test` and a `pipeline_metadata` record.
 * Preprocessed images are reused when their source has not changed, so a re-run is cheap.
 *
 * @example
 * ```ts
 * import { openStore, PrepareStage, Preprocessor, Splitter } from 'rakuten-pipeline';
 *
 * const store = await openStore('.rakuten-store');
 * const stage = new PrepareStage(store, new Preprocessor({ image: { size: 96 } }), new Splitter({ seed: 7 }));
 * const run = await stage.run();
 * console.log(run.splits.train.total, run.splits.val.total, run.splits.test.total, run.duplicateGroups);
 * await store.close();
 * ```
 */
export class PrepareStage {
  /** Creates the stage over `store`, with the given preprocessor and splitter (default options otherwise). */
  constructor(
    private readonly store: Store,
    /** The preprocessing used, shared with online prediction. */
    readonly preprocessor: Preprocessor = new Preprocessor(),
    /** The split used where {@link PrepareStage.run}'s options do not override its seed or fractions. */
    readonly splitter: Splitter = new Splitter(),
  ) {}

  /**
   * Runs the stage; resolves with the stored run record. The splits are written as a new
   * generation and become current together when the run completes: a failed, cancelled or killed
   * run leaves the previous splits untouched.
   */
  async run(options: PrepareOptions = {}): Promise<PrepareRun> {
    checkOptions('PrepareStage.run', PrepareParams, options);
    const started = Date.now();
    const { size, tolerance } = this.preprocessor.imageOptions;
    // Bad fractions or seed fail now (RangeError), not after minutes of image work.
    const splitter = this.splitter.with({ seed: options.seed, fractions: { val: options.val, test: options.test } });
    const run: PrepareRun = {
      _id: `prepare-${new Date(started).toISOString().replace(/[:.]/g, '-')}-${randomBytes(3).toString('hex')}`,
      kind: 'prepare',
      status: 'running',
      committed: false,
      dataGeneration: null,
      startedAt: new Date(started).toISOString(),
      finishedAt: null,
      store: this.store.uri,
      params: { seed: splitter.seed, val: splitter.fractions.val, test: splitter.fractions.test, imageSize: size, tolerance },
      // Throws before any work when a custom text step has no registered name (it could not be served).
      preprocessing: this.preprocessor.spec,
      records: { train: 0, test: 0, unlabelled: 0 },
      images: { processed: 0, reused: 0, failed: 0 },
      failures: [],
      splits: { train: emptySummary(), val: emptySummary(), test: emptySummary() },
      whole: emptySummary(),
      maxClassShareGapPp: 0,
      duplicateGroups: { groups: 0, items: 0, largest: 0, mixedLabels: 0, byText: 0, byImage: 0 },
      timings: { text: 0, images: 0, split: 0, write: 0, total: 0 },
      throughput: { textsPerSecond: 0, imagesPerSecond: 0 },
      errors: [],
    };
    const runs = this.store.documents.collection<PrepareRun>(COLLECTIONS.pipelineMetadata);
    const data = (await pipelineState(this.store)).data;
    if (!data) throw new Error(`No loaded data in ${this.store.uri}: run \`rakuten-pipeline load\` first`);
    run.dataGeneration = data.generation;
    const recorder = new RunRecorder(runs, run);
    await recorder.save();
    let writer: GenerationWriter | undefined;
    try {
      writer = await GenerationWriter.begin(this.store, 'prepare', run._id);
      await collectGenerations(this.store, 'prepare', runs, new Set([run._id]));
      const source = dataView(this.store, data.generation);
      const onProgress = withRate(options.onProgress);
      const staging = writer.collection<StagedProduct>(COLLECTIONS.prepareStaging);
      const items = await this.preprocessAll('train', source, run, { ...options, onProgress }, staging);
      await this.preprocessAll('test', source, run, { ...options, onProgress }, staging);
      const t0 = Date.now();
      const assignment = splitter.split(items.map(toSplitItem));
      run.timings.split = (Date.now() - t0) / 1000;
      this.summarise(run, items, assignment);
      const t1 = Date.now();
      await this.write(writer, staging, items.length, assignment.splitOf, assignment.groupOf, { ...options, onProgress });
      run.timings.write = (Date.now() - t1) / 1000;
      options.signal?.throwIfAborted();
      await recorder.assertAlive();
      await writer.commit({
        dataGeneration: data.generation,
        counts: Object.fromEntries(SPLITS.map((s) => [SPLIT_COLLECTIONS[s], run.splits[s].total])),
      });
      run.committed = true;
      run.status = run.images.failed > 0 || run.records.unlabelled > 0 ? 'completed_with_warnings' : 'completed';
    } catch (error) {
      run.errors.push((error as Error).message);
      run.status = options.signal?.aborted ? 'cancelled' : 'failed';
      await writer?.discard().catch(() => undefined);
      run.collected = true;
      throw error;
    } finally {
      run.finishedAt = new Date().toISOString();
      run.timings.total = (Date.now() - started) / 1000;
      await recorder.close();
    }
    // The splits this run replaced stay for readers already on them; older ones go now.
    await collectGenerations(this.store, 'prepare', runs).catch(() => undefined);
    return run;
  }

  /**
   * Pass 1, streamed: each row's text is prepared once and its image prepared (or reused) with at
   * most {@link ROWS_IN_FLIGHT} rows waiting on images; labelled products are staged in
   * `prepare_staging` as they complete. Returns what the split needs of each labelled product.
   */
  private async preprocessAll(
    split: LoadSplit,
    source: DataView,
    run: PrepareRun,
    options: PrepareOptions,
    staging: DocumentCollection<StagedProduct>,
  ): Promise<Item[]> {
    const { size, tolerance } = this.preprocessor.imageOptions;
    const rows = split === 'train' ? source.xTrain : source.xTest;
    const labels = new Map<string, number>();
    if (split === 'train') {
      for await (const l of source.yTrain.find()) labels.set(l._id, l.prdtypecode);
    }
    const raw = await sha256ByKey(this.store, `${RAW_IMAGE_PREFIX}${split}/`);
    const prepared = await preparedByKey(this.store, `${PREP_IMAGE_PREFIX}${size}/${split}/`);
    const limit = pLimit(options.imageConcurrency ?? 6);
    const total = await rows.count();
    const items: Item[] = [];
    /** Rows in order, each with its image work (settled when the row can be staged). */
    const inFlight: { item: Item; doc: StagedProduct | null; image: Promise<void> }[] = [];
    let staged: StagedProduct[] = [];
    let textSeconds = 0;
    let imageStart = 0;
    let done = 0;
    let imagesDone = 0; // of this split: run.images counts across splits
    const imagesTotal = raw.size;

    const prepareImage = async (row: ProductRow, item: Item, doc: StagedProduct | null): Promise<void> => {
      if (options.signal?.aborted || !row.image) return;
      const rawKey = row.image;
      const key = preparedImageKey(rawKey, size, split);
      const sourceSha256 = raw.get(rawKey);
      const existing = prepared.get(key);
      let imageHash: string;
      if (sourceSha256 && existing && existing.sourceSha256 === sourceSha256 && existing.tolerance === tolerance && existing.version === IMAGE_METHOD_VERSION) {
        run.images.reused++;
        imageHash = existing.contentHash;
      } else {
        const bytes = await this.store.images.get(rawKey);
        try {
          if (!bytes) throw new UndecodableImageError(`original image ${rawKey} is not in the store`);
          const img = await this.preprocessor.prepareImage(bytes);
          await this.store.images.put(key, img.png, {
            contentType: 'image/png',
            metadata: {
              split, productid: row.productid, imageid: row.imageid, index: row.index, size, tolerance,
              originalWidth: img.originalWidth, originalHeight: img.originalHeight,
              boxLeft: img.box.left, boxTop: img.box.top, boxWidth: img.box.width, boxHeight: img.box.height,
              contentHash: img.contentHash, sourceSha256: sourceSha256 ?? null, imageVersion: IMAGE_METHOD_VERSION,
            },
          });
          run.images.processed++;
          imageHash = img.contentHash;
        } catch (error) {
          if (!(error instanceof UndecodableImageError)) throw error;
          run.images.failed++;
          const failure: PrepareFailure = { productid: row.productid, image: rawKey, reason: error.message };
          if (run.failures.length < MAX_FAILURES_LISTED) run.failures.push(failure);
          return;
        }
      }
      item.hasImage = true;
      item.imageHash = imageHash;
      if (doc) {
        doc.image = key;
        doc.imageHash = imageHash;
      }
    };

    /** Waits for the oldest row's image and stages it; writes a batch when full. */
    const settleOldest = async (): Promise<void> => {
      const head = inFlight.shift();
      if (!head) return;
      await head.image;
      if (head.doc) staged.push(head.doc);
      if (staged.length >= BATCH) await flush();
    };
    const flush = async (): Promise<void> => {
      if (staged.length === 0) return;
      const docs = staged;
      staged = [];
      await staging.upsertMany(docs);
    };

    try {
      for await (const row of rows.find()) {
        const label = labels.get(row._id);
        if (split === 'train' && label === undefined) {
          run.records.unlabelled++;
          continue;
        }
        const t = performance.now();
        const text = this.preprocessor.text.prepare(row);
        textSeconds += (performance.now() - t) / 1000;
        const item: Item = { id: row._id, label: label ?? -1, textHash: text.textHash, hasImage: false, imageHash: null };
        run.records[split]++;
        let doc: StagedProduct | null = null;
        if (split === 'train') {
          items.push(item);
          doc = { _id: row._id, index: row.index, productid: row.productid, imageid: row.imageid, prdtypecode: item.label, ...text, image: null, imageHash: null };
        }
        let image = Promise.resolve();
        if (row.image) {
          imageStart ||= performance.now();
          image = limit(() => prepareImage(row, item, doc)).then(() => {
            onImageDone();
          });
          // Marked handled at once: a rejection surfaces when its row is settled, in order.
          image.catch(() => undefined);
        }
        inFlight.push({ item, doc, image });
        if (inFlight.length > ROWS_IN_FLIGHT) await settleOldest();
        // Text work is synchronous: let timers (the heartbeat) and I/O run every few rows.
        if (done % 100 === 99) await yieldToEventLoop();
        if (++done % BATCH === 0) {
          options.signal?.throwIfAborted();
          options.onProgress?.({ stage: 'prepare', phase: `text_${split}`, done, total, unit: 'rows' });
        }
      }
      while (inFlight.length > 0) await settleOldest();
      await flush();
    } catch (error) {
      // Image work in flight settles before the error surfaces, so none outlives the stage.
      await Promise.allSettled(inFlight.map((f) => f.image));
      options.signal?.throwIfAborted();
      throw error;
    }
    options.signal?.throwIfAborted();
    options.onProgress?.({ stage: 'prepare', phase: `text_${split}`, done, total, unit: 'rows' });
    run.timings.text += textSeconds;
    if (imageStart) run.timings.images += (performance.now() - imageStart) / 1000;
    run.throughput = {
      textsPerSecond: run.timings.text ? Math.round((run.records.train + run.records.test) / run.timings.text) : 0,
      imagesPerSecond: run.timings.images ? Math.round(run.images.processed / run.timings.images) : 0,
    };
    return items;

    function onImageDone(): void {
      options.onProgress?.({ stage: 'prepare', phase: `images_${split}`, done: ++imagesDone, total: imagesTotal, unit: 'images' });
    }
  }

  private summarise(run: PrepareRun, items: readonly Item[], assignment: SplitAssignment): void {
    const byId = new Map(items.map((i) => [i.id, i]));
    for (const item of items) {
      const split = assignment.splitOf.get(item.id);
      if (!split) continue;
      for (const summary of [run.splits[split], run.whole]) {
        summary.total++;
        summary.perClass[item.label] = (summary.perClass[item.label] ?? 0) + 1;
        if (item.hasImage) summary.withImage++;
      }
    }
    let gap = 0;
    for (const split of SPLITS) {
      const s = run.splits[split];
      for (const [label, n] of Object.entries(run.whole.perClass)) {
        const share = s.total ? (s.perClass[label] ?? 0) / s.total : 0;
        gap = Math.max(gap, Math.abs(share - n / run.whole.total) * 100);
      }
    }
    run.maxClassShareGapPp = Math.round(gap * 1000) / 1000;
    const shared = (key: (i: Item) => string | null) => {
      const counts = new Map<string, number>();
      for (const i of byId.values()) {
        const k = key(i);
        if (k) counts.set(k, (counts.get(k) ?? 0) + 1);
      }
      return [...counts.values()].filter((n) => n > 1).reduce((a, b) => a + b, 0);
    };
    run.duplicateGroups = {
      ...assignment.duplicateGroups,
      byText: shared((i) => i.textHash),
      byImage: shared((i) => i.imageHash),
    };
  }

  /**
   * Pass 3: reads the staged products back in order and writes each into its split collection of
   * the new generation (nothing of their text is held beyond a batch), then empties the staging.
   */
  private async write(
    writer: GenerationWriter,
    staging: DocumentCollection<StagedProduct>,
    total: number,
    splitOf: ReadonlyMap<string, SplitName>,
    groupOf: ReadonlyMap<string, number>,
    options: PrepareOptions,
  ): Promise<void> {
    const batches: Record<SplitName, LabeledProduct[]> = { train: [], val: [], test: [] };
    const flush = async (split: SplitName) => {
      const docs = batches[split];
      if (docs.length === 0) return;
      batches[split] = [];
      await writer.collection<LabeledProduct>(SPLIT_COLLECTIONS[split]).upsertMany(docs);
    };
    let done = 0;
    options.onProgress?.({ stage: 'prepare', phase: 'write', done, total, unit: 'rows' });
    for await (const doc of staging.find()) {
      const split = splitOf.get(doc._id);
      if (!split) continue;
      batches[split].push({ ...doc, split, group: groupOf.get(doc._id) ?? -1 });
      if (batches[split].length >= BATCH) await flush(split);
      if (done % 100 === 99) await yieldToEventLoop();
      if (++done % BATCH === 0) {
        options.signal?.throwIfAborted();
        options.onProgress?.({ stage: 'prepare', phase: 'write', done, total, unit: 'rows' });
      }
    }
    for (const split of SPLITS) await flush(split);
    options.onProgress?.({ stage: 'prepare', phase: 'write', done, total, unit: 'rows' });
    await staging.deleteMany();
  }
}

function toSplitItem(item: Item): SplitItem {
  const keys: string[] = [];
  if (item.textHash) keys.push(`t:${item.textHash}`);
  if (item.imageHash) keys.push(`i:${item.imageHash}`);
  return { id: item.id, label: item.label, groupKeys: keys };
}
