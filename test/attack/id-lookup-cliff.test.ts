// A load compares every batch with the same rows of the previous generation:
// `previous.find({ _id: { $in: batchIds } })` through the generation view, which adds `_gen = ?`.
// On the embedded store SQLite then prefers the `_gen` index (equality) over the primary key
// (`id IN (...)`), so each batch scans EVERY row of the previous generation: a load over a
// previous generation of N rows costs O(N^2 / batch). Measured (this machine, text-only demo
// catalogue): 30k rows, first load 5.8 s, second load 17.9 s; the per-batch lookup over 85k rows
// is ~40 ms instead of ~1 ms. Since `_id` is `<generation>/<row id>` and generation ids hold no
// "/", the `_gen` condition is redundant whenever `_id` is given.
import { describe, expect, it } from 'vitest';
import { generationCollection } from '../../src/stores/generations.js';
import type { BaseDocument, Filter } from '../../src/stores/types.js';
import { all, storeBackends, useStore } from '../support/stores.js';

interface Row extends BaseDocument {
  designation: string;
}

const embedded = storeBackends().find((b) => b.name === 'embedded');

describe.skipIf(!embedded)('`_id $in` through a generation view on the embedded store', () => {
  const ctx = useStore(embedded!);

  async function fill(generation: string, n: number) {
    const coll = generationCollection<Row>(ctx.store, 'preprocessed_x_train', generation);
    for (let i = 0; i < n; i += 5000) {
      await coll.upsertMany(Array.from({ length: Math.min(5000, n - i) }, (_, k) => ({ _id: String(i + k), designation: 'x'.repeat(100) })));
    }
    return coll;
  }
  async function msPerLookup(coll: ReturnType<typeof generationCollection<Row>>, n: number): Promise<number> {
    const ids = Array.from({ length: 500 }, (_, k) => String((k * 37) % n));
    const run = async () => all(coll.find({ _id: { $in: ids } } as unknown as Filter<Row>));
    await run();
    const t = performance.now();
    for (let i = 0; i < 5; i++) expect((await run()).length).toBe(Math.min(500, n));
    return (performance.now() - t) / 5;
  }

  it('costs about what the same lookup by primary key costs', async () => {
    const n = 40_000;
    const view = await fill('g-large', n);
    const ids = Array.from({ length: 500 }, (_, k) => String((k * 37) % n));
    const base = ctx.store.documents.collection<Row>('preprocessed_x_train');
    const time = async (f: () => Promise<unknown[]>) => {
      await f();
      const t = performance.now();
      for (let i = 0; i < 5; i++) expect((await f()).length).toBe(500);
      return (performance.now() - t) / 5;
    };
    const viaView = await time(() => all(view.find({ _id: { $in: ids } } as unknown as Filter<Row>)));
    const byKey = await time(() => all(base.find({ _id: { $in: ids.map((id) => `g-large/${id}`) } } as unknown as Filter<Row>)));
    console.log(`500-id lookup over ${n} rows: view ${viaView.toFixed(1)} ms, primary key ${byKey.toFixed(1)} ms`);
    expect(viaView / byKey).toBeLessThan(2);
  });
});
