/**
 * The in-memory store: the reference implementation of the storage plugin interfaces, and a
 * store for tests and throw-away runs.
 *
 * @module
 */
import { StoreNotFoundError } from '../errors.js';
import type { OpenStoreOptions, Store, StoreDriver } from '../types.js';
import { type CollectionsData, MemoryDocumentStore } from './documents.js';
import { type ImagesData, MemoryImageStore } from './images.js';

/** URI scheme of the memory driver. */
const SCHEME = 'memory://';

/** Everything stored under one name. */
interface MemoryData {
  readonly collections: CollectionsData;
  readonly images: ImagesData;
}

/**
 * The stores of the process, by name. Kept on `globalThis` under a registered symbol so that two
 * copies of this module (the ESM and the CommonJS build loaded side by side) share them.
 */
const stores: Map<string, MemoryData> = ((globalThis as Record<symbol, unknown>)[Symbol.for('rakuten-pipeline.memory-stores.v1')] ??=
  new Map<string, MemoryData>()) as Map<string, MemoryData>;

/** The name in a `memory://<name>` URI; throws on another scheme or an empty name. */
function nameOf(uri: string): string {
  if (!uri.startsWith(SCHEME)) throw new TypeError(`Not a memory store URI: ${JSON.stringify(uri)} (expected memory://<name>)`);
  const name = uri.slice(SCHEME.length);
  if (name.trim() === '') throw new TypeError(`Memory store URI without a name: ${JSON.stringify(uri)} (expected memory://<name>)`);
  return name;
}

/**
 * Opens the in-memory store `memory://<name>`, creating it when the process has none of that name
 * (unless `options.create` is false: then a {@link StoreNotFoundError}).
 *
 * Semantics:
 * - A name is per process: every store opened on `memory://a` in this process sees the same
 *   documents and images (as two connections to one database would); another process, a job
 *   worker or the CLI, has its own, empty, `memory://a`.
 * - `close()` releases that one store object (its calls then throw); the data stays under the
 *   name, for the next open, until {@link dropMemoryStore} discards it (or the process ends).
 * - Documents are kept as JSON and images as private copies of their bytes: what is read back is
 *   always a fresh copy, and nothing outside can alter what is stored (so `IntegrityError` never
 *   occurs). Every call checks and writes without awaiting in between, so each call is atomic,
 *   `insertIfAbsent` and `compareAndSet` included, whichever store object the callers hold.
 * - `find` and `list` see the data as it was when iteration began; unsorted `find` returns
 *   documents in insertion order. Unique indexes are enforced (a document with a null or missing
 *   indexed field is not constrained, as in SQLite); other indexes are accepted and do nothing.
 */
export function openMemoryStore(uri: string, options: OpenStoreOptions = {}): Store {
  const name = nameOf(uri);
  let data = stores.get(name);
  if (!data) {
    if (options.create === false) throw new StoreNotFoundError(uri, `no memory store named ${JSON.stringify(name)} in this process`);
    data = { collections: new Map(), images: new Map() };
    stores.set(name, data);
  }
  let closed = false;
  const assertOpen = (): void => {
    if (closed) throw new Error(`The memory store ${uri} is closed`);
  };
  return {
    uri: `${SCHEME}${name}`,
    driver: 'memory',
    documents: new MemoryDocumentStore(data.collections, assertOpen),
    images: new MemoryImageStore(data.images, assertOpen),
    async close() {
      closed = true;
    },
  };
}

/**
 * Discards the data of the memory store named by `uri` (`memory://<name>`); returns whether there
 * was one. The next open of that name starts empty. Stores still open on it keep working on the
 * discarded data, detached from the name: close them first.
 */
export function dropMemoryStore(uri: string): boolean {
  return stores.delete(nameOf(uri));
}

/** Driver for `memory://<name>` URIs: see {@link openMemoryStore}. */
export const memoryDriver: StoreDriver = {
  specificationVersion: 'v1',
  name: 'memory',
  accepts: (uri) => uri.startsWith(SCHEME),
  open: async (uri, options) => openMemoryStore(uri, options),
};
