import { beforeAll, describe, expect, it } from 'vitest';
import { COLLECTIONS } from '../../src/collections.js';
import { ChallengeDataLoader } from '../../src/stages/load/loader.js';
import { PrepareStage } from '../../src/stages/prepare/stage.js';
import type { PrepareRun } from '../../src/stages/prepare/types.js';
import { Preprocessor } from '../../src/stages/preprocess/preprocessor.js';
import { assignSplits, DEFAULT_SPLIT_SEED, type SplitItem } from '../../src/stages/split/assign.js';
import { Splitter } from '../../src/stages/split/splitter.js';
import { splitCollections } from '../../src/stages/views.js';
import type { Store } from '../../src/stores/types.js';
import { makeCatalogue } from '../support/data.js';
import { all, storeBackends, useStore } from '../support/stores.js';

const ITEMS: SplitItem[] = Array.from({ length: 200 }, (_, i) => ({
  id: `p${String(i).padStart(3, '0')}`,
  label: [10, 40, 50, 60][i % 4] as number,
  // Every fifth product shares its text with the next one.
  groupKeys: i % 5 === 0 || i % 5 === 1 ? [`t:${Math.floor(i / 5)}`] : [],
}));

describe('Splitter', () => {
  it('is assignSplits with its seed and fractions', () => {
    expect(new Splitter().split(ITEMS)).toEqual(assignSplits(ITEMS));
    const splitter = new Splitter({ seed: 7, fractions: { val: 0.1, test: 0.2 } });
    expect(splitter.seed).toBe(7);
    expect(splitter.fractions).toEqual({ val: 0.1, test: 0.2 });
    expect(splitter.split(ITEMS)).toEqual(assignSplits(ITEMS, { seed: 7, fractions: { val: 0.1, test: 0.2 } }));
    expect(splitter.split([...ITEMS].reverse())).toEqual(splitter.split(ITEMS));
    const { splitOf } = splitter.split(ITEMS);
    expect(splitOf.get('p000')).toBe(splitOf.get('p001'));
  });

  it('defaults each option on its own, and replaces some with with()', () => {
    expect(new Splitter({ fractions: { val: 0.3 } }).fractions).toEqual({ val: 0.3, test: 0.15 });
    const base = new Splitter({ seed: 5, fractions: { val: 0.2, test: 0.1 } });
    const other = base.with({ fractions: { test: 0.25 } });
    expect([other.seed, other.fractions]).toEqual([5, { val: 0.2, test: 0.25 }]);
    expect(base.with({}).split(ITEMS)).toEqual(base.split(ITEMS));
    expect(new Splitter().seed).toBe(DEFAULT_SPLIT_SEED);
  });

  it('refuses bad options when created, before any data', () => {
    expect(() => new Splitter({ fractions: { val: 0.6, test: 0.5 } })).toThrow(RangeError);
    expect(() => new Splitter({ fractions: { val: -0.1 } })).toThrow(/fractions\.val must be a number in \[0, 1\)/);
    expect(() => new Splitter({ seed: Number.NaN })).toThrow(/seed must be a finite number/);
    expect(() => new Splitter().with({ fractions: { test: 1 } })).toThrow(RangeError);
  });
});

const [embedded] = storeBackends();
describe('PrepareStage with a Splitter', () => {
  const ctx = useStore(embedded!);
  let dataDir: string;
  beforeAll(async () => {
    dataDir = (await makeCatalogue({ rows: 150, testRows: 20, imageFraction: 0 })).outDir;
  });

  const splitIds = async (store: Store): Promise<Record<string, string[]>> => {
    const out: Record<string, string[]> = {};
    for (const [split, coll] of Object.entries(await splitCollections(store))) out[split] = (await all(coll.find())).map((d) => d._id).sort();
    return out;
  };

  it("splits with its splitter unless run()'s options override the seed or fractions", async () => {
    await new ChallengeDataLoader(ctx.store).load({ dataDir });
    const preprocessor = new Preprocessor({ image: { size: 32 } });
    const stage = new PrepareStage(ctx.store, preprocessor, new Splitter({ seed: 9, fractions: { val: 0.2, test: 0.1 } }));
    const run = await stage.run();
    expect(run.params).toMatchObject({ seed: 9, val: 0.2, test: 0.1 });
    const withSplitter = await splitIds(ctx.store);

    // The same split, asked for through run()'s options of a stage without a splitter.
    const explicit = await new PrepareStage(ctx.store, preprocessor).run({ seed: 9, val: 0.2, test: 0.1 });
    expect(explicit.params).toMatchObject({ seed: 9, val: 0.2, test: 0.1 });
    expect(await splitIds(ctx.store)).toEqual(withSplitter);

    // run()'s options win, one by one.
    const overridden = await stage.run({ seed: 3, test: 0.3 });
    expect(overridden.params).toMatchObject({ seed: 3, val: 0.2, test: 0.3 });
    expect(await splitIds(ctx.store)).not.toEqual(withSplitter);
    const runs = await all(ctx.store.documents.collection<PrepareRun>(COLLECTIONS.pipelineMetadata).find({ kind: 'prepare' }));
    expect(runs).toHaveLength(3);

    // Without a splitter nor options: the defaults, as before.
    expect((await new PrepareStage(ctx.store, preprocessor).run()).params).toMatchObject({ seed: 42, val: 0.15, test: 0.15 });
  });
});
