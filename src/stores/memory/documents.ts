import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { assertFieldName, filterConditions, matchesConditions } from '../query.js';
import type {
  BaseDocument,
  DocumentCollection,
  DocumentStore,
  Filter,
  FindOptions,
  ScalarKeys,
  WriteResult,
} from '../types.js';

/** One stored document: its JSON (what is compared and copied out) and the parsed fields (what filters read). */
interface Entry {
  readonly json: string;
  readonly fields: Readonly<Record<string, unknown>>;
}

/** The data of one collection. */
export interface CollectionData {
  /** Documents by `_id`. A `Map` keeps insertion order: the order of an unsorted `find`. */
  readonly docs: Map<string, Entry>;
  /** Field lists of its unique indexes, by the fields joined with commas. */
  readonly unique: Map<string, readonly string[]>;
}

/** Where a memory store's documents live: shared by every store opened on the same name. */
export type CollectionsData = Map<string, CollectionData>;

/** The same rule as the embedded store, so that a name valid here is valid there. */
const COLLECTION_NAME = /^[A-Za-z0-9_.-]{1,120}$/;
/** Documents yielded by `find` between two turns of the event loop. */
const PAGE = 1000;

/** Document collections held in a `Map`; see `openMemoryStore`. */
export class MemoryDocumentStore implements DocumentStore {
  /**
   * @param data - The collections of the store's name.
   * @param assertOpen - Throws once the store is closed.
   */
  constructor(
    private readonly data: CollectionsData,
    private readonly assertOpen: () => void,
  ) {}

  collection<T extends BaseDocument>(name: string): DocumentCollection<T> {
    if (!COLLECTION_NAME.test(name)) throw new TypeError(`Invalid collection name ${JSON.stringify(name)}`);
    return new MemoryCollection<T>(this.data, name, this.assertOpen);
  }

  async listCollections(): Promise<string[]> {
    this.assertOpen();
    return [...this.data.keys()].sort();
  }
}

function assertId(doc: BaseDocument, collection: string): void {
  if (typeof doc._id !== 'string' || doc._id === '') throw new TypeError(`Document without a string _id in ${collection}`);
}

function entryOf(doc: BaseDocument): Entry {
  const json = JSON.stringify(doc);
  return { json, fields: JSON.parse(json) as Record<string, unknown> };
}

/** Sort rank of a field's type, as MongoDB orders mixed types: null (or missing), numbers, strings, booleans. */
function rank(v: unknown): number {
  if (v === null || v === undefined) return 0;
  if (typeof v === 'number') return 1;
  if (typeof v === 'string') return 2;
  return 3;
}

function compareValues(a: unknown, b: unknown): number {
  const ra = rank(a);
  const rb = rank(b);
  if (ra !== rb || ra === 0) return ra - rb;
  // Same type: numbers, strings (UTF-16 code units) and booleans all compare with < and >.
  return (a as number) < (b as number) ? -1 : (a as number) > (b as number) ? 1 : 0;
}

/** The key of `fields` in a unique index, or `undefined` when a field is null or missing (not constrained, as in SQLite). */
function uniqueKey(fields: Readonly<Record<string, unknown>>, index: readonly string[]): string | undefined {
  const values = index.map((f) => (Object.hasOwn(fields, f) ? fields[f] : null) ?? null);
  return values.includes(null) ? undefined : JSON.stringify(values);
}

/**
 * Throws when writing `incoming` (final documents by `_id`) would give two documents the same key
 * in one of `indexes`. Called before anything is written, so a failed call changes nothing.
 */
function checkUnique(name: string, data: CollectionData, incoming: ReadonlyMap<string, Entry>, indexes: Iterable<readonly string[]>): void {
  for (const index of indexes) {
    const owners = new Map<string, string>();
    const add = (id: string, entry: Entry): void => {
      const key = uniqueKey(entry.fields, index);
      if (key === undefined) return;
      const other = owners.get(key);
      if (other !== undefined && other !== id) {
        throw new Error(`Duplicate key in ${name}: documents ${JSON.stringify(other)} and ${JSON.stringify(id)} share ${index.join(', ')} = ${key}`);
      }
      owners.set(key, id);
    };
    for (const [id, entry] of data.docs) if (!incoming.has(id)) add(id, entry);
    for (const [id, entry] of incoming) add(id, entry);
  }
}

/**
 * A collection. Every method does its checks and its writes without awaiting in between, so each
 * call is atomic with respect to every other caller in the process, whichever store they opened.
 */
class MemoryCollection<T extends BaseDocument> implements DocumentCollection<T> {
  constructor(
    private readonly all: CollectionsData,
    readonly name: string,
    private readonly assertOpen: () => void,
  ) {}

