import { COLLECTIONS, RAW_IMAGE_PREFIX } from '../collections.js';
import type { LoadRun, ProductRow } from './load/types.js';
import type { Store } from '../stores/types.js';

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
  /** Documents per collection. */
  collections: Record<string, number>;
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
  /** The most recent load run, if any. */
  lastLoad: LoadRun | null;
}

async function splitImages(store: Store, collection: string, split: string): Promise<SplitImageStatus> {
  const rows = store.documents.collection<ProductRow>(collection);
  const total = await rows.count();
  const missing = await rows.count({ image: null });
  const stored = await store.images.count({ prefix: `${RAW_IMAGE_PREFIX}${split}/` });
  return { rows: total, withImage: total - missing, missing, stored };
}

/** Counts what the store holds and finds the last load run. */
export async function getDataStatus(store: Store): Promise<DataStatus> {
  const collections: Record<string, number> = {};
  for (const name of await store.documents.listCollections()) {
    collections[name] = await store.documents.collection(name).count();
  }
  const runs = store.documents.collection<LoadRun>(COLLECTIONS.runs);
  let lastLoad: LoadRun | null = null;
  for await (const run of runs.find({ kind: 'load' }, { sort: { field: 'startedAt', direction: -1 }, limit: 1 })) lastLoad = run;
  const labels = store.documents.collection(COLLECTIONS.yTrain);
  return {
    store: store.uri,
    driver: store.driver,
    collections,
    labelledTrainRows: Math.min(await labels.count(), collections[COLLECTIONS.xTrain] ?? 0),
    testRows: collections[COLLECTIONS.xTest] ?? 0,
    images: {
      train: await splitImages(store, COLLECTIONS.xTrain, 'train'),
      test: await splitImages(store, COLLECTIONS.xTest, 'test'),
      total: await store.images.count(),
    },
    lastLoad,
  };
}
