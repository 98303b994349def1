import { redactUri } from './uri.js';
import { checkSpecificationVersion, STORE_DRIVER_SPEC_VERSION } from '../specification.js';
import { memoryDriver } from './memory/index.js';
import type { OpenStoreOptions, Store, StoreDriver } from './types.js';

/** Folder of the embedded store when no store is given and `RAKUTEN_STORE` is unset. */
export const DEFAULT_STORE_DIR = '.rakuten-store';

/**
 * A driver whose implementation is imported on its first `open`: the built-in MongoDB and embedded
 * drivers stay registered (a URI picks them) without loading `mongodb` or `better-sqlite3` for
 * users of the other one, or of none.
 */
function lazyDriver(name: string, accepts: (uri: string) => boolean, load: () => Promise<StoreDriver>): StoreDriver {
  return { specificationVersion: STORE_DRIVER_SPEC_VERSION, name, accepts, open: async (uri, options) => (await load()).open(uri, options) };
}

/** Whether the MongoDB driver handles `uri`. */
export const isMongoUri = (uri: string): boolean => /^mongodb(\+srv)?:\/\//.test(uri);
/** Whether the embedded driver handles `uri`: `file://` URIs and paths (anything without a scheme). */
export const isEmbeddedUri = (uri: string): boolean => uri.startsWith('file://') || !/^[a-z][a-z0-9+.-]*:\/\//i.test(uri);

// Asked in order: the memory driver last (`memory://` URIs, which no other built-in accepts).
const drivers: StoreDriver[] = [
  lazyDriver('mongodb', isMongoUri, async () => (await import('./mongodb/index.js')).mongoDriver),
  lazyDriver('embedded', isEmbeddedUri, async () => (await import('./embedded/index.js')).embeddedDriver),
  memoryDriver,
];

/**
 * Adds a storage backend. Drivers registered later are asked first, so a plugin can take over
 * a URI scheme from a built-in one.
 *
 * @throws TypeError when the driver declares no `specificationVersion` or one this package does
 *   not support (see `STORE_DRIVER_SPEC_VERSION`); it is then not registered.
 */
export function registerStoreDriver(driver: StoreDriver): void {
  checkSpecificationVersion('StoreDriver', `store driver ${JSON.stringify(driver.name)}`, driver.specificationVersion, STORE_DRIVER_SPEC_VERSION);
  drivers.unshift(driver);
}

/** The store URI to use: the argument, else `RAKUTEN_STORE`, else {@link DEFAULT_STORE_DIR}. */
export function resolveStoreUri(uri?: string): string {
  // An empty URI would be the current folder for the embedded driver: refused, never guessed.
  if (uri !== undefined && uri.trim() === '') throw new Error('store URI is empty: give a folder path or mongodb://host:port/db');
  return uri ?? (process.env['RAKUTEN_STORE'] || DEFAULT_STORE_DIR);
}

/**
 * Opens the store named by `uri` with the first driver that accepts it: a folder path (embedded,
 * the default), `mongodb://host:port/db` or `memory://<name>` (in-memory, per process). It is
 * created when missing unless `options.create` is false (then a missing embedded or memory store
 * is a `StoreNotFoundError`).
 */
export async function openStore(uri?: string, options?: OpenStoreOptions): Promise<Store> {
  const target = resolveStoreUri(uri);
  const driver = findStoreDriver(target);
  return options ? driver.open(target, options) : driver.open(target);
}

/**
 * The driver that opens `uri`: the first of `extra` (a pipeline's plugin drivers) that accepts it,
 * else the first registered one. Throws naming the URI when none does.
 */
export function findStoreDriver(uri: string, extra: readonly StoreDriver[] = []): StoreDriver {
  const driver = extra.find((d) => d.accepts(uri)) ?? drivers.find((d) => d.accepts(uri));
  if (!driver) throw new Error(`No storage driver accepts ${JSON.stringify(redactUri(uri))}${extra.length ? ` (plugin drivers: ${extra.map((d) => d.name).join(', ')})` : ''}`);
  return driver;
}
