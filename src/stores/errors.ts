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

/** No store at the URI, and it was opened with `create: false` (see `OpenStoreOptions`). */
export class StoreNotFoundError extends Error {
  /** The URI (or resolved path) that holds no store. */
  readonly uri: string;
  /** Creates the error. */
  constructor(uri: string, message = `no store at ${uri}`) {
    super(message);
    this.name = 'StoreNotFoundError';
    this.uri = uri;
  }
}
