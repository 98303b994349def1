/**
 * Invariants of a store after a fault (a killed CLI, a cancelled job, two writers at once),
 * checked by the fault-injection suite (test/faults/).
 *
 * Two parts:
 *  - READERS (the only functions that know how the store lays out the pipeline's state): what is
 *    committed — data rows, split collections, prepare provenance, run records, model registry,
 *    GridFS files. Switch these when the storage layout changes; nothing else reads the store.
 *  - CHECKS: what must hold whatever the layout, each returning a list of violations (empty when
 *    all is well) so that a failure names every broken invariant at once.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { MongoClient } from 'mongodb';
import { COLLECTIONS } from '../../src/collections.js';
import { BUILT_IN_MODELS } from '../../src/models/builtin.js';
import { inputsFromLabeled } from '../../src/stages/model-inputs.js';
import { ModelRegistry, type ModelVersion } from '../../src/models/registry.js';
import type { LabelRow, LoadRun, ProductRow } from '../../src/stages/load/types.js';
import type { LabeledProduct, PrepareRun } from '../../src/stages/prepare/types.js';
import { isInterrupted, pipelineState, type LiveRun, type PipelineState } from '../../src/stores/generations.js';
import { dataCollections, splitCollections } from '../../src/stages/views.js';
import type { Store } from '../../src/stores/types.js';

// ---------------------------------------------------------------------------------------------
// READERS
// ---------------------------------------------------------------------------------------------

/** The loaded data as the pipeline sees it (the committed data). */
export interface DataView {
  xTrain: ProductRow[];
  yTrain: LabelRow[];
  xTest: ProductRow[];
}

/** The split collections as the pipeline sees them (the committed split). */
export interface SplitView {
  train: LabeledProduct[];
  val: LabeledProduct[];
  test: LabeledProduct[];
}

async function readAll<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of iterable) out.push(x);
  return out;
}

/** READER: the committed loaded data (empty before the first completed load). */
export async function readData(store: Store): Promise<DataView> {
  if (!(await pipelineState(store)).data) return { xTrain: [], yTrain: [], xTest: [] };
  const rows = await dataCollections(store);
  return { xTrain: await readAll(rows.xTrain.find()), yTrain: await readAll(rows.yTrain.find()), xTest: await readAll(rows.xTest.find()) };
}

/** READER: the committed split collections (empty before the first completed prepare). */
export async function readSplits(store: Store): Promise<SplitView> {
  if (!(await pipelineState(store)).prepare) return { train: [], val: [], test: [] };
  const s = await splitCollections(store);
  return { train: await readAll(s.train.find()), val: await readAll(s.val.find()), test: await readAll(s.test.find()) };
}

/** READER: id of the prepare run whose splits are the committed ones (null when there are none). */
export async function committedPrepareRun(store: Store): Promise<string | null> {
  return (await pipelineState(store)).prepare?.generation ?? null;
}

/** READER: the committed pointers and what they claim. */
export async function readPointers(store: Store): Promise<PipelineState> {
  return pipelineState(store);
}

/** A run record as `status` would show it. */
export interface RunView {
  id: string;
  kind: string;
  status: string;
}

/** READER: every load and prepare run record, with the status `status` shows (a dead owner: `interrupted`). */
export async function readRuns(store: Store): Promise<RunView[]> {
  const loads = await readAll(store.documents.collection<LoadRun>(COLLECTIONS.runs).find());
  const prepares = await readAll(store.documents.collection<PrepareRun>(COLLECTIONS.pipelineMetadata).find());
  return [...loads, ...prepares].map((r) => ({ id: r._id, kind: r.kind, status: isInterrupted(r as LiveRun) ? 'interrupted' : r.status }));
}

/** READER: a registry able to load every built-in model kind. */
export function registryOf(store: Store): ModelRegistry {
  return new ModelRegistry(store, BUILT_IN_MODELS);
}

/** READER: GridFS file names stored more than once (MongoDB only; the embedded store keys images uniquely). */
export async function duplicateGridFsFiles(storeUri: string): Promise<{ filename: string; n: number }[]> {
  if (!storeUri.startsWith('mongodb')) return [];
  const client = await new MongoClient(storeUri).connect();
  try {
    const rows = await client
      .db()
      .collection('fs.files')
      .aggregate<{ _id: string; n: number }>([{ $group: { _id: '$filename', n: { $sum: 1 } } }, { $match: { n: { $gt: 1 } } }])
      .toArray();
    return rows.map((r) => ({ filename: r._id, n: r.n }));
  } finally {
    await client.close();
  }
}

// ---------------------------------------------------------------------------------------------
// SOURCE FILES: what a correct load of a folder stores
// ---------------------------------------------------------------------------------------------

