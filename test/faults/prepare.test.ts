import { describe, expect, it } from 'vitest';
import { COLLECTIONS } from '../../src/collections.js';
import { storeViolations, type ReportedTraining } from '../support/invariants.js';
import { storeBackends, useStore } from '../support/stores.js';
import {
  changedCollections,
  collectionCounts,
  killChildrenAfterAll,
  killWhen,
  loadInto,
  prepareInto,
  runCliOk,
  startCli,
  trainArgs,
  useCatalogues,
} from './support.js';

// SIGKILL `rakuten-pipeline prepare` while it preprocesses images and while it writes the split
// collections over an earlier prepare with another seed (#20), then run the next command.

killChildrenAfterAll();
const cats = useCatalogues({ a: { seed: 21, rows: 800, imageFraction: 0.06 } });
const RUN_COLLECTIONS = [COLLECTIONS.runs, COLLECTIONS.pipelineMetadata, COLLECTIONS.jobs];

for (const backend of storeBackends()) {
  describe.skipIf(backend.skip)(`prepare killed (${backend.name})`, () => {
    const ctx = useStore(backend);

    /** Collections (run records aside) changed since `before`, and by how many documents in all. */
    const changes = async (before: Map<string, number>) => {
      const changed = changedCollections(before, await collectionCounts(ctx.store), RUN_COLLECTIONS);
      return { changed, docs: changed.reduce((a, c) => a + Math.abs(c.delta), 0), text: changed.map((c) => `${c.name} ${c.delta > 0 ? '+' : ''}${c.delta}`).join(', ') };
    };

    /** Loads A and prepares it with seed 42 through the library; returns the document counts then. */
    const preparedWithSeed42 = async () => {
      await loadInto(ctx.store, cats.a!.dir);
      await prepareInto(ctx.store, 42);
      return collectionCounts(ctx.store);
    };

    it('prepare --seed 7 over a seed-42 split, SIGKILLed at its first split writes; then train', async () => {
      const { harness } = ctx;
      const before = await preparedWithSeed42();
      const cli = startCli(['prepare', '--store', harness.uri, '--seed', '7']);
      const kill = await killWhen(cli, async () => {
        const c = await changes(before);
        return c.docs >= 50 && c.text;
      }, { label: 'first split writes' });
      const trained = await runCliOk<ReportedTraining>(trainArgs(harness.uri));
      expect(
        await storeViolations(ctx.store, harness.uri, { sources: [cats.a!.source], reported: [trained], trainedOnCurrentSplits: true, notRunning: ['prepare'] }),
        JSON.stringify(kill),
      ).toEqual([]);
    });

    it('prepare --seed 7 over a seed-42 split, SIGKILLed once a second split collection changed; then train', async () => {
      const { harness } = ctx;
      const before = await preparedWithSeed42();
      const cli = startCli(['prepare', '--store', harness.uri, '--seed', '7']);
      const kill = await killWhen(cli, async () => {
        const c = await changes(before);
        return c.changed.length >= 2 && c.text;
      }, { label: 'second split collection written' });
      const trained = await runCliOk<ReportedTraining>(trainArgs(harness.uri));
      expect(
        await storeViolations(ctx.store, harness.uri, { sources: [cats.a!.source], reported: [trained], trainedOnCurrentSplits: true, notRunning: ['prepare'] }),
        JSON.stringify(kill),
      ).toEqual([]);
    });

    it('first prepare SIGKILLed while it stores preprocessed images; then prepare again', async () => {
      const { harness } = ctx;
      await loadInto(ctx.store, cats.a!.dir);
      const images = await ctx.store.images.count();
      const cli = startCli(['prepare', '--store', harness.uri]);
      const kill = await killWhen(cli, async () => {
        const n = (await ctx.store.images.count()) - images;
        return n >= 20 && `${n} new images`;
      }, { label: 'preprocessed images being stored' });
      await runCliOk(['prepare', '--store', harness.uri, '--json']);
      expect(await storeViolations(ctx.store, harness.uri, { sources: [cats.a!.source], notRunning: ['prepare'] }), JSON.stringify(kill)).toEqual([]);
    });
  });
}
