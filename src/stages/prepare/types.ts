import type { BaseDocument } from '../../stores/types.js';
import type { RunStatus } from '../load/types.js';
import type { Language } from '../preprocess/text.js';
import type { SplitName } from '../split/assign.js';

/** A preprocessed labelled product, as stored in `labeled_train`, `labeled_val` and `labeled_test`. */
export interface LabeledProduct extends BaseDocument {
  /** Row index of the loaded product (same `_id` as in `preprocessed_x_train`). */
  index: number;
  /** Product id. */
  productid: number;
  /** Image id. */
  imageid: number;
  /** Label. */
  prdtypecode: number;
  /** Split it belongs to. */
  split: SplitName;
  /** Duplicate group (products sharing cleaned text or image hash share it). */
  group: number;
  /** Cleaned designation. */
  designation: string;
  /** Cleaned description. */
  description: string;
  /** Cleaned designation and description joined. */
  text: string;
  /** Detected language. */
  language: Language;
  /** Stemmed designation tokens. */
  designationTokens: string[];
  /** Stemmed description tokens. */
  descriptionTokens: string[];
  /** SHA-1 of the cleaned text (`null` when empty). */
  textHash: string | null;
  /** Key of the preprocessed image in the image store, `null` when none. */
  image: string | null;
  /** Perceptual hash of the image, `null` when none. */
  imageHash: string | null;
}

/** Class counts of one split. */
export interface SplitSummary {
  /** Products in the split. */
  total: number;
  /** Products per `prdtypecode`. */
  perClass: Record<string, number>;
  /** Products with a preprocessed image. */
  withImage: number;
}

/** One product whose image could not be preprocessed. */
export interface PrepareFailure {
  /** Product id. */
  productid: number;
  /** Original image key. */
  image: string;
  /** Why. */
  reason: string;
}

/** The record of one prepare run, stored in `pipeline_metadata`. */
export interface PrepareRun extends BaseDocument {
  /** Always `prepare`. */
  kind: 'prepare';
  /** Outcome. */
  status: RunStatus;
  /** Start (ISO-8601). */
  startedAt: string;
  /** End (ISO-8601), `null` while running. */
  finishedAt: string | null;
  /** Store URI. */
  store: string;
  /** Options in effect. */
  params: { seed: number; val: number; test: number; imageSize: number; tolerance: number };
  /** Records processed. */
  records: { train: number; test: number; unlabelled: number };
  /** Images processed. */
  images: { processed: number; reused: number; failed: number };
  /** Images that could not be preprocessed (at most 1,000 listed). */
  failures: PrepareFailure[];
  /** Per split: size and class counts. */
  splits: Record<SplitName, SplitSummary>;
  /** Class counts of all labelled products. */
  whole: SplitSummary;
  /** Largest gap, in percentage points, between a class's share in a split and in the whole. */
  maxClassShareGapPp: number;
  /** Duplicate groups kept together. */
  duplicateGroups: { groups: number; items: number; largest: number; mixedLabels: number; byText: number; byImage: number };
  /** Seconds spent per phase. */
  timings: { text: number; images: number; split: number; write: number; total: number };
  /** Throughput of the phases. */
  throughput: { textsPerSecond: number; imagesPerSecond: number };
  /** Errors that stopped the run. */
  errors: string[];
}
