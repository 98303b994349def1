/**
 * The part of a better-sqlite3 connection the embedded store uses, declared here rather than
 * imported: the store classes take a connection in their constructors, and `@types/better-sqlite3`
 * is not a dependency of this package's users (their `tsc` without `skipLibCheck` would fail with
 * TS7016). better-sqlite3's `Database` satisfies it structurally, which `openEmbeddedStore` checks.
 *
 * @module
 */

/** A prepared statement (better-sqlite3's `Statement`). */
export interface SqliteStatement {
  run(...params: unknown[]): { changes: number };
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
  /** Returns only the first column of each row. */
  pluck(toggle?: boolean): this;
}

/** A transaction function (better-sqlite3's `Transaction`). */
export interface SqliteTransaction {
  (): void;
  /** Runs it as `BEGIN IMMEDIATE`: the write lock is taken first. */
  immediate(): void;
}

/** An open SQLite connection (better-sqlite3's `Database`). */
export interface SqliteConnection {
  prepare(source: string): SqliteStatement;
  exec(source: string): unknown;
  transaction(fn: () => void): SqliteTransaction;
}
