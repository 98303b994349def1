import { DEFAULTS } from '../../options.js';
import { randomBytes } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import pLimit from 'p-limit';
import { COLLECTIONS, rawImageKey } from '../../collections.js';
import { checkOptions, LoadParams } from '../options.js';
import { withRate, type ProgressListener, type StageRunOptions } from '../../progress.js';
import { collectGenerations, GenerationWriter, liveRuns, RunRecorder } from '../../stores/generations.js';
import { sha256Hex } from '../../stores/hash.js';
import type { DocumentCollection, Filter, Store } from '../../stores/types.js';
import { collectRawImages } from '../collect.js';
import type { PrepareRun } from '../prepare/types.js';
import { ImageTooLargeError } from '../preprocess/image.js';
import { isKnownPrdtypecode } from './classes.js';
import { CsvSyntaxError, openCsv, type CsvFile, type CsvRecord } from './csv.js';
import { escapeControls } from './escape.js';
import { isWithin, readBoundedFile } from './files.js';
import { idText, parseId, type RowId } from './ids.js';
import { checkImage, imageJoinKey, indexImageFolder, type ImageFolderIndex } from './image-folder.js';
import {
  checkLimit,
  DEFAULT_MAX_CSV_RECORD_BYTES,
  DEFAULT_MAX_IMAGE_FILE_BYTES,
  DEFAULT_MAX_INPUT_PIXELS,
  type LoadLimits,
} from './limits.js';
import { resolveLayout, type ChallengeLayout } from './layout.js';
import { Quarantine } from './quarantine.js';
import type {
  ImageCounts,
  LabelRow,
  LoadRun,
  LoadSplit,
  ProductRow,
  QuarantineEntry,
  RowCounts,
  RunFile,
} from './types.js';

/** Options of {@link DataLoader.load}: {@link LoadParams} (the schema shared with the API and the CLI) plus progress and cancellation. */
export interface LoadOptions extends LoadParams, StageRunOptions {}

/** Reads product data into a store: what the pipeline needs of a loader ({@link DataLoader} is the challenge-layout one). */
export interface ProductLoader {
  /** Loads a data folder; resolves with the run record, which is also stored in `data_pipeline`. */
  load(options: LoadOptions): Promise<LoadRun>;
}

/** A load that could not complete; `run` is the stored record of it. */
export class LoadError extends Error {
  /** The run record, with status `failed` or `cancelled`. */
  readonly run: LoadRun;
  /** Creates the error. */
  constructor(message: string, run: LoadRun, options?: ErrorOptions) {
    super(message, options);
    this.name = 'LoadError';
    this.run = run;
  }
}

const X_COLUMNS = ['designation', 'description', 'productid', 'imageid'] as const;
const Y_COLUMNS = ['prdtypecode'] as const;
const INTEGER = /^\d+$/;
const ENCODING_NAMES = { 'utf-8': 'UTF-8', 'utf-16le': 'UTF-16LE', 'utf-16be': 'UTF-16BE', 'windows-1252': 'Windows-1252 (Latin-1)' } as const;

function emptyRows(): RowCounts {
  return { read: 0, stored: 0, inserted: 0, updated: 0, unchanged: 0, removed: 0, rejected: 0 };
}
function emptyImages(): ImageCounts {
  return { withImage: 0, missing: 0, undecodable: 0, orphan: 0, inserted: 0, updated: 0, unchanged: 0 };
}

interface Label {
  code: number;
  row: number;
  line: number;
  matched: boolean;
}

/** Tells whether a header matches: any first (index) column name, then the expected names. */
function headerProblem(header: string[], expected: readonly string[]): string | undefined {
  const got = header.slice(1).map((h) => h.trim().toLowerCase());
  if (header.length === expected.length + 1 && expected.every((name, i) => got[i] === name)) return undefined;
  return `expected header ",${expected.join(',')}", found ${JSON.stringify(header.join(','))}`;
}

