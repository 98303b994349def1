import { MongoClient } from 'mongodb';
import type { Store, StoreDriver } from '../types.js';
import { GridFsImageStore } from './gridfs-images.js';
import { MongoDocumentStore } from './mongo-documents.js';

export { GridFsImageStore } from './gridfs-images.js';
export { MongoDocumentStore } from './mongo-documents.js';

/** Database used when the URI names none. */
export const DEFAULT_MONGO_DB = 'rakuten_db';

/**
 * Opens a MongoDB store: documents in the database named by the URI path (default
 * `rakuten_db`), images in its GridFS bucket `fs`.
 */
export async function openMongoStore(uri: string): Promise<Store> {
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: 10_000 });
  try {
    await client.connect();
  } catch (cause) {
    throw new Error(`Cannot connect to MongoDB at ${redact(uri)}: ${(cause as Error).message}`, { cause });
  }
  const db = client.db(dbNameOf(uri));
  let closed = false;
  return {
    uri: redact(uri),
    driver: 'mongodb',
    documents: new MongoDocumentStore(db),
    images: new GridFsImageStore(db),
    async close() {
      if (closed) return;
      closed = true;
      await client.close();
    },
  };
}

/** The database name in the URI path, or {@link DEFAULT_MONGO_DB}. */
function dbNameOf(uri: string): string {
  const match = /^mongodb(?:\+srv)?:\/\/[^/]+\/([^?]+)/.exec(uri);
  return match?.[1] ? decodeURIComponent(match[1]) : DEFAULT_MONGO_DB;
}

/** The URI with its password hidden, for messages and run records. */
export function redact(uri: string): string {
  return uri.replace(/(\/\/[^:/@]+):[^@/]*@/, '$1:***@');
}

/** Driver for `mongodb://` and `mongodb+srv://` URIs. */
export const mongoDriver: StoreDriver = {
  name: 'mongodb',
  accepts: (uri) => /^mongodb(\+srv)?:\/\//.test(uri),
  open: openMongoStore,
};
