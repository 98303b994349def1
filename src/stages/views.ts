/**
 * Read access to the committed state of a store: the loaded rows and the prepared splits of the
 * current generations. Everything that reads pipeline data goes through here, so no reader ever
 * sees the partial output of a running, failed or killed stage.
 *
 * @module
 */
import { COLLECTIONS } from '../collections.js';
import { generationCollection, pipelineState, type GenerationPointer } from '../stores/generations.js';
import type { DocumentCollection, Store } from '../stores/types.js';
import type { LabelRow, ProductRow } from './load/types.js';
import type { LabeledProduct } from './prepare/types.js';
import type { SplitName } from './split/assign.js';

/** The loaded rows of one data generation. */
export interface DataView {
  /** Training rows. */
  readonly xTrain: DocumentCollection<ProductRow>;
  /** Labels. */
  readonly yTrain: DocumentCollection<LabelRow>;
  /** Test rows. */
  readonly xTest: DocumentCollection<ProductRow>;
}

/**
 * The loaded rows of a data generation: the committed one by default. Rows of an interrupted or
 * superseded load are never visible here.
 */
export function dataView(store: Store, generation: string): DataView {
  return {
    xTrain: generationCollection<ProductRow>(store, COLLECTIONS.xTrain, generation),
    yTrain: generationCollection<LabelRow>(store, COLLECTIONS.yTrain, generation),
    xTest: generationCollection<ProductRow>(store, COLLECTIONS.xTest, generation),
  };
}

/** The three split collections of a split generation. */
export function splitView(store: Store, generation: string): Record<SplitName, DocumentCollection<LabeledProduct>> {
  return {
    train: generationCollection<LabeledProduct>(store, COLLECTIONS.labeledTrain, generation),
    val: generationCollection<LabeledProduct>(store, COLLECTIONS.labeledVal, generation),
    test: generationCollection<LabeledProduct>(store, COLLECTIONS.labeledTest, generation),
  };
}

/** The committed data generation and a view of its rows. */
export interface CurrentData {
  /** The `data` pointer: generation, commit time, counts. */
  pointer: GenerationPointer;
  /** Its rows. */
  rows: DataView;
}

/** The committed split generation and a view of its three splits. */
export interface CurrentSplits {
  /** The `prepare` pointer: generation, data generation it came from, counts. */
  pointer: GenerationPointer;
  /** Its splits. */
  splits: Record<SplitName, DocumentCollection<LabeledProduct>>;
}

/** The committed data and its rows; throws a clear error when no load has completed. */
export async function currentData(store: Store): Promise<CurrentData> {
  const pointer = (await pipelineState(store)).data;
  if (!pointer) throw new Error(`No loaded data in ${store.uri}: run \`rakuten-pipeline load\` first`);
  return { pointer, rows: dataView(store, pointer.generation) };
}

/**
 * The committed splits; throws a clear error when no prepare has completed (an interrupted or
 * failed prepare is never used).
 */
export async function currentSplits(store: Store): Promise<CurrentSplits> {
  const pointer = (await pipelineState(store)).prepare;
  if (!pointer) {
    throw new Error(`No prepared splits in ${store.uri}: run \`rakuten-pipeline prepare\` first (only a completed prepare counts)`);
  }
  return { pointer, splits: splitView(store, pointer.generation) };
}

/**
 * The loaded rows of `generation`, by default of the committed load.
 *
 * @example
 * ```ts
 * const { xTrain } = await dataCollections(store);
 * console.log(await xTrain.count());
 * ```
 */
export async function dataCollections(store: Store, generation?: string): Promise<DataView> {
  return generation === undefined ? (await currentData(store)).rows : dataView(store, generation);
}

/** The split collections of `generation`, by default of the committed prepare. */
export async function splitCollections(
  store: Store,
  generation?: string,
): Promise<Record<SplitName, DocumentCollection<LabeledProduct>>> {
  return generation === undefined ? (await currentSplits(store)).splits : splitView(store, generation);
}

/**
 * Every product of a committed split, by row index, checked against the count its prepare
 * committed (a split that lost documents is an error, never a smaller data set).
 */
export async function readCommittedSplit(
  collection: DocumentCollection<LabeledProduct>,
  pointer: GenerationPointer,
): Promise<LabeledProduct[]> {
  const out: LabeledProduct[] = [];
  for await (const doc of collection.find({}, { sort: { field: 'index' } })) out.push(doc);
  const expected = pointer.counts[collection.name];
  if (expected !== undefined && out.length !== expected) {
    throw new Error(`${collection.name} of ${pointer.generation} holds ${out.length} products, ${expected} were committed: run prepare again`);
  }
  return out;
}
