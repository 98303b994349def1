/**
 * Bounds on what the loader reads, so that a hostile or careless data folder (a 50 MB CSV field,
 * a 143 MB "JPEG", a decompression bomb) is refused quickly with a clear message instead of
 * costing gigabytes of memory. The defaults leave a wide margin over the real challenge data.
 */
export { DEFAULT_MAX_INPUT_PIXELS } from '../preprocess/image.js';

/** Default largest image file read from a data folder: 10 MiB (the challenge's JPEGs are 30-100 KB). */
export const DEFAULT_MAX_IMAGE_FILE_BYTES = 10 * 1024 * 1024;

/**
 * Default largest CSV record: 1 MiB, about 100 times the largest record of the real
 * `X_train_update.csv` sample (9.5 KB; 5 KB in `X_test_update.csv`). csv-parse counts the bytes
 * of the record's fields.
 */
export const DEFAULT_MAX_CSV_RECORD_BYTES = 1024 * 1024;

/** Size limits of one load; every field has a default. */
export interface LoadLimits {
  /** Largest image file in bytes (default {@link DEFAULT_MAX_IMAGE_FILE_BYTES}). */
  maxImageFileBytes: number;
  /** Largest CSV record in bytes (default {@link DEFAULT_MAX_CSV_RECORD_BYTES}). */
  maxCsvRecordBytes: number;
  /** Largest image in decoded pixels, checked from its header (default `DEFAULT_MAX_INPUT_PIXELS`). */
  maxImagePixels: number;
}

/** Formats a byte count for messages: `10 MiB`, `1.5 KiB`, `12 bytes`. */
export function formatBytes(n: number): string {
  if (n >= 1024 * 1024) return `${+(n / 1048576).toFixed(1)} MiB`;
  if (n >= 1024) return `${+(n / 1024).toFixed(1)} KiB`;
  return `${n} bytes`;
}

/** Checks that a limit is a positive integer; `name` is the option named in the error. */
export function checkLimit(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer, got ${String(value)}`);
  return value;
}
