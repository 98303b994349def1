import { describe, expect } from 'vitest';
import { COLLECTIONS } from '../../src/collections.js';
import { storeViolations, type ReportedTraining } from '../support/invariants.js';
import { storeBackends } from '../support/stores.js';
import { mongoGate, sqliteGate, type WriteGate } from '../support/write-gate.js';
import { clisAtOnce, isEmbedded, killChildrenAfterAll, killWhen, loadInto, prepareInto, runCliOk, startCli, storeTest, trainArgs, trainInto, useCatalogues, type StoreCtx } from './support.js';

// SIGKILL `rakuten-pipeline train` during its registration (#21), then train again; and two
// trainings at once on one store (#23), lined up at their first write so they race for real.

killChildrenAfterAll();
const cats = useCatalogues({ a: { seed: 31, rows: 400, imageFraction: 0.05 } });

/** Loaded, prepared and a v1 champion, through the library. */
async function withChampion({ store }: StoreCtx) {
  await loadInto(store, cats.a!.dir);
  await prepareInto(store, 42);
  await trainInto(store);
}

describe.concurrent('train killed, trainings at once', () => {
  for (const backend of storeBackends()) {
    const test = storeTest(backend);

    // Embedded: the first write (the first weight file's row). MongoDB: the version's record,
    // once a weight file is in GridFS (the gate sees each command).
    test('SIGKILL held at a write of the registration by a write gate; then train', async (ctx) => {
      await withChampion(ctx);
      const gate: WriteGate = isEmbedded(ctx.harness) ? sqliteGate(ctx.harness.uri) : await mongoGate(ctx.harness.uri);
      try {
        await gate.close((cmd, coll, before) => coll === COLLECTIONS.modelMetadata && before.some((w) => w.endsWith(' fs.files')));
        const cli = startCli(trainArgs(gate.uri));
        const kill = await killWhen(cli, () => gate.isHeld(cli.pid) && 'held at a write', { label: 'registration write', intervalMs: 20 });
        await gate.open();
        const trained = await runCliOk<ReportedTraining>(trainArgs(ctx.harness.uri));
        expect(
          await storeViolations(ctx.store, ctx.harness.uri, { sources: [cats.a!.source], reported: [trained], trainedOnCurrentSplits: true, minVersions: 2 }),
          `${JSON.stringify(kill)} ${gate.log.join('; ')}`,
        ).toEqual([]);
      } finally {
        await gate.dispose();
      }
    });

    test('SIGKILL as soon as the new version has a weight file or a record (registration); then train', async (ctx) => {
      await withChampion(ctx);
      const models = ctx.store.documents.collection(COLLECTIONS.modelMetadata);
      const [files, docs] = [await ctx.store.images.count(), await models.count()];
      const cli = startCli(trainArgs(ctx.harness.uri));
      const kill = await killWhen(cli, async () => {
        const f = (await ctx.store.images.count()) - files;
        const d = (await models.count()) - docs;
        return (f > 0 || d > 0) && `${f} new files, ${d} new model records`;
      }, { label: 'registration' });
      const trained = await trainInto(ctx.store);
      expect(await storeViolations(ctx.store, ctx.harness.uri, { sources: [cats.a!.source], reported: [trained], trainedOnCurrentSplits: true, minVersions: 2 }), JSON.stringify(kill)).toEqual([]);
    });

    test('two trainings at once (--seed 5 --promote always), lined up at their first write', async (ctx) => {
      await withChampion(ctx);
      const exits = await clisAtOnce(ctx.harness, [0, 1].map(() => (uri: string) => trainArgs(uri, '--seed', '5', '--promote', 'always')), 'both trainings');
      const ok = exits.filter((e) => e.code === 0).map((e) => JSON.parse(e.stdout) as ReportedTraining);
      for (const e of exits.filter((x) => x.code !== 0)) expect(e.stderr, 'a training that lost says why').toMatch(/\S/);
      expect(ok.length, exits.map((e) => e.stderr).join('\n')).toBeGreaterThanOrEqual(1);
      expect(await storeViolations(ctx.store, ctx.harness.uri, { sources: [cats.a!.source], reported: ok, minVersions: 1 + ok.length })).toEqual([]);
    });
  }
});