  /** The collection's data; created (an empty collection that `listCollections` names) when `create`. */
  private data(create: true): CollectionData;
  private data(create: false): CollectionData | undefined;
  private data(create: boolean): CollectionData | undefined {
    this.assertOpen();
    let data = this.all.get(this.name);
    if (!data && create) {
      data = { docs: new Map(), unique: new Map() };
      this.all.set(this.name, data);
    }
    return data;
  }

  async upsertMany(docs: readonly T[]): Promise<WriteResult> {
    const result: WriteResult = { inserted: 0, updated: 0, unchanged: 0 };
    this.assertOpen();
    if (docs.length === 0) return result;
    for (const doc of docs) assertId(doc, this.name);
    const entries = docs.map(entryOf);
    const data = this.data(true);
    checkUnique(this.name, data, new Map(entries.map((e, i) => [(docs[i] as T)._id, e])), data.unique.values());
    for (const [i, entry] of entries.entries()) {
      const id = (docs[i] as T)._id;
      const old = data.docs.get(id);
      if (old?.json === entry.json) {
        result.unchanged++;
        continue;
      }
      if (old === undefined) result.inserted++;
      else result.updated++;
      data.docs.set(id, entry); // a replaced document keeps its place in insertion order
    }
    return result;
  }

  async insertIfAbsent(doc: T): Promise<boolean> {
    assertId(doc, this.name);
    const data = this.data(true);
    if (data.docs.has(doc._id)) return false;
    const entry = entryOf(doc);
    checkUnique(this.name, data, new Map([[doc._id, entry]]), data.unique.values());
    data.docs.set(doc._id, entry);
    return true;
  }

  async compareAndSet(id: string, expected: Filter<T>, next: T): Promise<boolean> {
    assertId(next, this.name);
    if (next._id !== id) throw new TypeError(`compareAndSet: next._id ${JSON.stringify(next._id)} is not ${JSON.stringify(id)}`);
    const conditions = filterConditions(expected);
    const data = this.data(false);
    const current = data?.docs.get(id);
    if (!data || !current || !matchesConditions(current.fields, conditions)) return false;
    const entry = entryOf(next);
    checkUnique(this.name, data, new Map([[id, entry]]), data.unique.values());
    data.docs.set(id, entry);
    return true;
  }

  async get(id: string): Promise<T | undefined> {
    const json = this.data(false)?.docs.get(id)?.json;
    return json === undefined ? undefined : (JSON.parse(json) as T);
  }

  /** The matching entries, sorted, skipped and limited as asked. */
  private select(filter: Filter<T> | undefined, options: FindOptions<T> = {}): Entry[] {
    const conditions = filterConditions(filter);
    if (options.sort) assertFieldName(options.sort.field);
    const data = this.data(false);
    if (!data) return [];
    let entries = [...data.docs.values()].filter((e) => matchesConditions(e.fields, conditions));
    const sort = options.sort;
    if (sort) {
      const sign = sort.direction === -1 ? -1 : 1;
      // Array.prototype.sort is stable: ties keep insertion order, as the embedded store's rowid does.
      entries.sort((a, b) => sign * compareValues(a.fields[sort.field], b.fields[sort.field]));
    }
    const skip = options.skip ?? 0;
    entries = entries.slice(skip, options.limit === undefined ? undefined : skip + Math.max(0, options.limit));
    return entries;
  }

  async *find(filter?: Filter<T>, options?: FindOptions<T>): AsyncIterable<T> {
    // A snapshot taken when iteration starts: writes during the scan are safe and not seen.
    const entries = this.select(filter, options);
    for (let i = 0; i < entries.length; i++) {
      // Let timers (a run's heartbeat) run during long scans, as the other stores do.
      if (i > 0 && i % PAGE === 0) await yieldToEventLoop();
      yield JSON.parse((entries[i] as Entry).json) as T;
    }
  }

  async count(filter?: Filter<T>): Promise<number> {
    return this.select(filter).length;
  }

  async deleteMany(filter?: Filter<T>): Promise<number> {
    const matching = this.select(filter);
    const data = this.data(false);
    if (!data) return 0;
    const ids = matching.map((e) => e.fields['_id'] as string);
    for (const id of ids) data.docs.delete(id);
    return ids.length; // the collection itself stays, empty, as in the other stores
  }

  async ensureIndex(fields: readonly ScalarKeys<T>[], options: { readonly unique?: boolean } = {}): Promise<void> {
    for (const f of fields) assertFieldName(f);
    if (fields.length === 0) return;
    const data = this.data(true);
    // Only unique indexes change behaviour; lookups scan the Map either way.
    if (!options.unique || data.unique.has(fields.join(','))) return;
    checkUnique(this.name, data, new Map(), [fields]); // refused when existing documents already collide
    data.unique.set(fields.join(','), [...fields]);
  }
}
