import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { SqliteConnection } from './sqlite-connection.js';
import { assertFieldName, filterConditions, prefixUpperBound, type Condition } from '../query.js';
import type {
  BaseDocument,
  DocumentCollection,
  DocumentStore,
  Filter,
  FindOptions,
  ScalarKeys,
  WriteResult,
} from '../types.js';

const COLLECTION_NAME = /^[A-Za-z0-9_.-]{1,120}$/;
const PAGE = 1000;

/** SQL expression of a document field; identical text everywhere so indexes are used. */
export function fieldExpr(field: string, column = 'doc'): string {
  assertFieldName(field);
  // `_id` is also the primary-key column: using it turns an `_id` filter into index lookups.
  if (field === '_id' && column === 'doc') return 'id';
  return `json_extract(${column}, '$.${field}')`;
}

/** SQL bind value of a scalar (SQLite has no booleans). */
export function sqlValue(v: string | number | boolean | null): string | number | null {
  return typeof v === 'boolean' ? (v ? 1 : 0) : v;
}

/** Builds a WHERE clause (without the keyword) for conditions on `column`'s JSON. */
export function whereSql(conditions: readonly Condition[], column = 'doc'): { sql: string; params: unknown[] } {
  const parts: string[] = [];
  const params: unknown[] = [];
  for (const c of conditions) {
    const expr = fieldExpr(c.field, column);
    if (c.prefix !== undefined) {
      // A range, not LIKE: it uses the field's index (the primary key for `_id`).
      parts.push(`(${expr} >= ? AND ${expr} < ?)`);
      params.push(c.prefix, prefixUpperBound(c.prefix));
      continue;
    }
    const alternatives: string[] = [];
    const values = c.values.filter((v) => v !== null);
    if (c.values.length > values.length) alternatives.push(`${expr} IS NULL`);
    if (values.length === 1) alternatives.push(`${expr} = ?`);
    else if (values.length > 1) alternatives.push(`${expr} IN (${values.map(() => '?').join(',')})`);
    params.push(...values.map(sqlValue));
    parts.push(alternatives.length ? `(${alternatives.join(' OR ')})` : '0');
  }
  return { sql: parts.length ? parts.join(' AND ') : '1', params };
}

/** Document collections as SQLite tables of (id, JSON) rows; one transaction per write call. */
export class SqliteDocumentStore implements DocumentStore {
  /** @internal Built by {@link openEmbeddedStore}, on its connection. */
  constructor(private readonly db: SqliteConnection) {}

  collection<T extends BaseDocument>(name: string): DocumentCollection<T> {
    if (!COLLECTION_NAME.test(name)) throw new TypeError(`Invalid collection name ${JSON.stringify(name)}`);
    return new SqliteCollection<T>(this.db, name);
  }

