/**
 * rakuten-pipeline/stores/embedded: the embedded store (SQLite documents, content-addressed image files); folder paths and `file://` URIs open it without importing this entry.
 *
 * @module rakuten-pipeline/stores/embedded
 */
import { isEmbeddedUri } from '../registry.js';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { StoreNotFoundError } from '../errors.js';
import type { OpenStoreOptions, Store, StoreDriver } from '../types.js';
import { FileImageStore } from './file-images.js';
import { SqliteDocumentStore } from './sqlite-documents.js';

export { FileImageStore } from './file-images.js';
export { SqliteDocumentStore } from './sqlite-documents.js';

/** File name of the SQLite database inside an embedded store folder. */
const DB_FILE = 'store.sqlite';

/** The path of a `file:` URL; `file://my-store` has a host, not a relative path (its path is `/`). */
function filePath(url: string): string {
  const u = new URL(url);
  if (u.host !== '' && u.host !== 'localhost') {
    throw new TypeError(`store ${JSON.stringify(url)}: a file URL takes an absolute path (file:///path/to/store) or a folder path (${u.host}${u.pathname === '/' ? '' : u.pathname}), not a host`);
  }
  return fileURLToPath(u);
}

/**
 * Opens the embedded store in folder `dir` (created if missing): documents and image metadata
 * in SQLite (WAL journal, so a crash rolls back to the last committed write), image bytes as
 * content-addressed files beside it. Needs no server. With `options.create` false, a folder
 * without a store is a {@link StoreNotFoundError} rather than a new store.
 */
export function openEmbeddedStore(dir: string, options: OpenStoreOptions = {}): Store {
  const root = path.resolve(dir.startsWith('file://') ? filePath(dir) : dir);
  if (options.create === false && !existsSync(path.join(root, DB_FILE))) {
    throw new StoreNotFoundError(root, `no store at ${root}${existsSync(root) ? ' (the folder exists but holds no store)' : ''}`);
  }
  mkdirSync(root, { recursive: true });
  const db = new Database(path.join(root, DB_FILE));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 10000');
  let closed = false;
  return {
    uri: root,
    driver: 'embedded',
    documents: new SqliteDocumentStore(db),
    images: new FileImageStore(db, root),
    async close() {
      if (closed) return;
      closed = true;
      db.close();
    },
  };
}

/** Driver for folder paths and `file://` URIs: the default when no store is given. */
export const embeddedDriver: StoreDriver = {
  specificationVersion: 'v1',
  name: 'embedded',
  accepts: isEmbeddedUri,
  open: async (uri, options) => openEmbeddedStore(uri, options),
};