/**
 * Loads a folder in the Rakuten challenge layout: streams the CSVs, joins X and Y by the index
 * column, checks and stores each row's image, and records the run in `data_pipeline`.
 *
 * The rows go into a new data generation that becomes current in one step when the whole folder
 * is loaded, so the store then matches the folder exactly (rows it no longer has are gone and
 * counted as `removed`); a load that fails, is cancelled or killed leaves the previous data as it
 * was. Re-running on the same folder reports every row as unchanged.
 *
 * @example
 * ```ts
 * const store = await openStore('.rakuten-store');
 * const run = await new DataLoader(store).load({ dataDir: 'data/rakuten' });
 * console.log(run.status, run.labelledTrainRows, run.quarantineTotal);
 * ```
 */
export class DataLoader implements ProductLoader {
  /** Creates a loader writing to `store`. */
  constructor(private readonly store: Store) {}

  async load(options: LoadOptions): Promise<LoadRun> {
    checkOptions('DataLoader.load', LoadParams, options);
    const run = new LoadJob(this.store, options);
    return run.execute();
  }
}

/** State of one load; one instance per call. */
class LoadJob {
  private readonly q: Quarantine;
  private readonly started = Date.now();
  private readonly run: LoadRun;
  private readonly runs: DocumentCollection<LoadRun>;
  private readonly recorder: RunRecorder<LoadRun>;
  private writer: GenerationWriter | undefined;
  /** Keys of the originals this load's rows refer to (its generation's, once committed). */
  private readonly imageKeys = new Set<string>();
  private readonly limit: ReturnType<typeof pLimit>;
  private readonly batchSize: number;
  private readonly progress: ProgressListener;
  private readonly limits: LoadLimits;
  private layout: ChallengeLayout | undefined;
  /** The data folder's real path: image symlinks must resolve below it. */
  private realDir = '';

  constructor(
    private readonly store: Store,
    private readonly options: LoadOptions,
  ) {
    this.q = new Quarantine(options.quarantineLimit ?? DEFAULTS.quarantineLimit);
    this.runs = store.documents.collection<LoadRun>(COLLECTIONS.runs);
    this.limit = pLimit(options.imageConcurrency ?? 8);
    this.batchSize = options.batchSize ?? DEFAULTS.batchSize;
    this.progress = withRate(options.onProgress) ?? (() => undefined);
    this.limits = {
      maxImageFileBytes: checkLimit('maxImageFileBytes', options.maxImageFileBytes ?? DEFAULT_MAX_IMAGE_FILE_BYTES),
      maxCsvRecordBytes: checkLimit('maxCsvRecordBytes', options.maxCsvRecordBytes ?? DEFAULT_MAX_CSV_RECORD_BYTES),
      maxImagePixels: checkLimit('maxImagePixels', options.maxImagePixels ?? DEFAULT_MAX_INPUT_PIXELS),
    };
    const startedAt = new Date(this.started).toISOString();
    this.run = {
      _id: `load-${startedAt.replace(/[:.]/g, '-')}-${randomBytes(3).toString('hex')}`,
      kind: 'load',
      status: 'running',
      committed: false,
      startedAt,
      finishedAt: null,
      seconds: 0,
      source: path.resolve(options.dataDir),
      store: store.uri,
      files: [],
      rows: { train: emptyRows(), labels: emptyRows(), test: emptyRows() },
      images: { train: emptyImages(), test: emptyImages() },
      labelledTrainRows: 0,
      warnings: [],
      errors: [],
      quarantine: [],
      quarantineTotal: 0,
      quarantineByReason: {},
    };
    this.recorder = new RunRecorder(this.runs, this.run);
  }

