/**
 * rakuten-pipeline/stores/mongodb: the MongoDB store (documents in collections, images in GridFS); `mongodb://` and `mongodb+srv://` URIs open it without importing this entry.
 *
 * @module rakuten-pipeline/stores/mongodb
 */
import { isMongoUri } from '../registry.js';
import { redactUri } from '../uri.js';
import { MongoClient, type MongoClientOptions } from 'mongodb';
import type { Store, StoreDriver } from '../types.js';
import { GridFsImageStore } from './gridfs-images.js';
import { MongoDocumentStore } from './mongo-documents.js';

export { GridFsImageStore } from './gridfs-images.js';
export { MongoDocumentStore } from './mongo-documents.js';

/** Database used when the URI names none. */
export const DEFAULT_MONGO_DB = 'rakuten_db';

/**
 * Timeouts of a MongoDB store, each used unless the URI sets it (`?socketTimeoutMS=120000`),
 * so that a frozen server (SIGSTOP, a hung VM: the port accepts, nothing answers) fails
 * calls in about 25 s (10 s round trip, then the retried read's server selection after the
 * monitor's 5 s handshake timeout marks it unknown) instead of never. The 7.x driver ignores `timeoutMS` (client-side
 * operation timeouts are a no-op there), so these are the options that act:
 * - `socketTimeoutMS` bounds each request/response round trip only (the driver arms it while
 *   it waits for an answer), so a cursor or GridFS stream read slowly for an hour is fine, while
 *   a getMore to a frozen server fails; no server-side operation of the pipeline takes seconds.
 * - `connectTimeoutMS` bounds connecting and the handshake of a new connection, including
 *   the one a retried read opens, and the monitor's heartbeat check.
 * - `serverSelectionTimeoutMS` stays at 10 s, long enough to ride out a replica-set election.
 */
export const MONGO_TIMEOUTS: {
  /** Waiting for a usable server. */
  readonly serverSelectionTimeoutMS: number;
  /** Connecting and handshaking a new connection (also the heartbeat check). */
  readonly connectTimeoutMS: number;
  /** One request/response round trip. */
  readonly socketTimeoutMS: number;
} = {
  serverSelectionTimeoutMS: 10_000,
  connectTimeoutMS: 5_000,
  socketTimeoutMS: 10_000,
};

/** {@link MONGO_TIMEOUTS} minus those the URI's query sets (option names are case-insensitive). */
function timeoutDefaults(uri: string): MongoClientOptions {
  const query = uri.split('?')[1]?.split('#')[0] ?? '';
  const given = new Set([...new URLSearchParams(query).keys()].map((k) => k.toLowerCase()));
  return Object.fromEntries(Object.entries(MONGO_TIMEOUTS).filter(([name]) => !given.has(name.toLowerCase())));
}

/**
 * Opens a MongoDB store: documents in the database named by the URI path (default
 * `rakuten_db`), images in its GridFS bucket `fs`. See {@link MONGO_TIMEOUTS}.
 */
export async function openMongoStore(uri: string): Promise<Store> {
  const client = new MongoClient(uri, timeoutDefaults(uri));
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
export const redact = redactUri;

/** Driver for `mongodb://` and `mongodb+srv://` URIs. */
export const mongoDriver: StoreDriver = {
  specificationVersion: 'v1',
  name: 'mongodb',
  accepts: isMongoUri,
  open: openMongoStore,
};
