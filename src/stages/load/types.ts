import type { LiveRun } from '../../stores/generations.js';
import type { BaseDocument } from '../../stores/types.js';
import type { CsvEncoding } from './encoding.js';
import type { RowId } from './ids.js';

/** Which part of the challenge data a row comes from. */
export type LoadSplit = 'train' | 'test';

/** A product row as loaded from `X_train_update.csv` / `X_test_update.csv`. */
export interface ProductRow extends BaseDocument {
  /** Value of the CSV's unnamed index column, the join key with the labels (a digit string beyond 2^53). */
  index: RowId;
  /** Product title. */
  designation: string;
  /** HTML description, `''` when absent. */
  description: string;
  /** Product id (a digit string beyond 2^53). */
  productid: RowId;
  /** Image id (a digit string beyond 2^53). */
  imageid: RowId;
  /** Key of the stored original image, `null` when it is missing or undecodable. */
  image: string | null;
}

/** A label row from `Y_train_CVw08PX.csv`. */
export interface LabelRow extends BaseDocument {
  /** Index of the product row it labels. */
  index: RowId;
  /** Product id of that row (copied for convenience). */
  productid: RowId;
  /** Product type code. */
  prdtypecode: number;
}

/** What happened to an input that was reported. */
export type QuarantineAction =
  /** The row was not stored. */
  | 'rejected'
  /** The row was stored, without the faulty part (e.g. without its image). */
  | 'kept'
  /** The whole file was skipped. */
  | 'file_skipped';

/** Why an input was reported. */
export type QuarantineReason =
  | 'bad_header'
  | 'bad_column_count'
  | 'missing_id'
  | 'invalid_id'
  | 'duplicate_index'
  | 'duplicate_productid'
  | 'invalid_label'
  /** A `prdtypecode` that is not one of the 27 challenge codes (unless `allowUnknownClasses`). */
  | 'unknown_label'
  | 'missing_label'
  | 'label_for_unknown_row'
  | 'missing_image'
  | 'undecodable_image'
  /** An image file above the byte limit, or announcing more pixels than allowed. */
  | 'image_too_large'
  /** An image name that is a FIFO, a device or a directory. */
  | 'image_not_regular_file'
  /** An image symlink whose target is outside the data folder. */
  | 'image_outside_data_folder'
  /** An image file that cannot be read (permissions, I/O error). */
  | 'unreadable_image'
  | 'csv_syntax';

/** One bad input, located precisely enough to fix it. */
export interface QuarantineEntry {
  /** File name, relative to the data folder. */
  file: string;
  /** 1-based data row (record) number in that file, header excluded; 0 for the header. */
  row: number;
  /** 1-based line where the record starts (records may span lines). */
  line: number;
  /** Column or field concerned. */
  field: string;
  /** Machine-readable reason. */
  reason: QuarantineReason;
  /** Human-readable explanation. */
  message: string;
  /** What the loader did about it. */
  action: QuarantineAction;
}

/**
 * State of a run. `interrupted`: its process ended while it ran (killed, crashed); nothing it wrote
 * was committed.
 */
export type RunStatus = 'running' | 'completed' | 'completed_with_warnings' | 'failed' | 'cancelled' | 'interrupted';

/** Counts of one CSV file's rows. */
export interface RowCounts {
  /** Records read, header excluded. */
  read: number;
  /** Rows stored (inserted + updated + unchanged). */
  stored: number;
  /** Rows not present before. */
  inserted: number;
  /** Rows whose content changed. */
  updated: number;
  /** Rows already stored identically. */
  unchanged: number;
  /** Rows of the previous load that the source no longer has (gone from the new generation). */
  removed: number;
  /** Rows rejected into quarantine. */
  rejected: number;
}

/** Counts of one split's images. */
export interface ImageCounts {
  /** Stored rows whose image was found and stored. */
  withImage: number;
  /** Stored rows with no image file. */
  missing: number;
  /** Image files that could not be decoded. */
  undecodable: number;
  /** Image files in the folder with no matching row (reported, not loaded). */
  orphan: number;
  /** Images newly written to the image store. */
  inserted: number;
  /** Images whose stored bytes or metadata changed. */
  updated: number;
  /** Images already stored identically. */
  unchanged: number;
}

/** A file the run read. */
export interface RunFile {
  /** Role of the file in the challenge layout. */
  role: 'x_train' | 'y_train' | 'x_test' | 'image_train' | 'image_test';
  /** Path as given (absolute). */
  path: string;
  /** Whether it exists. */
  present: boolean;
  /** Size in bytes (files) or number of entries (folders). */
  size: number;
  /** Text encoding detected in a CSV file (absent for folders and files not read). */
  encoding?: CsvEncoding;
}

/**
 * The record of one load, stored in `data_pipeline` and returned by {@link DataLoader.load}. Its
 * `_id` is also the data generation it wrote, current once the run completed.
 */
export interface LoadRun extends LiveRun {
  /** Always `load`. */
  kind: 'load';
  /** Outcome. */
  status: RunStatus;
  /** Whether its data became the store's current data (the pointer was switched to it). */
  committed: boolean;
  /** Start time (ISO-8601). */
  startedAt: string;
  /** End time (ISO-8601), `null` while running. */
  finishedAt: string | null;
  /** Wall time in seconds. */
  seconds: number;
  /** Data folder. */
  source: string;
  /** Store URI (password redacted). */
  store: string;
  /** Files read. */
  files: RunFile[];
  /** Row counts per CSV file. */
  rows: {
    /** `X_train_update.csv`. */
    train: RowCounts;
    /** The label file. */
    labels: RowCounts;
    /** `X_test_update.csv`. */
    test: RowCounts;
  };
  /** Image counts per split. */
  images: {
    /** `image_train/`. */
    train: ImageCounts;
    /** `image_test/`. */
    test: ImageCounts;
    /** Stored originals no committed row refers to any more, deleted after the commit. */
    collected?: number;
  };
  /** Training rows stored with their label (equals `rows.train.stored`). */
  labelledTrainRows: number;
  /** Summaries of conditions that did not stop the run. */
  warnings: string[];
  /** Errors that stopped (part of) the run. */
  errors: string[];
  /** Reported inputs, at most `quarantineLimit` of them (see `quarantineTotal`). */
  quarantine: QuarantineEntry[];
  /** Number of reported inputs, including those beyond the stored list. */
  quarantineTotal: number;
  /** Number of reported inputs by reason. */
  quarantineByReason: Partial<Record<QuarantineReason, number>>;
}