  async execute(): Promise<LoadRun> {
    await this.save();
    try {
      this.writer = await GenerationWriter.begin(this.store, 'data', this.run._id);
      await this.collect();
      this.layout = resolveLayout(this.options.dataDir);
      const layout = this.layout;
      this.realDir = realpathSync(layout.dir);
      await this.describeFiles(layout);
      // Start parsing X while the labels are read: the two parsers run on separate cores.
      const xTrain = this.openCsv(layout.xTrain);
      xTrain.catch(() => undefined); // awaited below; avoid an unhandled rejection meanwhile
      try {
        const labels = await this.readLabels(layout.yTrain);
        const trainImages = await this.indexImages(layout.imageTrain, 'image_train');
        const trainSeen = new Set<RowId>();
        await this.loadProducts('train', layout.xTrain, await xTrain, trainImages, labels, trainSeen);
        this.reportUnmatchedLabels(labels, trainSeen);
        this.reportOrphans('train', trainImages);
      } finally {
        await (await xTrain.catch(() => undefined))?.close();
      }
      if (this.run.files.find((f) => f.role === 'x_test')?.present) {
        const testImages = await this.indexImages(layout.imageTest, 'image_test');
        const xTest = await this.openCsv(layout.xTest);
        try {
          await this.loadProducts('test', layout.xTest, xTest, testImages, undefined, new Set());
        } finally {
          await xTest.close();
        }
        this.reportOrphans('test', testImages);
      } else {
        this.run.warnings.push(`${this.rel(layout.xTest)} is missing: no test rows loaded`);
      }
      this.run.labelledTrainRows = this.run.rows.train.stored;
      await this.countRemoved();
      this.options.signal?.throwIfAborted();
      await this.recorder.assertAlive();
      await this.writer.commit({
        counts: {
          [COLLECTIONS.xTrain]: this.run.rows.train.stored,
          [COLLECTIONS.yTrain]: this.run.rows.labels.stored,
          [COLLECTIONS.xTest]: this.run.rows.test.stored,
        },
      });
      this.run.committed = true;
      this.finish(this.q.total > 0 || this.run.warnings.length > 0 ? 'completed_with_warnings' : 'completed');
      await this.recorder.close();
      // The generation this one replaced stays for readers already on it; older ones go now.
      await this.collect().catch(() => undefined);
      this.run.images.collected = await collectRawImages(this.store, this.run._id, this.imageKeys).catch(() => 0);
      if (this.run.images.collected > 0) await this.recorder.close();
      return this.run;
    } catch (error) {
      const cancelled = this.options.signal?.aborted === true;
      const message = escapeControls((error as Error).message);
      this.run.errors.push(message);
      this.finish(cancelled ? 'cancelled' : 'failed');
      if (!this.run.committed) {
        await this.writer?.discard().catch(() => undefined);
        this.run.collected = true;
      }
      await this.recorder.close();
      throw new LoadError(cancelled ? `Load cancelled: ${message}` : message, this.run, { cause: error });
    }
  }

  /** Deletes the generations of earlier loads that no reader needs any more. */
  private async collect(): Promise<void> {
    // Splits being prepared read a data generation: it stays until that prepare ends.
    const reading = new Set<string>();
    const prepares = this.store.documents.collection<PrepareRun>(COLLECTIONS.pipelineMetadata);
    for await (const p of liveRuns(prepares)) if (p.dataGeneration) reading.add(p.dataGeneration);
    reading.add(this.run._id);
    await collectGenerations(this.store, 'data', this.runs, reading);
  }

  /** Rows of the previous generation that this one does not have. */
  private async countRemoved(): Promise<void> {
    const previous = (name: string) => this.writer?.previous(name);
    const pairs: [RowCounts, string][] = [
      [this.run.rows.train, COLLECTIONS.xTrain],
      [this.run.rows.labels, COLLECTIONS.yTrain],
      [this.run.rows.test, COLLECTIONS.xTest],
    ];
    for (const [counts, name] of pairs) {
      const before = (await previous(name)?.count()) ?? 0;
      counts.removed = Math.max(0, before - counts.updated - counts.unchanged);
    }
  }

  private finish(status: LoadRun['status']): void {
    this.run.status = status;
    this.run.finishedAt = new Date().toISOString();
    this.run.seconds = (Date.now() - this.started) / 1000;
    this.run.quarantine = this.q.entries;
    this.run.quarantineTotal = this.q.total;
    this.run.quarantineByReason = this.q.byReason;
  }

