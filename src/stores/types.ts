/**
 * Storage plugin interfaces.
 *
 * Two small interfaces — one for documents, one for image bytes — shaped by what the pipeline
 * stages need. Every stage talks to these, never to a concrete backend, so the embedded store and
 * MongoDB are interchangeable. Each implementation must pass the shared contract suites shipped
 * as `testStoreDriver` in `rakuten-pipeline/testing`.
 *
 * @module
 */

/** Any value that survives a JSON round trip unchanged. Dates are stored as ISO-8601 strings. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** The one field every stored document has: a string primary key. */
export interface BaseDocument {
  /** Primary key, unique within a collection. */
  _id: string;
}

/** A scalar that can be compared for equality in a {@link Filter}. */
export type Scalar = string | number | boolean | null;

/** Keys of `T` whose values are scalars (the only fields a filter, sort or index may use). */
export type ScalarKeys<T> = {
  [K in keyof T & string]: NonNullable<T[K]> extends Scalar ? K : never;
}[keyof T & string];

/** Matches one field: equal to a value, to any of several values, or (strings) starting with a prefix. */
export type FieldCondition<V> =
  | V
  | {
      /** Any of these values. */
      readonly $in: readonly V[];
    }
  | {
      /** A string starting with this prefix (a range on an index of the field). */
      readonly $prefix: string;
    };

/**
 * Equality filter on top-level scalar fields; all conditions must hold.
 * `null` matches both a `null` value and a missing field, as in MongoDB.
 */
export type Filter<T> = { readonly [K in ScalarKeys<T>]?: FieldCondition<NonNullable<T[K]> | null> };

/** Options of {@link DocumentCollection.find}. */
export interface FindOptions<T> {
  /** Sort by one scalar field (default: insertion order of the backend). */
  readonly sort?: {
    /** Field to sort by. */
    readonly field: ScalarKeys<T>;
    /** 1 ascending (default), -1 descending. */
    readonly direction?: 1 | -1;
  };
  /** Skip this many matching documents. */
  readonly skip?: number;
  /** Return at most this many documents. */
  readonly limit?: number;
}

/** What a write changed. A rewrite of identical content counts as `unchanged`, never twice. */
export interface WriteResult {
  /** Documents that did not exist before. */
  inserted: number;
  /** Documents that existed with different content and were replaced. */
  updated: number;
  /** Documents that existed with identical content (nothing written). */
  unchanged: number;
}

/** One named collection of documents of type `T`. */
export interface DocumentCollection<T extends BaseDocument> {
  /** Collection name, e.g. `preprocessed_x_train`. */
  readonly name: string;
  /**
   * Inserts or replaces documents by `_id`. Idempotent: writing the same documents again changes
   * nothing and reports them as unchanged. The embedded store applies a call atomically; MongoDB
   * applies it document by document, which is safe to retry.
   */
  upsertMany(docs: readonly T[]): Promise<WriteResult>;
  /** The document with this `_id`, if any. */
  get(id: string): Promise<T | undefined>;
  /** Streams matching documents; safe to interleave with writes to the same store. */
  find(filter?: Filter<T>, options?: FindOptions<T>): AsyncIterable<T>;
  /** Number of matching documents. */
  count(filter?: Filter<T>): Promise<number>;
  /** Deletes matching documents (all when no filter) and returns how many were deleted. */
  deleteMany(filter?: Filter<T>): Promise<number>;
  /**
   * Inserts `doc` only when no document has its `_id`; resolves `true` when it was inserted.
   * Atomic across processes: of concurrent callers with the same `_id`, exactly one gets `true`.
   * The primitive behind claims (a version number, a lock).
   */
  insertIfAbsent(doc: T): Promise<boolean>;
  /**
   * Replaces the document `id` by `next` only if it currently matches `expected` (every condition,
   * as in {@link DocumentCollection.find}); resolves `true` when it was replaced. Atomic across
   * processes: of concurrent callers expecting the same state, at most one succeeds. `next._id`
   * must be `id`. The primitive behind pointer switches (a committed generation, the champion).
   */
  compareAndSet(id: string, expected: Filter<T>, next: T): Promise<boolean>;
  /** Creates an index on these fields if it does not exist yet. */
  ensureIndex(fields: readonly ScalarKeys<T>[], options?: { readonly unique?: boolean }): Promise<void>;
}

