import { describe, expect, it } from 'vitest';
import type { BaseDocument, Store, StoreDriver } from '../stores/types.js';
import { testDocumentStore } from './document-store.js';
import { testImageStore } from './image-store.js';
import { StoreNotFoundError } from './root.js';
import { DEFAULT_STORE_TEST_TIMEOUT, type StoreDriverTestOptions, suiteName } from './store-context.js';

interface Note extends BaseDocument {
  text: string;
}

/**
 * Registers the whole storage contract (vitest) for a `StoreDriver`: the driver itself (its
 * `specificationVersion`, the URIs it accepts, `open` with and without `create: false`), then
 * {@link testDocumentStore} and {@link testImageStore} on the stores it opens. A driver that
 * passes it can be registered with `registerStoreDriver` and run the pipeline. Call it at the top
 * level of a test file, or inside a `describe`.
 *
 * @param driver - The driver under test.
 * @param options - Where each test opens its store (a fresh URI per test), how to clean up, and
 *   optionally how to corrupt a stored image behind the store's back.
 *
 * @example
 * A driver author's whole test file (`test/contract.test.ts`, run by vitest):
 * ```ts
 * import { randomUUID } from 'node:crypto';
 * import { testStoreDriver } from 'rakuten-pipeline/testing';
 * import { s3Driver, deleteBucketPrefix } from '../src/index.js';
 *
 * testStoreDriver(s3Driver, {
 *   uri: () => `s3://test-bucket/${randomUUID()}`,
 *   cleanup: (uri) => deleteBucketPrefix(uri),
 * });
 * ```
 */
export function testStoreDriver(driver: StoreDriver, options: StoreDriverTestOptions): void {
  const timeout = options.timeout ?? DEFAULT_STORE_TEST_TIMEOUT;
  const test = (name: string, fn: () => Promise<void>): void => {
    it(name, fn, timeout);
  };
  /** Runs `fn` on a fresh URI, closing what it opened and cleaning up after. */
  const withUri = async (fn: (uri: string, open: (create?: boolean) => Promise<Store>) => Promise<void>): Promise<void> => {
    const uri = await options.uri();
    const opened: Store[] = [];
    const open = async (create?: boolean): Promise<Store> => {
      const store = await (create === undefined ? driver.open(uri) : driver.open(uri, { create }));
      opened.push(store);
      return store;
    };
    try {
      await fn(uri, open);
    } finally {
      try {
        for (const store of opened) await store.close();
      } finally {
        await options.cleanup?.(uri);
      }
    }
  };

  describe.skipIf(options.skip !== undefined)(`StoreDriver contract: ${suiteName(driver, options)}`, () => {
    test("declares specification 'v1' and a name, and accepts the URIs it is tested on", async () => {
      expect(driver.specificationVersion).toBe('v1');
      expect(typeof driver.name).toBe('string');
      expect(driver.name).not.toBe('');
      await withUri(async (uri) => {
        expect(driver.accepts(uri)).toBe(true);
      });
    });

    test('opens stores that name it; closing twice is harmless; a later open sees the data', async () => {
      await withUri(async (_uri, open) => {
        const first = await open();
        expect(first.driver).toBe(driver.name);
        expect(typeof first.uri).toBe('string');
        await first.documents.collection<Note>('notes').upsertMany([{ _id: 'a', text: 'kept' }]);
        await first.close();
        await first.close();
        const second = await open();
        expect(await second.documents.collection<Note>('notes').get('a')).toEqual({ _id: 'a', text: 'kept' });
      });
    });

    test('with create: false, refuses a missing store with StoreNotFoundError (or, if it cannot tell, opens an empty one) and opens an existing one', async () => {
      await withUri(async (_uri, open) => {
        let missing: Store | undefined;
        try {
          missing = await open(false);
        } catch (error) {
          expect(error).toBeInstanceOf(StoreNotFoundError);
        }
        if (missing) {
          expect(await missing.documents.listCollections()).toEqual([]);
          expect(await missing.images.count()).toBe(0);
        }
        const created = await open();
        await created.documents.collection<Note>('notes').upsertMany([{ _id: 'a', text: 'here' }]);
        await created.close();
        const existing = await open(false);
        expect(await existing.documents.collection<Note>('notes').get('a')).toEqual({ _id: 'a', text: 'here' });
      });
    });
  });
  testDocumentStore(driver, options);
  testImageStore(driver, options);
}