  private async save(): Promise<void> {
    await this.recorder.save();
  }

  private readonly relNames = new Map<string, string>();
  private rel(file: string): string {
    let name = this.relNames.get(file);
    if (name === undefined) {
      name = this.layout ? path.relative(this.layout.dir, file) || file : file;
      this.relNames.set(file, name);
    }
    return name;
  }

  private async describeFiles(layout: ChallengeLayout): Promise<void> {
    const entries: [RunFile['role'], string][] = [
      ['x_train', layout.xTrain],
      ['y_train', layout.yTrain],
      ['x_test', layout.xTest],
      ['image_train', layout.imageTrain],
      ['image_test', layout.imageTest],
    ];
    for (const [role, file] of entries) {
      const info = await stat(file).catch(() => undefined);
      this.run.files.push({ role, path: file, present: info !== undefined, size: info?.size ?? 0 });
    }
  }

  private report(entry: Omit<QuarantineEntry, 'file'> & { file: string }): void {
    // File names and field values come from the data: no control character reaches a terminal.
    this.q.add({ ...entry, file: escapeControls(this.rel(entry.file)), message: escapeControls(entry.message) });
  }

  /** Opens a CSV of the folder with the run's record limit, noting a non-UTF-8 encoding in the run. */
  private openCsv(file: string): Promise<CsvFile> {
    const name = this.rel(file);
    const entry = this.run.files.find((f) => f.path === file);
    if (entry) entry.encoding = 'utf-8'; // until the parser finds otherwise
    return openCsv(file, {
      label: name,
      maxRecordBytes: this.limits.maxCsvRecordBytes,
      onEncoding: (encoding) => {
        if (entry) entry.encoding = encoding;
        const how = encoding === 'windows-1252' ? 'it is not valid UTF-8' : 'it starts with a UTF-16 byte order mark';
        this.run.warnings.push(`${escapeControls(name)} is decoded as ${ENCODING_NAMES[encoding]}: ${how} (save it as UTF-8 to silence this)`);
      },
    });
  }

  private async readLabels(file: string): Promise<Map<RowId, Label>> {
    const counts = this.run.rows.labels;
    const labels = new Map<RowId, Label>();
    const csv = await this.openCsv(file);
    const problem = headerProblem(csv.header, Y_COLUMNS);
    if (problem) {
      await csv.close();
      throw new Error(`${this.rel(file)}: unusable label file, ${problem}`);
    }
    for await (const r of csv.records) {
      counts.read++;
      const reject = (field: string, reason: QuarantineEntry['reason'], message: string) => {
        counts.rejected++;
        this.report({ file, row: r.row, line: r.line, field, reason, message, action: 'rejected' });
      };
      if (r.fields.length !== 2) {
        reject('', 'bad_column_count', `expected 2 fields, found ${r.fields.length}`);
        continue;
      }
      const [indexText, code] = r.fields as [string, string];
      const index = parseId(indexText, 'index');
      if (!index.ok) {
        reject('', index.reason, index.message);
      } else if (!INTEGER.test(code.trim()) || code.trim().length > 9) {
        reject('prdtypecode', 'invalid_label', `prdtypecode ${JSON.stringify(code)} is not an integer code`);
      } else if (!this.options.allowUnknownClasses && !isKnownPrdtypecode(Number(code))) {
        reject(
          'prdtypecode', 'unknown_label',
          `prdtypecode ${Number(code)} is not one of the 27 challenge codes (allowUnknownClasses / --allow-unknown-classes accepts it)`,
        );
      } else if (labels.has(index.id)) {
        reject('', 'duplicate_index', `index ${index.id} already labelled on row ${labels.get(index.id)?.row}`);
      } else {
        labels.set(index.id, { code: Number(code), row: r.row, line: r.line, matched: false });
      }
    }
    return labels;
  }

