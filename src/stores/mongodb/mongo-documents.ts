import { MongoServerError } from 'mongodb';
import type { AnyBulkWriteOperation, Collection, Db, Filter as MongoFilter, Sort } from 'mongodb';
import { assertFieldName, filterConditions, prefixUpperBound } from '../query.js';
import type {
  BaseDocument,
  DocumentCollection,
  DocumentStore,
  Filter,
  FindOptions,
  ScalarKeys,
  WriteResult,
} from '../types.js';

/** Translates a portable filter into a MongoDB query. */
function toMongoFilter<T>(filter: Filter<T> | undefined): MongoFilter<RawDocument> {
  const query: Record<string, unknown> = {};
  for (const c of filterConditions(filter)) {
    // A range on the index (as an anchored regex would be, without regex escaping).
    if (c.prefix !== undefined) query[c.field] = { $gte: c.prefix, $lt: prefixUpperBound(c.prefix) };
    else query[c.field] = c.values.length === 1 ? c.values[0] : { $in: c.values };
  }
  return query;
}

const BATCH = 1000;
/** MongoDB's error code for a unique-index violation. */
const DUPLICATE_KEY = 11000;

function assertId(doc: BaseDocument, collection: string): void {
  if (typeof doc._id !== 'string' || doc._id === '') throw new TypeError(`Document without a string _id in ${collection}`);
}

/** How documents look to the driver: string keys, any fields. */
interface RawDocument {
  _id: string;
  [field: string]: unknown;
}

/** Document collections as MongoDB collections of the same name, keyed by `_id`. *
 * @example
 * ```ts
 * import { openMongoStore } from 'rakuten-pipeline/stores/mongodb';
 *
 * const store = await openMongoStore('mongodb://user:password@db/rakuten_db'); // store.documents is a MongoDocumentStore
 * for await (const run of store.documents.collection('data_pipeline').find({}, { limit: 5 })) console.log(run._id);
 * await store.close();
 * ```
 */
export class MongoDocumentStore implements DocumentStore {
  constructor(private readonly db: Db) {}

  collection<T extends BaseDocument>(name: string): DocumentCollection<T> {
    return new MongoCollection<T>(this.db.collection<RawDocument>(name), name);
  }

  async listCollections(): Promise<string[]> {
    const infos = await this.db.listCollections({}, { nameOnly: true }).toArray();
    return infos
      .map((c) => c.name)
      .filter((n) => !n.startsWith('system.'))
      .sort();
  }
}

class MongoCollection<T extends BaseDocument> implements DocumentCollection<T> {
  constructor(
    private readonly coll: Collection<RawDocument>,
    readonly name: string,
  ) {}

  async upsertMany(docs: readonly T[]): Promise<WriteResult> {
    const result: WriteResult = { inserted: 0, updated: 0, unchanged: 0 };
    for (let i = 0; i < docs.length; i += BATCH) {
      const batch = docs.slice(i, i + BATCH);
      const ops: AnyBulkWriteOperation<RawDocument>[] = batch.map((doc) => {
        assertId(doc, this.name);
        return { replaceOne: { filter: { _id: doc._id }, replacement: doc as unknown as RawDocument, upsert: true } };
      });
      const r = await this.coll.bulkWrite(ops, { ordered: false });
      result.inserted += r.upsertedCount;
      result.updated += r.modifiedCount;
      result.unchanged += r.matchedCount - r.modifiedCount;
    }
    return result;
  }

  async insertIfAbsent(doc: T): Promise<boolean> {
    assertId(doc, this.name);
    try {
      await this.coll.insertOne(doc as unknown as RawDocument);
      return true;
    } catch (error) {
      if (error instanceof MongoServerError && error.code === DUPLICATE_KEY) return false;
      throw error;
    }
  }

  async compareAndSet(id: string, expected: Filter<T>, next: T): Promise<boolean> {
    assertId(next, this.name);
    if (next._id !== id) throw new TypeError(`compareAndSet: next._id ${JSON.stringify(next._id)} is not ${JSON.stringify(id)}`);
    // replaceOne matches and writes one document atomically on the server.
    const query = { ...toMongoFilter(expected), _id: id } as MongoFilter<RawDocument>;
    const r = await this.coll.replaceOne(query, next as unknown as RawDocument);
    return r.matchedCount === 1;
  }

  async get(id: string): Promise<T | undefined> {
    const doc = await this.coll.findOne({ _id: id });
    return (doc ?? undefined) as unknown as T | undefined;
  }

  async *find(filter?: Filter<T>, options: FindOptions<T> = {}): AsyncIterable<T> {
    let cursor = this.coll.find(toMongoFilter(filter));
    if (options.sort) {
      assertFieldName(options.sort.field);
      cursor = cursor.sort({ [options.sort.field]: options.sort.direction ?? 1, _id: 1 } as Sort);
    }
    if (options.skip) cursor = cursor.skip(options.skip);
    if (options.limit !== undefined) {
      if (options.limit <= 0) return;
      cursor = cursor.limit(options.limit);
    }
    try {
      for await (const doc of cursor) yield doc as unknown as T;
    } finally {
      await cursor.close();
    }
  }

  async count(filter?: Filter<T>): Promise<number> {
    return this.coll.countDocuments(toMongoFilter(filter));
  }

  async deleteMany(filter?: Filter<T>): Promise<number> {
    return (await this.coll.deleteMany(toMongoFilter(filter))).deletedCount;
  }

  async ensureIndex(fields: readonly ScalarKeys<T>[], options: { unique?: boolean } = {}): Promise<void> {
    if (fields.length === 0) return;
    const spec: Record<string, 1> = {};
    for (const f of fields) {
      assertFieldName(f);
      spec[f] = 1;
    }
    await this.coll.createIndex(spec, { unique: options.unique ?? false });
  }
}
