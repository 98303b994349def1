import { describe, expect } from 'vitest';
import { COLLECTIONS } from '../../src/collections.js';
import { storeViolations, type ReportedTraining } from '../support/invariants.js';
import { storeBackends } from '../support/stores.js';
import { mongoGate } from '../support/write-gate.js';
import {
  changedCollections,
  collectionCounts,
  killChildrenAfterAll,
  isEmbedded,
  killWhen,
  type KillOutcome,
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
const SPLIT_COLLECTIONS: readonly string[] = [COLLECTIONS.labeledTrain, COLLECTIONS.labeledVal, COLLECTIONS.labeledTest];
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

    // MongoDB: a write gate holds the chosen split write (polling the emulator from the test is
    // slower than the child's writes, so a probe could fire after the child exited). Embedded:
    // the test's reads are fast; it polls the counts.
    const splitWrite = (w: string) => {
      const [cmd, coll] = w.split(' ');
      return (cmd === 'insert' || cmd === 'update') && SPLIT_COLLECTIONS.includes(coll ?? ''); // upsertMany: bulk `update`s
    };
    const killSeed7 = async (
      ctx: StoreCtx,
      label: string,
      probe: (c: Awaited<ReturnType<typeof changes>>) => string | false,
      hold: (write: string, seen: readonly string[]) => boolean,
    ): Promise<KillOutcome> => {
      const before = await preparedWithSeed42(ctx);
      if (isEmbedded(ctx.harness)) {
        const cli = startCli(['prepare', '--store', ctx.harness.uri, '--seed', '7']);
        return killWhen(cli, async () => probe(await changes(ctx, before)), { label });
      }
      const gate = await mongoGate(ctx.harness.uri);
      try {
        await gate.close((cmd, coll, seen) => hold(`${cmd} ${coll}`, seen));
        const cli = startCli(['prepare', '--store', gate.uri, '--seed', '7']);
        const kill = await killWhen(cli, () => gate.isHeld(cli.pid) && `held after ${gate.log.filter(splitWrite).length - 1} split writes`, { label, intervalMs: 20 });
        await gate.open();
        return kill;
      } finally {
        await gate.dispose();
      }
    };

    test('prepare --seed 7 over a seed-42 split, SIGKILLed at its first split writes; then train', async (ctx) => {
      const kill = await killSeed7(
        ctx,
        'first split writes',
        (c) => c.docs >= 50 && c.text,
        (w, seen) => splitWrite(w) && seen.some(splitWrite),
      );
      const trained = await runCliOk<ReportedTraining>(trainArgs(ctx.harness.uri));
      expect(
        await storeViolations(ctx.store, ctx.harness.uri, { sources: [cats.a!.source], reported: [trained], trainedOnCurrentSplits: true, notRunning: ['prepare'] }),
        JSON.stringify(kill),
      ).toEqual([]);
    });

    test('prepare --seed 7 over a seed-42 split, SIGKILLed once a second split collection changed; then train', async (ctx) => {
      const kill = await killSeed7(
        ctx,
        'second split collection written',
        (c) => c.changed.length >= 2 && c.text,
        (w, seen) => splitWrite(w) && seen.some((s) => splitWrite(s) && s !== w),
      );
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