  private async indexImages(dir: string, label: string): Promise<ImageFolderIndex | undefined> {
    // The folder itself may be a symlink: its target must stay inside the data folder too.
    const real = await realpath(dir).catch(() => undefined);
    if (real !== undefined && !isWithin(this.realDir, real)) {
      this.run.warnings.push(`${label}/ is a symlink to ${escapeControls(real)}, outside the data folder: rows are loaded without images`);
      return undefined;
    }
    const index = await indexImageFolder(dir);
    const file = this.run.files.find((f) => f.path === dir);
    if (!index) {
      this.run.warnings.push(`${label}/ is missing: rows are loaded without images`);
      return undefined;
    }
    if (file) file.size = index.files.size + index.unexpected.length;
    if (index.unexpected.length > 0) {
      this.run.warnings.push(
        `${label}/ holds ${index.unexpected.length} entries not named image_<imageid>_product_<productid>.jpg ` +
          `(ignored), e.g. ${index.unexpected.slice(0, 3).map((n) => escapeControls(JSON.stringify(n))).join(', ')}`,
      );
    }
    return index;
  }

  private async loadProducts(
    split: LoadSplit,
    file: string,
    csv: CsvFile,
    images: ImageFolderIndex | undefined,
    labels: Map<RowId, Label> | undefined,
    seenIndexes: Set<RowId>,
  ): Promise<void> {
    const counts = split === 'train' ? this.run.rows.train : this.run.rows.test;
    const imageCounts = this.run.images[split];
    const problem = headerProblem(csv.header, X_COLUMNS);
    if (problem) {
      const message = `unusable file, ${problem}`;
      if (split === 'train') throw new Error(`${this.rel(file)}: ${message}`);
      this.report({ file, row: 0, line: 1, field: 'header', reason: 'bad_header', message, action: 'file_skipped' });
      return;
    }
    const writer = this.writer;
    if (!writer) throw new Error('load: no generation to write into');
    const rowsName = split === 'train' ? COLLECTIONS.xTrain : COLLECTIONS.xTest;
    const rows = writer.collection<ProductRow>(rowsName);
    const labelColl = writer.collection<LabelRow>(COLLECTIONS.yTrain);
    const previousRows = writer.previous<ProductRow>(rowsName);
    const previousLabels = writer.previous<LabelRow>(COLLECTIONS.yTrain);
    const seenProducts = new Map<RowId, number>();
    const total = this.run.files.find((f) => f.path === file)?.size ?? 0;
    let batch: { row: ProductRow; label?: LabelRow; image?: Promise<void> }[] = [];

    const flush = async (bytes: number) => {
      if (batch.length === 0) return;
      // Image writes of the batch settle before a cancellation surfaces, so none outlives the
      // stage (the caller may close the store as soon as it returns).
      const settled = await Promise.allSettled(batch.map((b) => b.image));
      this.options.signal?.throwIfAborted();
      for (const s of settled) if (s.status === 'rejected') throw s.reason;
      const productDocs = batch.map((b) => b.row);
      await rows.upsertMany(productDocs);
      addChanges(counts, await compareWith(previousRows, productDocs));
      counts.stored += batch.length;
      const labelDocs = batch.flatMap((b) => (b.label ? [b.label] : []));
      if (labelDocs.length > 0) {
        await labelColl.upsertMany(labelDocs);
        addChanges(this.run.rows.labels, await compareWith(previousLabels, labelDocs));
        this.run.rows.labels.stored += labelDocs.length;
      }
      batch = [];
      this.progress({ stage: 'load', phase: `x_${split}`, done: bytes, total, unit: 'bytes' });
    };

    let lastBytes = 0;
    try {
      for await (const r of csv.records) {
        counts.read++;
        lastBytes = r.bytes;
        const parsed = this.parseProduct(file, r, seenIndexes, seenProducts);
        if (!parsed) {
          counts.rejected++;
          continue;
        }
        let label: LabelRow | undefined;
        if (labels) {
          const l = labels.get(parsed.index);
          if (!l) {
            counts.rejected++;
            this.report({
              file, row: r.row, line: r.line, field: '', reason: 'missing_label',
              message: `no label for index ${parsed.index} in ${this.rel(this.layout?.yTrain ?? '')}`, action: 'rejected',
            });
            continue;
          }
          l.matched = true;
          label = { _id: parsed._id, index: parsed.index, productid: parsed.productid, prdtypecode: l.code };
        }
        const entry: (typeof batch)[number] = { row: parsed, ...(label ? { label } : {}) };
        entry.image = this.attachImage(split, file, r, parsed, images, imageCounts);
        batch.push(entry);
        if (batch.length >= this.batchSize) await flush(r.bytes);
      }
      await flush(lastBytes);
    } catch (error) {
      // Image writes started for this batch end before the error surfaces: none may outlive the stage.
      await Promise.allSettled(batch.map((b) => b.image));
      if (error instanceof CsvSyntaxError) {
        this.report({
          file, row: counts.read + 1, line: error.line, field: '', reason: 'csv_syntax', message: error.message,
          action: 'file_skipped',
        });
      }
      throw error;
    }
  }

