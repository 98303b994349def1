import { COLLECTIONS, RAW_IMAGE_PREFIX } from '../collections.js';
import { GENERATION_COLLECTIONS, generationCollection, isInterrupted, pipelineState, type PipelineState } from '../stores/generations.js';
import type { DocumentCollection, Store } from '../stores/types.js';
import type { LoadRun, ProductRow } from './load/types.js';
import type { PrepareRun } from './prepare/types.js';
import { dataView } from './views.js';

/** Image counts of one split's stored rows. */
export interface SplitImageStatus {
  /** Stored rows. */
  rows: number;
  /** Rows whose image is stored. */
  withImage: number;
  /** Rows without an image. */
  missing: number;
  /** Original images stored for this split. */
  stored: number;
}

/** What a store holds, as reported by `rakuten-pipeline status`. */
export interface DataStatus {
  /** Store URI (password redacted). */
  store: string;
  /** Storage driver name. */
  driver: string;
  /** Documents per collection; for the loaded rows and the splits, those of the committed generation. */
  collections: Record<string, number>;
  /** The committed generations of the loaded data and of the splits. */
  state: PipelineState;
  /** Labelled training rows (training rows that have a stored label). */
  labelledTrainRows: number;
  /** Test rows. */
  testRows: number;
  /** Images per split. */
  images: {
    /** Training rows and their images. */
    train: SplitImageStatus;
    /** Test rows and their images. */
    test: SplitImageStatus;
    /** All images in the store (originals and derived ones). */
    total: number;
  };
  /** The most recent load run, if any (`interrupted` when its process ended while it ran). */
  lastLoad: LoadRun | null;
  /** The most recent prepare run, if any (`interrupted` when its process ended while it ran). */
  lastPrepare: PrepareRun | null;
  /** Conditions the user should act on (e.g. rows written by an older release, not readable). */
  warnings: string[];
}

async function splitImages(store: Store, rows: DocumentCollection<ProductRow> | undefined, split: string): Promise<SplitImageStatus> {
  const total = (await rows?.count()) ?? 0;
  const missing = (await rows?.count({ image: null })) ?? 0;
  const stored = await store.images.count({ prefix: `${RAW_IMAGE_PREFIX}${split}/` });
  return { rows: total, withImage: total - missing, missing, stored };
}

/** Counts what the store holds (its committed data) and finds the last load run. */
export async function getDataStatus(store: Store): Promise<DataStatus> {
  const state = await pipelineState(store);
  const generationOf = new Map<string, string | undefined>();
  for (const name of GENERATION_COLLECTIONS.data) generationOf.set(name, state.data?.generation);
  for (const name of GENERATION_COLLECTIONS.prepare) generationOf.set(name, state.prepare?.generation);
  const collections: Record<string, number> = {};
  for (const name of await store.documents.listCollections()) {
    if (!generationOf.has(name)) collections[name] = await store.documents.collection(name).count();
    else {
      const generation = generationOf.get(name);
      collections[name] = generation ? await generationCollection(store, name, generation).count() : 0;
    }
  }
  const runs = store.documents.collection<LoadRun>(COLLECTIONS.runs);
  let lastLoad: LoadRun | null = null;
  for await (const run of runs.find({ kind: 'load' }, { sort: { field: 'startedAt', direction: -1 }, limit: 1 })) lastLoad = run;
  // A killed load never wrote its end: show it as what it is.
  if (lastLoad && isInterrupted(lastLoad)) lastLoad = { ...lastLoad, status: 'interrupted' };
  let lastPrepare: PrepareRun | null = null;
  const prepares = store.documents.collection<PrepareRun>(COLLECTIONS.pipelineMetadata);
  for await (const run of prepares.find({ kind: 'prepare' }, { sort: { field: 'startedAt', direction: -1 }, limit: 1 })) lastPrepare = run;
  if (lastPrepare && isInterrupted(lastPrepare)) lastPrepare = { ...lastPrepare, status: 'interrupted' };
  const rows = state.data ? dataView(store, state.data.generation) : undefined;
  const warnings: string[] = [];
  if (!state.data && (await store.documents.collection(COLLECTIONS.xTrain).count()) > 0) {
    // Written before generations existed (0.1): no pointer, so nothing is readable as committed data.
    warnings.push(`${COLLECTIONS.xTrain} holds rows from an older release that are not part of any committed load: run \`rakuten-pipeline load\` again`);
  }
  const trainRows = collections[COLLECTIONS.xTrain] ?? 0;
  return {
    store: store.uri,
    driver: store.driver,
    collections,
    state,
    labelledTrainRows: Math.min((await rows?.yTrain.count()) ?? 0, trainRows),
    testRows: collections[COLLECTIONS.xTest] ?? 0,
    images: {
      train: await splitImages(store, rows?.xTrain, 'train'),
      test: await splitImages(store, rows?.xTest, 'test'),
      total: await store.images.count(),
    },
    lastLoad,
    lastPrepare,
    warnings,
  };
}