  async listCollections(): Promise<string[]> {
    const rows = this.db
      .prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'doc:%' ORDER BY name`)
      .all() as { name: string }[];
    return rows.map((r) => r.name.slice(4));
  }
}

function assertId(doc: BaseDocument, collection: string): void {
  if (typeof doc._id !== 'string' || doc._id === '') throw new TypeError(`Document without a string _id in ${collection}`);
}

class SqliteCollection<T extends BaseDocument> implements DocumentCollection<T> {
  private readonly table: string;
  private created = false;

  constructor(
    private readonly db: SqliteConnection,
    readonly name: string,
  ) {
    this.table = `"doc:${name}"`;
  }

  private exists(): boolean {
    if (this.created) return true;
    const row = this.db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?`).get(`doc:${this.name}`);
    this.created = row !== undefined;
    return this.created;
  }

  private create(): void {
    if (this.exists()) return;
    this.db.exec(`CREATE TABLE IF NOT EXISTS ${this.table} (id TEXT NOT NULL UNIQUE, doc TEXT NOT NULL)`);
    this.created = true;
  }

  async upsertMany(docs: readonly T[]): Promise<WriteResult> {
    const result: WriteResult = { inserted: 0, updated: 0, unchanged: 0 };
    if (docs.length === 0) return result;
    this.create();
    // One statement per document: rows it returns were written, and a rowid above the previous
    // maximum means a new row. Identical content is filtered by the WHERE and returns nothing.
    const upsert = this.db
      .prepare(
        `INSERT INTO ${this.table} (id, doc) VALUES (?, ?)
         ON CONFLICT(id) DO UPDATE SET doc = excluded.doc WHERE doc IS NOT excluded.doc RETURNING rowid`,
      )
      .pluck();
    const maxRowid = this.db.prepare(`SELECT coalesce(max(rowid), 0) FROM ${this.table}`).pluck();
    // IMMEDIATE takes the write lock first: a deferred transaction that reads and then writes
    // fails at once with SQLITE_BUSY (no busy wait) when another connection — a job worker on
    // the same store — wrote in between.
    this.db.transaction(() => {
      const before = maxRowid.get() as number;
      const newIds = new Set<string>();
      for (const doc of docs) {
        assertId(doc, this.name);
        const rowid = upsert.get(doc._id, JSON.stringify(doc)) as number | undefined;
        if (rowid === undefined) result.unchanged++;
        else if (rowid > before && !newIds.has(doc._id)) {
          result.inserted++;
          newIds.add(doc._id); // the same _id twice in one call is one insert, then an update
        } else result.updated++;
      }
    }).immediate();
    return result;
  }

  async insertIfAbsent(doc: T): Promise<boolean> {
    assertId(doc, this.name);
    this.create();
    const sql = `INSERT INTO ${this.table} (id, doc) VALUES (?, ?) ON CONFLICT(id) DO NOTHING`;
    return this.db.prepare(sql).run(doc._id, JSON.stringify(doc)).changes === 1;
  }

  async compareAndSet(id: string, expected: Filter<T>, next: T): Promise<boolean> {
    assertId(next, this.name);
    if (next._id !== id) throw new TypeError(`compareAndSet: next._id ${JSON.stringify(next._id)} is not ${JSON.stringify(id)}`);
    if (!this.exists()) return false;
    // One UPDATE statement: SQLite holds the write lock from the check to the write.
    const where = whereSql(filterConditions(expected));
    const sql = `UPDATE ${this.table} SET doc = ? WHERE id = ? AND ${where.sql}`;
    return this.db.prepare(sql).run(JSON.stringify(next), id, ...where.params).changes === 1;
  }

  async get(id: string): Promise<T | undefined> {
    if (!this.exists()) return undefined;
    const json = this.db.prepare(`SELECT doc FROM ${this.table} WHERE id = ?`).pluck().get(id) as string | undefined;
    return json === undefined ? undefined : (JSON.parse(json) as T);
  }

  async *find(filter?: Filter<T>, options: FindOptions<T> = {}): AsyncIterable<T> {
    if (!this.exists()) return;
    const where = whereSql(filterConditions(filter));
    const order = options.sort
      ? `${fieldExpr(options.sort.field)} ${options.sort.direction === -1 ? 'DESC' : 'ASC'}, rowid`
      : 'rowid';
    let skip = options.skip ?? 0;
    let remaining = options.limit ?? Number.POSITIVE_INFINITY;
    // Pages instead of one open cursor: better-sqlite3 forbids writes while a statement iterates.
    const stmt = this.db
      .prepare(`SELECT doc FROM ${this.table} WHERE ${where.sql} ORDER BY ${order} LIMIT ? OFFSET ?`)
      .pluck();
    while (remaining > 0) {
      const n = Math.min(PAGE, remaining);
      const page = stmt.all(...where.params, n, skip) as string[];
      for (const json of page) yield JSON.parse(json) as T;
      // better-sqlite3 is synchronous: without this, a long scan never lets timers (a run's
      // heartbeat, an HTTP request) run.
      await yieldToEventLoop();
      if (page.length < n) return;
      skip += page.length;
      remaining -= page.length;
    }
  }

  async count(filter?: Filter<T>): Promise<number> {
    if (!this.exists()) return 0;
    const where = whereSql(filterConditions(filter));
    return this.db.prepare(`SELECT count(*) FROM ${this.table} WHERE ${where.sql}`).pluck().get(...where.params) as number;
  }

  async deleteMany(filter?: Filter<T>): Promise<number> {
    if (!this.exists()) return 0;
    const where = whereSql(filterConditions(filter));
    return this.db.prepare(`DELETE FROM ${this.table} WHERE ${where.sql}`).run(...where.params).changes;
  }

  async ensureIndex(fields: readonly ScalarKeys<T>[], options: { unique?: boolean } = {}): Promise<void> {
    if (fields.length === 0) return;
    this.create();
    const name = `"idx:${this.name}:${fields.join(',')}${options.unique ? ':u' : ''}"`;
    const exprs = fields.map((f) => fieldExpr(f)).join(', ');
    this.db.exec(`CREATE ${options.unique ? 'UNIQUE ' : ''}INDEX IF NOT EXISTS ${name} ON ${this.table} (${exprs})`);
  }
}