/** One good row of a source folder. */
export interface SourceRow {
  index: number;
  productid: number;
  imageid: number;
  designation: string;
}

/** The good rows of a folder in the challenge layout, computed from the CSVs alone. */
export interface SourceData {
  dir: string;
  /** Good X_train rows by id (the index as a string). */
  xTrain: Map<string, SourceRow>;
  /** Labels of good X_train rows by id. */
  labels: Map<string, number>;
  /** Good X_test rows by id. */
  xTest: Map<string, SourceRow>;
}

const INTEGER = /^\d+$/;

function goodRows(records: string[][]): Map<string, SourceRow> {
  const out = new Map<string, SourceRow>();
  const seenIndex = new Set<string>();
  const seenProduct = new Set<string>();
  for (const r of records) {
    if (r.length !== 5) continue;
    const [index = '', designation = '', , productid = '', imageid = ''] = r.map((f) => f.trim());
    if (![index, productid, imageid].every((v) => INTEGER.test(v))) continue;
    if (seenIndex.has(index)) continue;
    seenIndex.add(index);
    if (seenProduct.has(productid)) continue; // duplicate productid: the first row is kept
    seenProduct.add(productid);
    out.set(String(Number(index)), { index: Number(index), productid: Number(productid), imageid: Number(imageid), designation: r[1] ?? designation });
  }
  return out;
}

/** Reads the expected content of a challenge-layout folder (demo catalogues: no image faults needed). */
export async function readSource(dir: string): Promise<SourceData> {
  const csv = async (name: string) => parse(await readFile(path.join(dir, name), 'utf8'), { from_line: 2, relax_column_count: true, bom: true }) as string[][];
  const x = goodRows(await csv('X_train_update.csv'));
  const labels = new Map<string, number>();
  const seen = new Set<string>();
  for (const [index = '', code = ''] of await csv('Y_train_CVw08PX.csv')) {
    if (!INTEGER.test(index.trim()) || !INTEGER.test(code.trim()) || seen.has(index.trim())) continue;
    seen.add(index.trim());
    const id = String(Number(index));
    if (x.has(id)) labels.set(id, Number(code));
  }
  for (const id of [...x.keys()]) if (!labels.has(id)) x.delete(id); // X rows without a label are rejected
  return { dir, xTrain: x, labels, xTest: goodRows(await csv('X_test_update.csv')) };
}

// ---------------------------------------------------------------------------------------------
// CHECKS
// ---------------------------------------------------------------------------------------------

function setDiff<T>(a: Iterable<T>, b: ReadonlySet<T> | ReadonlyMap<T, unknown>): T[] {
  return [...a].filter((x) => !b.has(x));
}

function sample<T>(xs: readonly T[]): string {
  return `${xs.length}${xs.length ? ` (e.g. ${xs.slice(0, 3).map(String).join(', ')})` : ''}`;
}

function duplicates(ids: readonly string[]): string[] {
  const seen = new Set<string>();
  return ids.filter((id) => (seen.has(id) ? true : (seen.add(id), false)));
}

/** Violations of "the stored data is exactly the good rows of `source`". */
export function dataViolations(data: DataView, source: SourceData): string[] {
  const out: string[] = [];
  const rows = (label: string, docs: readonly ProductRow[], expected: Map<string, SourceRow>) => {
    if (docs.length !== expected.size) out.push(`${label}: ${docs.length} rows stored, the source has ${expected.size} good rows`);
    const dup = duplicates(docs.map((d) => d._id));
    if (dup.length) out.push(`${label}: ids stored twice: ${sample(dup)}`);
    const ids = new Set(docs.map((d) => d._id));
    const missing = setDiff(expected.keys(), ids);
    const extra = setDiff(ids, expected);
    if (missing.length) out.push(`${label}: good rows missing: ${sample(missing)}`);
    if (extra.length) out.push(`${label}: rows not in the source: ${sample(extra)}`);
    const wrong = docs.filter((d) => {
      const s = expected.get(d._id);
      return s && (s.productid !== d.productid || s.imageid !== d.imageid || s.designation !== d.designation);
    });
    if (wrong.length) out.push(`${label}: rows whose content is not the source's: ${sample(wrong.map((d) => d._id))}`);
  };
  rows('X train', data.xTrain, source.xTrain);
  rows('X test', data.xTest, source.xTest);
  if (data.yTrain.length !== source.labels.size) out.push(`Y train: ${data.yTrain.length} labels stored, the source has ${source.labels.size}`);
  const wrongLabels = data.yTrain.filter((l) => source.labels.get(l._id) !== l.prdtypecode);
  if (wrongLabels.length) out.push(`Y train: labels not the source's: ${sample(wrongLabels.map((l) => l._id))}`);
  return out;
}