  /** Validates one X record; reports and returns undefined when it cannot be stored. */
  private parseProduct(
    file: string,
    r: CsvRecord,
    seenIndexes: Set<RowId>,
    seenProducts: Map<RowId, number>,
  ): ProductRow | undefined {
    const reject = (field: string, reason: QuarantineEntry['reason'], message: string) => {
      this.report({ file, row: r.row, line: r.line, field, reason, message, action: 'rejected' });
      return undefined;
    };
    if (r.fields.length !== 5) return reject('', 'bad_column_count', `expected 5 fields, found ${r.fields.length}`);
    const [indexText, designation, description, productText, imageText] = r.fields as [string, string, string, string, string];
    const ids: [string, string][] = [['', indexText], ['productid', productText], ['imageid', imageText]];
    const parsed: RowId[] = [];
    for (const [field, value] of ids) {
      const id = parseId(value, field || 'index');
      if (!id.ok) return reject(field, id.reason, id.message);
      if (field === '') {
        // Seen even if the row is rejected below: its label then belongs to a reported row, not an unknown one.
        if (seenIndexes.has(id.id)) return reject('', 'duplicate_index', `index ${id.id} appears twice in this file`);
        seenIndexes.add(id.id);
      }
      parsed.push(id.id);
    }
    const [index, productid, imageid] = parsed as [RowId, RowId, RowId];
    const firstRow = seenProducts.get(productid);
    if (firstRow !== undefined) {
      return reject('productid', 'duplicate_productid', `productid ${productid} already on row ${firstRow}; kept the first`);
    }
    seenProducts.set(productid, r.row);
    return { _id: idText(index), index, designation, description, productid, imageid, image: null };
  }

