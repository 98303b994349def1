import { describe, expect } from 'vitest';
import { COLLECTIONS } from '../../src/collections.js';
import { storeViolations, type ReportedTraining } from '../support/invariants.js';
import { storeBackends } from '../support/stores.js';
import {
  changedCollections,
  collectionCounts,
  killChildrenAfterAll,
  killWhen,
  loadInto,
  prepareInto,
  runCliOk,
  startCli,
  storeTest,
  trainArgs,
  trainInto,
  useCatalogues,
  type StoreCtx,
} from './support.js';

// SIGKILL `rakuten-pipeline prepare` while it preprocesses images and while it writes the split
// collections over an earlier prepare with another seed (#20), then run the next command.

killChildrenAfterAll();
const cats = useCatalogues({ a: { seed: 21, rows: 800, imageFraction: 0.06 } });
const RUN_COLLECTIONS = [COLLECTIONS.runs, COLLECTIONS.pipelineMetadata, COLLECTIONS.jobs, COLLECTIONS.state];

/** Collections (run records aside) changed since `before`, and by how many documents in all. */
async function changes({ store }: StoreCtx, before: Map<string, number>) {
  const changed = changedCollections(before, await collectionCounts(store), RUN_COLLECTIONS);
  return { changed, docs: changed.reduce((a, c) => a + Math.abs(c.delta), 0), text: changed.map((c) => `${c.name} ${c.delta > 0 ? '+' : ''}${c.delta}`).join(', ') };
}

/** Loads A and prepares it with seed 42 through the library; returns the document counts then. */
async function preparedWithSeed42({ store }: StoreCtx) {
  await loadInto(store, cats.a!.dir);
  await prepareInto(store, 42);
  return collectionCounts(store);
}

describe.concurrent('prepare killed', () => {
  for (const backend of storeBackends()) {
    const test = storeTest(backend);

    test('prepare --seed 7 over a seed-42 split, SIGKILLed at its first split writes; then train', async (ctx) => {
      const before = await preparedWithSeed42(ctx);
      const cli = startCli(['prepare', '--store', ctx.harness.uri, '--seed', '7']);
      const kill = await killWhen(cli, async () => {
        const c = await changes(ctx, before);
        return c.docs >= 50 && c.text;
      }, { label: 'first split writes' });
      const trained = await runCliOk<ReportedTraining>(trainArgs(ctx.harness.uri));
      expect(
        await storeViolations(ctx.store, ctx.harness.uri, { sources: [cats.a!.source], reported: [trained], trainedOnCurrentSplits: true, notRunning: ['prepare'] }),
        JSON.stringify(kill),
      ).toEqual([]);
    });

    test('prepare --seed 7 over a seed-42 split, SIGKILLed once a second split collection changed; then train', async (ctx) => {
      const before = await preparedWithSeed42(ctx);
      const cli = startCli(['prepare', '--store', ctx.harness.uri, '--seed', '7']);
      const kill = await killWhen(cli, async () => {
        const c = await changes(ctx, before);
        return c.changed.length >= 2 && c.text;
      }, { label: 'second split collection written' });
      const trained = await trainInto(ctx.store);
      expect(
        await storeViolations(ctx.store, ctx.harness.uri, { sources: [cats.a!.source], reported: [trained], trainedOnCurrentSplits: true, notRunning: ['prepare'] }),
        JSON.stringify(kill),
      ).toEqual([]);
    });

    test('first prepare SIGKILLed while it stores preprocessed images; then prepare again', async (ctx) => {
      await loadInto(ctx.store, cats.a!.dir);
      const images = await ctx.store.images.count();
      const cli = startCli(['prepare', '--store', ctx.harness.uri]);
      const kill = await killWhen(cli, async () => {
        const n = (await ctx.store.images.count()) - images;
        return n >= 20 && `${n} new images`;
      }, { label: 'preprocessed images being stored' });
      await prepareInto(ctx.store, 42);
      expect(await storeViolations(ctx.store, ctx.harness.uri, { sources: [cats.a!.source], notRunning: ['prepare'] }), JSON.stringify(kill)).toEqual([]);
    });
  }
});
