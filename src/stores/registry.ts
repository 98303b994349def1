import { embeddedDriver } from './embedded/index.js';
import { mongoDriver } from './mongodb/index.js';
import type { Store, StoreDriver } from './types.js';

/** Folder of the embedded store when no store is given and `RAKUTEN_STORE` is unset. */
export const DEFAULT_STORE_DIR = '.rakuten-store';

const drivers: StoreDriver[] = [mongoDriver, embeddedDriver];

/**
 * Adds a storage backend. Drivers registered later are asked first, so a plugin can take over
 * a URI scheme from a built-in one.
 */
export function registerStoreDriver(driver: StoreDriver): void {
  drivers.unshift(driver);
}

/** The store URI to use: the argument, else `RAKUTEN_STORE`, else {@link DEFAULT_STORE_DIR}. */
export function resolveStoreUri(uri?: string): string {
  return uri ?? process.env['RAKUTEN_STORE'] ?? DEFAULT_STORE_DIR;
}

/**
 * Opens the store named by `uri` with the first driver that accepts it: a folder path (embedded,
 * the default) or `mongodb://host:port/db`.
 */
export async function openStore(uri?: string): Promise<Store> {
  const target = resolveStoreUri(uri);
  const driver = drivers.find((d) => d.accepts(target));
  if (!driver) throw new Error(`No storage driver accepts ${JSON.stringify(target)}`);
  return driver.open(target);
}
