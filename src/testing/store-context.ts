import { afterEach, beforeEach } from 'vitest';
import type { Store, StoreDriver } from '../stores/types.js';

/** Options of `testStoreDriver`, `testDocumentStore` and `testImageStore`. */
export interface StoreDriverTestOptions {
  /**
   * A URI the driver accepts, where no store exists yet; called once per test. Give a fresh one
   * each time (a new temporary folder, a new database name) so that tests never see each other's
   * data. Two stores opened on it must be two connections to the same data: the race tests open a
   * second one with `driver.open(uri)`.
   */
  uri(): string | Promise<string>;
  /** Deletes what a test left at `uri`, once the test has closed its stores (default: nothing). */
  cleanup?(uri: string): void | Promise<void>;
  /**
   * Alters the stored bytes of the image under `key` behind the store's back (`sha256` is the hash
   * they had). Given, the suite checks that `get` then rejects with an `IntegrityError` naming the
   * key; omitted, that test is skipped (a store that cannot be altered from outside, like the
   * memory store, has nothing to detect).
   */
  corrupt?(uri: string, key: string, sha256: string): void | Promise<void>;
  /** Shown in the suite titles (default: the driver's name). */
  name?: string;
  /** Skips the suites, showing this reason (e.g. no server to test against). */
  skip?: string;
  /** Timeout of each test and hook in milliseconds (default 60,000: some tests write thousands of rows). */
  timeout?: number;
}

/** Default of {@link StoreDriverTestOptions.timeout}. */
export const DEFAULT_STORE_TEST_TIMEOUT = 60_000;

/** The store of the running test. */
export interface StoreTestContext {
  /** Where the test's store lives. */
  readonly uri: string;
  /** The test's store, opened before the test. */
  readonly store: Store;
  /** Opens one more store (connection) on the same URI; it is closed after the test. */
  connect(): Promise<Store>;
  /** Closes {@link StoreTestContext.store} and opens it again at the same URI. */
  reopen(): Promise<Store>;
}

/** Registers hooks giving each test of the enclosing suite a fresh store opened by `driver`. */
export function useDriverStore(driver: StoreDriver, options: StoreDriverTestOptions): StoreTestContext {
  const timeout = options.timeout ?? DEFAULT_STORE_TEST_TIMEOUT;
  let uri: string | undefined;
  let store: Store | undefined;
  const others: Store[] = [];
  beforeEach(async () => {
    uri = await options.uri();
    store = await driver.open(uri);
  }, timeout);
  afterEach(async () => {
    const opened = [store, ...others.splice(0)];
    const at = uri;
    store = undefined;
    uri = undefined;
    try {
      for (const s of opened) await s?.close();
    } finally {
      if (at !== undefined) await options.cleanup?.(at);
    }
  }, timeout);
  const must = <T>(v: T | undefined): T => {
    if (v === undefined) throw new Error('no store: the suite hooks have not run');
    return v;
  };
  return {
    get uri() {
      return must(uri);
    },
    get store() {
      return must(store);
    },
    async connect() {
      const other = await driver.open(must(uri));
      others.push(other);
      return other;
    },
    async reopen() {
      await must(store).close();
      store = await driver.open(must(uri));
      return store;
    },
  };
}

/** Collects an async iterable into an array. */
export async function all<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of iterable) out.push(x);
  return out;
}

/** The suite title of `driver`. */
export function suiteName(driver: StoreDriver, options: StoreDriverTestOptions): string {
  return options.name ?? driver.name;
}