/** A set of named document collections. */
export interface DocumentStore {
  /** The collection with this name; it is created on first write. */
  collection<T extends BaseDocument>(name: string): DocumentCollection<T>;
  /** Names of the collections that hold at least one document or index. */
  listCollections(): Promise<string[]>;
}

/** Metadata stored beside an image: flat and scalar so it can be indexed and filtered. */
export type ImageMetadata = Readonly<Record<string, Scalar>>;

/** What the store knows about one stored image. */
export interface ImageInfo {
  /** The key it is stored under, e.g. `raw/train/3f2a9c0d1e4b5a67/image_1_product_2.jpg`. */
  readonly key: string;
  /** Size in bytes. */
  readonly size: number;
  /** Hex SHA-256 of the bytes. */
  readonly sha256: string;
  /** MIME type, e.g. `image/jpeg`. */
  readonly contentType: string;
  /** Caller's metadata. */
  readonly metadata: ImageMetadata;
  /** When these bytes were stored (ISO-8601). */
  readonly storedAt: string;
}

/** Options of {@link ImageStore.put}. */
export interface PutImageOptions {
  /** Metadata to store beside the bytes (replaces any previous metadata). */
  readonly metadata?: ImageMetadata;
  /** MIME type (default `image/jpeg`). */
  readonly contentType?: string;
}

/** Filter of {@link ImageStore.list} and {@link ImageStore.count}. */
export interface ImageFilter {
  /** Only keys starting with this prefix. */
  readonly prefix?: string;
  /** Only images whose metadata fields equal these values. */
  readonly metadata?: ImageMetadata;
}

/** Outcome of {@link ImageStore.put}. */
export type PutOutcome = 'inserted' | 'updated' | 'unchanged';

/** Image bytes plus metadata, addressed by key. */
export interface ImageStore {
  /**
   * Stores bytes under `key`. Same bytes and metadata as already stored: `unchanged`, nothing
   * written. A replacement becomes visible only once fully written; the old bytes stay readable
   * until then.
   */
  put(key: string, bytes: Uint8Array, options?: PutImageOptions): Promise<PutOutcome>;
  /** The bytes stored under `key`, if any. */
  get(key: string): Promise<Buffer | undefined>;
  /** Size, hash and metadata of the image under `key`, if any, without reading its bytes. */
  stat(key: string): Promise<ImageInfo | undefined>;
  /** Streams the images matching the filter, ordered by key. */
  list(filter?: ImageFilter): AsyncIterable<ImageInfo>;
  /** Number of images matching the filter. */
  count(filter?: ImageFilter): Promise<number>;
  /** Deletes the image under `key`; returns whether it existed. */
  delete(key: string): Promise<boolean>;
  /** Indexes these metadata fields so filters on them stay fast. */
  ensureMetadataIndex(fields: readonly string[]): Promise<void>;
}

/** An opened store: documents, images and the connection that owns them. */
export interface Store {
  /** The URI or path it was opened from. */
  readonly uri: string;
  /** Name of the driver that opened it (`embedded`, `mongodb`, ...). */
  readonly driver: string;
  /** Document collections. */
  readonly documents: DocumentStore;
  /** Image bytes. */
  readonly images: ImageStore;
  /** Flushes and releases the store. Calling it twice is harmless. */
  close(): Promise<void>;
}

/** Options of {@link StoreDriver.open} and `openStore`. */
export interface OpenStoreOptions {
  /**
   * Create the store when there is none at the URI (default true). With `false`, a missing
   * store is a `StoreNotFoundError`, so that a typo in a path is not a new empty store.
   * Drivers that cannot tell (a MongoDB database exists once written to) may ignore it.
   */
  create?: boolean;
}

/** A storage backend that can open stores for the URIs it recognises. */
export interface StoreDriver {
  /**
   * Version of this specification the driver implements (`STORE_DRIVER_SPEC_VERSION`).
   * `registerStoreDriver` refuses a driver that declares none or one this package does not
   * support. The version changes only when this interface, or the behaviour the contract suite
   * requires of stores, changes incompatibly (a method added, a guarantee strengthened): a bump
   * means drivers must be updated and re-run against the new suite, and a package that supports
   * several versions adapts older drivers. Additions that drivers may ignore keep the version.
   */
  readonly specificationVersion: 'v1';
  /** Short name, e.g. `mongodb`. */
  readonly name: string;
  /** Whether this driver handles `uri`. */
  accepts(uri: string): boolean;
  /** Opens the store at `uri`, creating it if needed unless `options.create` is false. */
  open(uri: string, options?: OpenStoreOptions): Promise<Store>;
}
