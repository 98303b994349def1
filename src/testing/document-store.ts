import { describe, expect, it } from 'vitest';
import type { BaseDocument, StoreDriver } from '../stores/types.js';
import { all, DEFAULT_STORE_TEST_TIMEOUT, type StoreDriverTestOptions, suiteName, useDriverStore } from './store-context.js';

interface Item extends BaseDocument {
  n: number;
  tag: string | null;
  flag?: boolean;
  nested?: { a: number[]; b: { c: string } };
}

function item(i: number, extra: Partial<Item> = {}): Item {
  return { _id: `id-${String(i).padStart(4, '0')}`, n: i, tag: i % 2 === 0 ? 'even' : 'odd', ...extra };
}

/**
 * Registers the `DocumentStore` contract suite (vitest) for the stores `driver` opens: idempotent
 * upserts and their counts, exact JSON round trips, `null`/`$in`/`$prefix` filters, sort, skip and
 * limit, streaming while writing, deletes, indexes (unique ones enforced), `insertIfAbsent` and
 * `compareAndSet` (also raced by two connections), `_id` checks, persistence across reopening.
 * Call it at the top level of a test file, or inside a `describe`.
 *
 * @param driver - The driver under test.
 * @param options - Where each test opens its store, and how to clean up.
 */
export function testDocumentStore(driver: StoreDriver, options: StoreDriverTestOptions): void {
  const timeout = options.timeout ?? DEFAULT_STORE_TEST_TIMEOUT;
  const test = (name: string, fn: () => Promise<void>): void => {
    it(name, fn, timeout);
  };
  describe.skipIf(options.skip !== undefined)(`DocumentStore contract: ${suiteName(driver, options)}`, () => {
    const ctx = useDriverStore(driver, options);

    test('inserts, then reports identical rewrites as unchanged and changed ones as updated', async () => {
      const c = ctx.store.documents.collection<Item>('items');
      expect(await c.upsertMany([item(1), item(2), item(3)])).toEqual({ inserted: 3, updated: 0, unchanged: 0 });
      expect(await c.upsertMany([item(1), item(2), item(3)])).toEqual({ inserted: 0, updated: 0, unchanged: 3 });
      expect(await c.upsertMany([item(1), item(2, { tag: 'changed' }), item(4)])).toEqual({
        inserted: 1,
        updated: 1,
        unchanged: 1,
      });
      expect(await c.count()).toBe(4);
      expect((await c.get('id-0002'))?.tag).toBe('changed');
      expect(await c.upsertMany([])).toEqual({ inserted: 0, updated: 0, unchanged: 0 });
    });

    test('round-trips JSON values exactly', async () => {
      const c = ctx.store.documents.collection<Item>('items');
      const doc = item(7, { tag: 'éàü 漢字 🚀 "quoted"\n', flag: false, n: -12.5, nested: { a: [1, 2, 3], b: { c: 'x' } } });
      await c.upsertMany([doc]);
      expect(await c.get(doc._id)).toEqual(doc);
      expect(await c.get('missing')).toBeUndefined();
    });

    test('finds by equality, $in and null (null also matches a missing field)', async () => {
      const c = ctx.store.documents.collection<Item>('items');
      await c.upsertMany([...Array.from({ length: 10 }, (_, i) => item(i)), item(10, { tag: null }), item(11, { flag: true })]);
      expect((await all(c.find({ tag: 'even' }))).map((d) => d.n).sort((a, b) => a - b)).toEqual([0, 2, 4, 6, 8]);
      expect((await all(c.find({ n: { $in: [1, 3, 99] } }))).map((d) => d.n).sort()).toEqual([1, 3]);
      expect((await all(c.find({ tag: null }))).map((d) => d.n)).toEqual([10]);
      expect((await all(c.find({ flag: true }))).map((d) => d.n)).toEqual([11]);
      expect((await all(c.find({ flag: null }))).length).toBe(11);
      expect(await c.count({ tag: 'odd', n: { $in: [1, 2, 3] } })).toBe(2);
      await expect(c.count({ ['bad field' as 'n']: 1 })).rejects.toThrow(/field name/);
    });

    test('matches string prefixes ($prefix), on _id and on other fields', async () => {
      const c = ctx.store.documents.collection<Item>('prefixed');
      await c.upsertMany(['g1/1', 'g1/2', 'g10/1', 'g2/1', 'g1'].map((id, i) => ({ ...item(i), _id: id, tag: id })));
      expect((await all(c.find({ _id: { $prefix: 'g1/' } }))).map((d) => d._id).sort()).toEqual(['g1/1', 'g1/2']);
      expect(await c.count({ tag: { $prefix: 'g1' } })).toBe(4);
      expect(await c.count({ _id: { $prefix: 'g1/' }, n: 1 })).toBe(1);
      expect(await c.deleteMany({ _id: { $prefix: 'g1/' } })).toBe(2);
      expect(await c.count()).toBe(3);
    });

    test('sorts, skips and limits', async () => {
      const c = ctx.store.documents.collection<Item>('items');
      await c.upsertMany([5, 3, 9, 1, 7].map((i) => item(i)));
      const asc = await all(c.find({}, { sort: { field: 'n' } }));
      expect(asc.map((d) => d.n)).toEqual([1, 3, 5, 7, 9]);
      const desc = await all(c.find({}, { sort: { field: 'n', direction: -1 }, skip: 1, limit: 2 }));
      expect(desc.map((d) => d.n)).toEqual([7, 5]);
      expect(await all(c.find({}, { limit: 0 }))).toEqual([]);
    });

    test('streams large results while the same store is written', async () => {
      const c = ctx.store.documents.collection<Item>('items');
      const other = ctx.store.documents.collection<Item>('copy');
      await c.upsertMany(Array.from({ length: 2500 }, (_, i) => item(i)));
      let seen = 0;
      for await (const doc of c.find()) {
        if (seen % 500 === 0) await other.upsertMany([doc]);
        seen++;
      }
      expect(seen).toBe(2500);
      expect(await other.count()).toBe(5);
    });

    test('deletes by filter and entirely', async () => {
      const c = ctx.store.documents.collection<Item>('items');
      await c.upsertMany(Array.from({ length: 6 }, (_, i) => item(i)));
      expect(await c.deleteMany({ tag: 'odd' })).toBe(3);
      expect(await c.count()).toBe(3);
      expect(await c.deleteMany()).toBe(3);
      expect(await c.count()).toBe(0);
    });

    test('answers empty on a collection never written', async () => {
      const c = ctx.store.documents.collection<Item>('never');
      expect(await c.count()).toBe(0);
      expect(await all(c.find({ n: 1 }))).toEqual([]);
      expect(await c.get('x')).toBeUndefined();
      expect(await c.deleteMany()).toBe(0);
    });

    test('creates indexes idempotently and enforces unique ones', async () => {
      const c = ctx.store.documents.collection<Item>('items');
      await c.ensureIndex(['tag']);
      await c.ensureIndex(['tag']);
      await c.ensureIndex(['n'], { unique: true });
      await c.upsertMany([item(1)]);
      await expect(c.upsertMany([{ ...item(1), _id: 'other' }])).rejects.toThrow();
      expect(await c.get('id-0001')).toEqual(item(1));
    });

    test('inserts if absent: the first insert wins, later ones change nothing', async () => {
      const c = ctx.store.documents.collection<Item>('claims');
      expect(await c.insertIfAbsent(item(1))).toBe(true);
      expect(await c.insertIfAbsent(item(1, { tag: 'second' }))).toBe(false);
      expect(await c.get('id-0001')).toEqual(item(1));
      expect(await c.count()).toBe(1);
    });

    test('compare-and-set replaces only a document in the expected state', async () => {
      const c = ctx.store.documents.collection<Item>('pointers');
      expect(await c.compareAndSet('id-0001', { n: 1 }, item(1))).toBe(false); // no document yet
      await c.insertIfAbsent(item(1));
      expect(await c.compareAndSet('id-0001', { n: 2 }, item(1, { n: 3 }))).toBe(false);
      expect(await c.get('id-0001')).toEqual(item(1));
      expect(await c.compareAndSet('id-0001', { n: 1, tag: 'odd' }, item(1, { n: 2 }))).toBe(true);
      expect((await c.get('id-0001'))?.n).toBe(2);
      expect(await c.compareAndSet('id-0001', { n: 1 }, item(1, { n: 9 }))).toBe(false); // stale expectation
      expect(await c.compareAndSet('id-0001', { flag: null }, item(1, { n: 4 }))).toBe(true); // null matches missing
      await expect(c.compareAndSet('id-0001', {}, item(2))).rejects.toThrow(/_id/);
    });

    test('lets exactly one of two racing writers (separate connections) claim a key or move a pointer', async () => {
      const other = await ctx.connect();
      const mine = ctx.store.documents.collection<Item>('race');
      const theirs = other.documents.collection<Item>('race');
      for (let round = 0; round < 20; round++) {
        const id = `claim-${round}`;
        const claims = await Promise.all([
          mine.insertIfAbsent({ ...item(round), _id: id, tag: 'mine' }),
          theirs.insertIfAbsent({ ...item(round), _id: id, tag: 'theirs' }),
        ]);
        expect(claims.filter(Boolean)).toHaveLength(1);
        expect((await mine.get(id))?.tag).toBe(claims[0] ? 'mine' : 'theirs');
        // Both read n = round and try to move the pointer on: one succeeds.
        const moves = await Promise.all([
          mine.compareAndSet(id, { n: round }, { ...item(round + 100), _id: id, tag: 'mine' }),
          theirs.compareAndSet(id, { n: round }, { ...item(round + 200), _id: id, tag: 'theirs' }),
        ]);
        expect(moves.filter(Boolean)).toHaveLength(1);
        expect((await theirs.get(id))?.n).toBe(moves[0] ? round + 100 : round + 200);
      }
    });

    test('rejects documents without a string _id', async () => {
      const c = ctx.store.documents.collection<Item>('items');
      await expect(c.upsertMany([{ ...item(1), _id: '' }])).rejects.toThrow(/_id/);
    });

    test('lists collections and keeps data across reopening', async () => {
      await ctx.store.documents.collection<Item>('a_one').upsertMany([item(1)]);
      await ctx.store.documents.collection<Item>('b_two').upsertMany([item(2)]);
      expect(await ctx.store.documents.listCollections()).toEqual(expect.arrayContaining(['a_one', 'b_two']));
      await ctx.store.close(); // closing twice is harmless
      await ctx.reopen();
      expect(await ctx.store.documents.collection<Item>('b_two').get('id-0002')).toEqual(item(2));
    });
  });
}