  /** Starts checking and storing a row's image; sets `row.image` when it is stored. */
  private attachImage(
    split: LoadSplit,
    file: string,
    r: CsvRecord,
    row: ProductRow,
    images: ImageFolderIndex | undefined,
    counts: ImageCounts,
  ): Promise<void> | undefined {
    if (!images) {
      counts.missing++;
      return undefined;
    }
    const joinKey = imageJoinKey(row.imageid, row.productid);
    const name = images.files.get(joinKey);
    images.files.delete(joinKey); // what remains afterwards are orphans
    const folder = split === 'train' ? 'image_train' : 'image_test';
    if (!name) {
      counts.missing++;
      if (this.q.full) this.q.count('missing_image');
      else this.report({
        file, row: r.row, line: r.line, field: 'imageid', reason: 'missing_image',
        message: `${folder}/image_${row.imageid}_product_${row.productid}.jpg not found; row kept without image`, action: 'kept',
      });
      return undefined;
    }
    const dir = split === 'train' ? this.layout?.imageTrain : this.layout?.imageTest;
    return this.limit(async () => {
      if (this.options.signal?.aborted) return;
      const kept = (reason: QuarantineEntry['reason'], message: string) => {
        this.report({ file, row: r.row, line: r.line, field: 'imageid', reason, message: `${message}; row kept without image`, action: 'kept' });
      };
      // Bounded: regular files inside the data folder only, at most maxImageFileBytes read.
      const read = await readBoundedFile(path.join(dir ?? '', name), this.realDir, this.limits.maxImageFileBytes, `${folder}/${name}`).catch(
        (error: unknown) => ({ ok: false, reason: 'unreadable_image', message: `${folder}/${name} cannot be read (${(error as Error).message})` }) as const,
      );
      if (!read.ok) {
        counts.undecodable++;
        kept(read.reason, read.message);
        return;
      }
      const bytes = read.bytes;
      let check;
      try {
        check = await checkImage(bytes, this.limits.maxImagePixels);
      } catch (error) {
        counts.undecodable++;
        const message = (error as Error).message;
        if (error instanceof ImageTooLargeError) kept('image_too_large', `${folder}/${name}: ${message}`);
        else kept('undecodable_image', `${folder}/${name} cannot be decoded (${message})`);
        return;
      }
      // Content-addressed: new bytes for a file name get a new key, so a load that fails or is
      // cancelled never changes the bytes behind the committed rows.
      const key = rawImageKey(split, sha256Hex(bytes), name);
      const outcome = await this.store.images.put(key, bytes, {
        metadata: {
          split, index: row.index, productid: row.productid, imageid: row.imageid,
          width: check.width, height: check.height, format: check.format,
        },
      });
      counts[outcome]++;
      counts.withImage++;
      row.image = key;
      this.imageKeys.add(key);
    });
  }

  private reportUnmatchedLabels(labels: Map<RowId, Label>, seenIndexes: Set<RowId>): void {
    const file = this.layout?.yTrain ?? '';
    for (const [index, l] of labels) {
      if (l.matched || seenIndexes.has(index)) continue;
      this.run.rows.labels.rejected++;
      this.report({
        file, row: l.row, line: l.line, field: '', reason: 'label_for_unknown_row',
        message: `label for index ${index}, which is not a row of ${this.rel(this.layout?.xTrain ?? '')}`, action: 'rejected',
      });
    }
  }

  private reportOrphans(split: LoadSplit, images: ImageFolderIndex | undefined): void {
    if (!images || images.files.size === 0) return;
    const names = [...images.files.values()].sort();
    this.run.images[split].orphan = names.length;
    this.run.warnings.push(
      `image_${split}/ holds ${names.length} images of products with no row in the CSV (not loaded), e.g. ${names
        .slice(0, 3)
        .join(', ')}`,
    );
  }
}

/** How a batch compares with the same rows of the previous generation. */
async function compareWith<T extends { _id: string }>(
  previous: DocumentCollection<T> | undefined,
  docs: readonly T[],
): Promise<Pick<RowCounts, 'inserted' | 'updated' | 'unchanged'>> {
  if (!previous) return { inserted: docs.length, updated: 0, unchanged: 0 };
  const before = new Map<string, string>();
  for await (const doc of previous.find({ _id: { $in: docs.map((d) => d._id) } } as unknown as Filter<T>)) {
    before.set(doc._id, JSON.stringify(doc));
  }
  const out = { inserted: 0, updated: 0, unchanged: 0 };
  for (const doc of docs) {
    const old = before.get(doc._id);
    if (old === undefined) out.inserted++;
    else if (old === JSON.stringify(doc)) out.unchanged++;
    else out.updated++;
  }
  return out;
}

function addChanges(counts: RowCounts, changes: Pick<RowCounts, 'inserted' | 'updated' | 'unchanged'>): void {
  counts.inserted += changes.inserted;
  counts.updated += changes.updated;
  counts.unchanged += changes.unchanged;
}

/** @deprecated Renamed {@link DataLoader}. */
export const ChallengeDataLoader = DataLoader;
/** @deprecated Renamed {@link DataLoader}. */
export type ChallengeDataLoader = DataLoader;
