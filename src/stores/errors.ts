/**
 * Errors the storage layer raises on its own account (driver errors pass through unchanged).
 *
 * @module
 */

/** Stored bytes no longer match the SHA-256 recorded when they were written. */
export class IntegrityError extends Error {
  /** Key of the corrupt object. */
  readonly key: string;
  /** Hash recorded at write time. */
  readonly expected: string;
  /** Hash of the bytes read. */
  readonly actual: string;

  /** Creates the error for the object under `key`. */
  constructor(key: string, expected: string, actual: string, options?: ErrorOptions) {
    super(`Stored object ${key} is corrupt: its SHA-256 is ${actual}, ${expected} was recorded when it was written`, options);
    this.name = 'IntegrityError';
    this.key = key;
    this.expected = expected;
    this.actual = actual;
  }
}