/** Violations of "the splits are disjoint and cover exactly the labelled products of `source`". */
export function splitViolations(splits: SplitView, source: SourceData): string[] {
  const out: string[] = [];
  const names = ['train', 'val', 'test'] as const;
  const owner = new Map<string, string>();
  const overlaps = new Map<string, number>();
  for (const name of names) {
    const dup = duplicates(splits[name].map((d) => d._id));
    if (dup.length) out.push(`split ${name}: ids twice: ${sample(dup)}`);
    for (const d of splits[name]) {
      const other = owner.get(d._id);
      if (other && other !== name) overlaps.set(`${other}+${name}`, (overlaps.get(`${other}+${name}`) ?? 0) + 1);
      else owner.set(d._id, name);
      if (d.split !== name) out.push(`split ${name}: product ${d._id} says it is in ${d.split}`);
    }
  }
  for (const [pair, n] of overlaps) out.push(`splits overlap: ${n} products in both ${pair.replace('+', ' and ')}`);
  const total = names.reduce((a, n) => a + splits[n].length, 0);
  if (total !== source.labels.size) out.push(`splits hold ${total} rows for ${source.labels.size} labelled products of ${path.basename(source.dir)}`);
  const missing = setDiff(source.labels.keys(), owner);
  const extra = setDiff(owner.keys(), source.labels);
  if (missing.length) out.push(`labelled products in no split: ${sample(missing)}`);
  if (extra.length) out.push(`split rows that are not labelled products of the source: ${sample(extra)}`);
  const wrong = names.flatMap((n) =>
    splits[n].filter((d) => {
      const s = source.xTrain.get(d._id);
      return s && (s.productid !== d.productid || source.labels.get(d._id) !== d.prdtypecode);
    }),
  );
  if (wrong.length) out.push(`split rows whose product or label is not the source's: ${sample(wrong.map((d) => d._id))}`);
  return out;
}

function classCounts(docs: readonly LabeledProduct[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const d of docs) out[d.prdtypecode] = (out[d.prdtypecode] ?? 0) + 1;
  return out;
}

function sameCounts(a: Record<string, number>, b: Record<string, number>): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].every((k) => (a[k] ?? 0) === (b[k] ?? 0));
}

/** What a CLI `train --json` reported. */
export interface ReportedTraining {
  model: ModelVersion;
}

/**
 * Violations of the model registry: versions distinct, each loadable and predicting; the
 * champion a complete version; every reported training stored as reported, under its own number.
 * With `trainedOnCurrentSplits`, the newest version must have been trained on the committed splits
 * and name their prepare run.
 */
export async function modelViolations(
  store: Store,
  options: { reported?: readonly ReportedTraining[]; trainedOnCurrentSplits?: boolean; minVersions?: number } = {},
): Promise<string[]> {
  const out: string[] = [];
  const registry = registryOf(store);
  const versions = await registry.list();
  const numbers = versions.map((v) => v.version);
  const dup = duplicates(numbers.map(String));
  if (dup.length) out.push(`model versions listed twice: ${dup.join(', ')}`);
  if (options.minVersions !== undefined && versions.length < options.minVersions) {
    out.push(`${versions.length} model versions stored, expected at least ${options.minVersions}`);
  }
  const splits = await readSplits(store);
  const probe = await inputsFromLabeled([...splits.val, ...splits.train].slice(0, 8), store.images, { withImages: false });
  for (const v of versions) {
    try {
      const model = await registry.load(v);
      const probs = await model.predict(probe);
      const ok = probs.length === probe.length && probs.every((p) => p.length === v.classes.length && Math.abs(p.reduce((a, b) => a + b, 0) - 1) < 1e-3);
      if (!ok) out.push(`model v${v.version} predicts malformed probabilities`);
    } catch (error) {
      out.push(`model v${v.version} does not load: ${(error as Error).message}`);
    }
  }
  const champion = await registry.championVersion();
  if (versions.length > 0 && champion === null) out.push('versions exist but no champion');
  if (champion !== null && !numbers.includes(champion)) out.push(`champion points at v${champion}, which is not a stored version`);
  const reported = options.reported ?? [];
  const reportedNumbers = reported.map((r) => r.model.version);
  const dupReported = duplicates(reportedNumbers.map(String));
  if (dupReported.length) out.push(`two trainings both reported version(s) ${dupReported.join(', ')}`);
  for (const r of reported) {
    const stored = versions.find((v) => v.version === r.model.version);
    if (!stored) out.push(`reported v${r.model.version} is not stored`);
    else if (stored.createdAt !== r.model.createdAt || JSON.stringify(stored.files) !== JSON.stringify(r.model.files)) {
      out.push(`reported v${r.model.version} (created ${r.model.createdAt}) was overwritten by another training (created ${stored.createdAt})`);
    }
  }
  if (options.trainedOnCurrentSplits) {
    const latest = versions.at(-1);
    const prepare = await committedPrepareRun(store);
    if (!latest) out.push('no model version after training');
    else {
      if (latest.prepareRun !== prepare) out.push(`v${latest.version} names prepare run ${latest.prepareRun}, the committed splits are ${prepare}`);
      const pointer = (await readPointers(store)).prepare;
      if (latest.dataGeneration !== undefined && pointer && latest.dataGeneration !== pointer.dataGeneration) {
        out.push(`v${latest.version} names data generation ${latest.dataGeneration}, its splits were made from ${pointer.dataGeneration}`);
      }
      if (!sameCounts(latest.dataDistribution.train, classCounts(splits.train)) || !sameCounts(latest.dataDistribution.val, classCounts(splits.val))) {
        out.push(`v${latest.version} was not trained on the committed splits (its class counts differ from theirs)`);
      }
    }
  }
  return out;
}

