import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, inject } from 'vitest';
import { Binary, MongoClient } from 'mongodb';
import { embeddedDriver, openEmbeddedStore } from '../../src/stores/embedded/index.js';
import { mongoDriver, openMongoStore } from '../../src/stores/mongodb/index.js';
import type { Store, StoreDriver } from '../../src/stores/types.js';

/** A place to open stores in, fresh per test, for one backend. */
export interface StoreHarness {
  /** Opens (again) the store at this harness's location. */
  open(): Promise<Store>;
  /** URI of that location, as a user would pass it to `--store`. */
  readonly uri: string;
  /** Deletes everything the harness created. */
  dispose(): Promise<void>;
  /** Alters the stored bytes of the object under `key` behind the store's back (every second byte flipped). */
  corrupt(key: string, sha256: string): Promise<void>;
}

/** A backend under test. */
export interface StoreBackend {
  readonly name: string;
  /** The driver that opens its stores (from {@link StoreHarness.uri}). */
  readonly driver: StoreDriver;
  /** Why it is skipped, if it is. */
  readonly skip?: string;
  create(): Promise<StoreHarness>;
}

let counter = 0;

const embedded: StoreBackend = {
  name: 'embedded',
  driver: embeddedDriver,
  async create() {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'rp-store-'));
    return {
      uri: dir,
      open: async () => openEmbeddedStore(dir),
      dispose: () => rm(dir, { recursive: true, force: true }),
      async corrupt(_key, sha256) {
        const blob = path.join(dir, 'blobs', sha256.slice(0, 2), sha256);
        await writeFile(blob, flipEverySecondByte(await readFile(blob)));
      },
    };
  },
};

function mongoBackend(): StoreBackend {
  const mongo = inject('mongo');
  const label = mongo.kind === 'server' ? 'mongodb (real server, MONGODB_URI)' : 'mongodb (mongomock emulator)';
  if (!mongo.uri) return { name: label, driver: mongoDriver, skip: mongo.reason, create: () => Promise.reject(new Error(mongo.reason)) };
  return {
    name: label,
    driver: mongoDriver,
    async create() {
      const db = `rp_test_${process.pid}_${Date.now()}_${counter++}`;
      const uri = withDatabase(mongo.uri, db);
      return {
        uri,
        open: () => openMongoStore(uri),
        async corrupt(key) {
          const client = await new MongoClient(uri).connect();
          try {
            const file = await client.db(db).collection('fs.files').findOne({ filename: key });
            const chunks = client.db(db).collection<{ data: Binary }>('fs.chunks');
            for await (const chunk of chunks.find({ files_id: file?._id })) {
              const altered = flipEverySecondByte(Buffer.from(chunk.data.buffer));
              await chunks.updateOne({ _id: chunk._id }, { $set: { data: new Binary(altered) } });
            }
          } finally {
            await client.close();
          }
        },
        async dispose() {
          const client = await new MongoClient(uri).connect();
          try {
            await client.db(db).dropDatabase();
          } finally {
            await client.close();
          }
        },
      };
    },
  };
}

/** `uri` with its database path replaced by `db`. */
export function withDatabase(uri: string, db: string): string {
  const u = new URL(uri);
  u.pathname = `/${db}`;
  return u.toString();
}

/** Every backend the shared suites run against. */
export function storeBackends(): StoreBackend[] {
  return [embedded, mongoBackend()];
}

/** The store of the current test, opened before and disposed after each test of the suite. */
export interface StoreContext {
  /** The open store. */
  readonly store: Store;
  /** Where it lives. */
  readonly harness: StoreHarness;
  /** Closes the store and opens it again at the same place (persistence checks). */
  reopen(): Promise<Store>;
}

/** Registers hooks giving each test of the enclosing suite a fresh store of `backend`. */
export function useStore(backend: StoreBackend): StoreContext {
  let harness: StoreHarness | undefined;
  let store: Store | undefined;
  beforeEach(async () => {
    harness = await backend.create();
    store = await harness.open();
  });
  afterEach(async () => {
    await store?.close();
    await harness?.dispose();
  });
  const must = <T>(v: T | undefined): T => {
    if (v === undefined) throw new Error('no store: useStore() hooks have not run');
    return v;
  };
  return {
    get store() {
      return must(store);
    },
    get harness() {
      return must(harness);
    },
    async reopen() {
      await must(store).close();
      store = await must(harness).open();
      return store;
    },
  };
}

/** Collects an async iterable into an array (Array.fromAsync needs Node 22). */
export async function all<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of iterable) out.push(x);
  return out;
}

function flipEverySecondByte(bytes: Buffer): Buffer {
  const out = Buffer.from(bytes);
  for (let i = 0; i < out.length; i += 2) out[i] = (out[i] ?? 0) ^ 0xff;
  return out;
}
