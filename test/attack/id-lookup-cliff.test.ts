// A load compares every batch with the same rows of the previous generation:
// `previous.find({ _id: { $in: batchIds } })` through the generation view, which adds `_gen = ?`.
// On the embedded store SQLite then prefers the `_gen` index (equality) over the primary key
// (`id IN (...)`), so each batch scans EVERY row of the previous generation: a load over a
// previous generation of N rows costs O(N^2 / batch). Measured (this machine, text-only demo
// catalogue): 30k rows, first load 5.8 s, second load 17.9 s; the per-batch lookup over 85k rows
// is ~40 ms instead of ~1 ms. Since `_id` is `<generation>/<row id>` and generation ids hold no
// "/", the `_gen` condition is redundant whenever `_id` is given.
import Database from 'better-sqlite3';
import { describe, expect, it, vi } from 'vitest';
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

  it('looks rows up by primary key, not by scanning the generation', async () => {
    const n = 20_000;
    const view = await fill('g-large', n);
    const ids = Array.from({ length: 500 }, (_, k) => String((k * 37) % n));
    // Capture the SQL the view's lookup runs, and ask SQLite how it plans it.
    const seen: { db: Database.Database; sql: string }[] = [];
    const original = Database.prototype.prepare;
    const spy = vi.spyOn(Database.prototype, 'prepare').mockImplementation(function (this: Database.Database, sql: string) {
      seen.push({ db: this, sql });
      return original.call(this, sql);
    } as typeof original);
    try {
      expect(await all(view.find({ _id: { $in: ids } } as unknown as Filter<Row>))).toHaveLength(500);
    } finally {
      spy.mockRestore();
    }
    const lookup = seen.find((s) => s.sql.startsWith('SELECT doc') && s.sql.includes(' IN ('));
    expect(lookup).toBeDefined();
    const extra = (lookup!.sql.match(/\?/g) ?? []).length - ids.length - 2; // 1 when `_gen = ?` is there
    const plan = lookup!.db
      .prepare(`EXPLAIN QUERY PLAN ${lookup!.sql}`)
      .all(...ids.map((id) => `g-large/${id}`), ...(extra === 1 ? ['g-large'] : []), 1000, 0) as { detail: string }[];
    const details = plan.map((p) => p.detail).join(' | ');
    // Before: "SEARCH doc:preprocessed_x_train USING INDEX idx:preprocessed_x_train:_gen (<expr>=?)"
    expect(details).not.toMatch(/_gen/);
    expect(details).toMatch(/autoindex|PRIMARY|\(id=\?\)/);
  });
});
