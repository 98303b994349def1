import type { PreprocessingSpec } from '../../models/preprocessing-spec.js';
import type { LiveRun } from '../../stores/generations.js';
import type { BaseDocument } from '../../stores/types.js';
import type { RowId } from '../load/ids.js';
import type { RunStatus } from '../load/types.js';
import type { PreparedText } from '../preprocess/text.js';
import type { SplitName } from '../split/assign.js';

/**
 * A preprocessed labelled product, as stored in `labeled_train`, `labeled_val` and
 * `labeled_test`: the ids and label of the loaded row plus the preprocessor's text output.
 */
export interface LabeledProduct extends BaseDocument, PreparedText {
  /** Row index of the loaded product (same `_id` as in `preprocessed_x_train`). */
  index: RowId;
  /** Product id. */
  productid: RowId;
  /** Image id. */
  imageid: RowId;
  /** Label. */
  prdtypecode: number;
  /** Split it belongs to. */
  split: SplitName;
  /** Duplicate group (products sharing cleaned text or image hash share it). */
  group: number;
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
  productid: RowId;
  /** Original image key. */
  image: string;
  /** Why. */
  reason: string;
}

/**
 * The record of one prepare run, stored in `pipeline_metadata`. Its `_id` is also the split
 * generation it wrote, current once the run completed.
 */
export interface PrepareRun extends LiveRun {
  /** Always `prepare`. */
  kind: 'prepare';
  /** Outcome. */
  status: RunStatus;
  /** Whether its splits became the store's current splits. */
  committed: boolean;
  /** The data generation (load run) it read. */
  dataGeneration: string | null;
  /** Start (ISO-8601). */
  startedAt: string;
  /** End (ISO-8601), `null` while running. */
  finishedAt: string | null;
  /** Store URI. */
  store: string;
  /** Options in effect. */
  params: {
    /** Split seed. */
    seed: number;
    /** Validation fraction. */
    val: number;
    /** Held-out test fraction. */
    test: number;
    /** Side of the preprocessed images. */
    imageSize: number;
    /** Border colour tolerance of the image trim. */
    tolerance: number;
  };
  /**
   * The full preprocessing of its splits (text steps and options, image options), saved with
   * every model trained on them. Absent in runs recorded before specs existed: their text
   * preprocessing was the default one, their image options are in `params`.
   */
  preprocessing?: PreprocessingSpec;
  /** Records processed. */
  records: {
    /** Labelled training rows preprocessed. */
    train: number;
    /** Test rows preprocessed. */
    test: number;
    /** Training rows skipped for want of a label. */
    unlabelled: number;
  };
  /** Images processed. */
  images: {
    /** Images preprocessed and stored in this run. */
    processed: number;
    /** Images whose stored preprocessed version was still current. */
    reused: number;
    /** Images that could not be decoded. */
    failed: number;
  };
  /** Images that could not be preprocessed (at most 1,000 listed). */
  failures: PrepareFailure[];
  /** Per split: size and class counts. */
  splits: Record<SplitName, SplitSummary>;
  /** Class counts of all labelled products. */
  whole: SplitSummary;
  /** Largest gap, in percentage points, between a class's share in a split and in the whole. */
  maxClassShareGapPp: number;
  /** Duplicate groups kept together. */
  duplicateGroups: {
    /** Groups of two or more products. */
    groups: number;
    /** Products in those groups. */
    items: number;
    /** Size of the largest group. */
    largest: number;
    /** Groups whose products do not all have the same label. */
    mixedLabels: number;
    /** Products sharing their cleaned text with another product. */
    byText: number;
    /** Products sharing their image hash with another product. */
    byImage: number;
  };
  /** Seconds spent per phase. */
  timings: {
    /** Text preprocessing. */
    text: number;
    /** Image preprocessing, reads and writes included. */
    images: number;
    /** Split assignment. */
    split: number;
    /** Writing the split collections. */
    write: number;
    /** Whole run. */
    total: number;
  };
  /** Throughput of the phases. */
  throughput: {
    /** Texts preprocessed per second of text work. */
    textsPerSecond: number;
    /** Images preprocessed and stored per second of image work. */
    imagesPerSecond: number;
  };
  /** Errors that stopped the run. */
  errors: string[];
}