/** Violations of "no run record is left `running`" (after a later command completed). */
export async function runningViolations(store: Store, kinds: readonly string[] = ['load', 'prepare']): Promise<string[]> {
  const running = (await readRuns(store)).filter((r) => kinds.includes(r.kind) && r.status === 'running');
  return running.map((r) => `${r.kind} run ${r.id} still reads as running`);
}

/** Violations of "no GridFS file name stored twice". */
export async function gridFsViolations(storeUri: string): Promise<string[]> {
  const dup = await duplicateGridFsFiles(storeUri);
  return dup.length ? [`GridFS file names stored more than once: ${sample(dup.map((d) => `${d.filename} x${d.n}`))}`] : [];
}

/** Which of several candidate sources the stored data is exactly (undefined: none of them). */
export function matchingSource(data: DataView, candidates: readonly SourceData[]): SourceData | undefined {
  return candidates.find((c) => dataViolations(data, c).length === 0);
}

/** Everything at once. `sources`: the folders whose load may be the committed one (the last completed). */
export async function storeViolations(
  store: Store,
  storeUri: string,
  options: {
    sources: readonly SourceData[];
    /** Splits must exist (a prepare completed). */
    splits?: boolean;
    /** Run kinds that must not be left running. */
    notRunning?: readonly string[];
  } & Parameters<typeof modelViolations>[1],
): Promise<string[]> {
  const out: string[] = [];
  const data = await readData(store);
  const source = matchingSource(data, options.sources);
  if (!source) {
    const first = options.sources[0];
    const detail = options.sources.map((s) => `${path.basename(s.dir)}: ${dataViolations(data, s).join('; ')}`).join(' | ');
    out.push(`stored data is not exactly the good rows of ${options.sources.length > 1 ? 'any of the loaded folders' : path.basename(first?.dir ?? '')}: ${detail}`);
  }
  const pointers = await readPointers(store);
  if (pointers.data) {
    const counted = { [COLLECTIONS.xTrain]: data.xTrain.length, [COLLECTIONS.yTrain]: data.yTrain.length, [COLLECTIONS.xTest]: data.xTest.length };
    for (const [name, n] of Object.entries(counted)) {
      if (pointers.data.counts[name] !== undefined && pointers.data.counts[name] !== n) out.push(`data pointer says ${pointers.data.counts[name]} documents in ${name}, ${n} read`);
    }
  }
  if (options.splits !== false) {
    const splits = await readSplits(store);
    const against = source ?? options.sources.at(-1);
    if (against) out.push(...splitViolations(splits, against));
    if (pointers.prepare && pointers.data && pointers.prepare.dataGeneration !== pointers.data.generation) {
      out.push(`the splits were prepared from data generation ${pointers.prepare.dataGeneration}, the committed data is ${pointers.data.generation}`);
    }
    if (pointers.prepare) {
      const counted = { [COLLECTIONS.labeledTrain]: splits.train.length, [COLLECTIONS.labeledVal]: splits.val.length, [COLLECTIONS.labeledTest]: splits.test.length };
      for (const [name, n] of Object.entries(counted)) {
        if (pointers.prepare.counts[name] !== undefined && pointers.prepare.counts[name] !== n) out.push(`prepare pointer says ${pointers.prepare.counts[name]} documents in ${name}, ${n} read`);
      }
    }
  }
  out.push(...(await modelViolations(store, options)));
  out.push(...(await runningViolations(store, options.notRunning ?? ['load', 'prepare'])));
  out.push(...(await gridFsViolations(storeUri)));
  return out;
}
