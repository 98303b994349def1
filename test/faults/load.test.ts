import { describe, expect, it } from 'vitest';
import { COLLECTIONS } from '../../src/collections.js';
import { getDataStatus } from '../../src/stages/status.js';
import { storeViolations } from '../support/invariants.js';
import { storeBackends, useStore } from '../support/stores.js';
import { mongoGate, sqliteGate, type WriteGate } from '../support/write-gate.js';
import { changedCollections, collectionCounts, isEmbedded, killChildrenAfterAll, killWhen, loadInto, runCliOk, sleep, startCli, useCatalogues, type CliExit, type KillOutcome } from './support.js';

// SIGKILL `rakuten-pipeline load` at several points, then run the next command, on each store.
// Triggers are observed in the store by a second connection while the child writes.

killChildrenAfterAll();
const cats = useCatalogues({ a: { seed: 11, rows: 1500, imageFraction: 0.1 }, b: { seed: 12, rows: 900, imageFraction: 0.1, indexOffset: 100_000 } });
const RUN_COLLECTIONS = [COLLECTIONS.runs, COLLECTIONS.pipelineMetadata, COLLECTIONS.jobs];

for (const backend of storeBackends()) {
  describe.skipIf(backend.skip)(`load killed (${backend.name})`, () => {
    const ctx = useStore(backend);

    /** Documents and images written since `before` (run records included or not). */
    const writtenSince = async (before: { docs: Map<string, number>; images: number }, withRuns: boolean) => {
      const changed = changedCollections(before.docs, await collectionCounts(ctx.store), withRuns ? [] : RUN_COLLECTIONS);
      const images = (await ctx.store.images.count()) - before.images;
      return { docs: changed.reduce((a, c) => a + Math.abs(c.delta), 0), images, changed };
    };
    const snapshot = async () => ({ docs: await collectionCounts(ctx.store), images: await ctx.store.images.count() });

    it('SIGKILL at its first write, at its first image, after a batch of rows; load again: exact rows, nothing twice, no run left running', async () => {
      const { harness } = ctx;
      const a = cats.a!;
      const points: { label: string; seen: (w: Awaited<ReturnType<typeof writtenSince>>) => string | false }[] = [
        { label: 'first write', seen: (w) => (w.docs > 0 || w.images > 0) && `${w.docs} docs, ${w.images} images` },
        { label: 'first image stored', seen: (w) => w.images > 0 && `${w.images} images` },
        { label: 'a batch of rows stored', seen: (w) => w.docs >= 300 && `${w.docs} docs` },
      ];
      const kills: KillOutcome[] = [];
      for (const p of points) {
        const before = await snapshot();
        const cli = startCli(['load', '--data', a.dir, '--store', harness.uri]);
        kills.push(await killWhen(cli, async () => p.seen(await writtenSince(before, p.label === 'first write')), { label: p.label }));
      }
      const stored = await ctx.store.documents.collection(COLLECTIONS.xTrain).count();
      expect(stored, 'the kills landed before all rows were stored').toBeLessThan(a.source.xTrain.size);
      await runCliOk(['load', '--data', a.dir, '--store', harness.uri]);
      const status = await getDataStatus(ctx.store);
      expect(status.lastLoad?.status).toMatch(/^completed/);
      expect(status.labelledTrainRows).toBe(a.source.labels.size);
      expect(status.testRows).toBe(a.source.xTest.size);
      expect(await storeViolations(ctx.store, harness.uri, { sources: [a.source], splits: false, notRunning: ['load'] }), JSON.stringify(kills)).toEqual([]);
    });

    it('a load of other data SIGKILLed mid-rows, then prepare: data and splits are exactly one complete load', async () => {
      const { harness } = ctx;
      const [a, b] = [cats.a!, cats.b!];
      await loadInto(ctx.store, a.dir);
      const before = await snapshot();
      const cli = startCli(['load', '--data', b.dir, '--store', harness.uri]);
      const kill = await killWhen(cli, async () => {
        const w = await writtenSince(before, false);
        return w.docs >= 300 && `${w.docs} docs`;
      }, { label: 'other data, mid-rows' });
      await runCliOk(['prepare', '--store', harness.uri, '--json']);
      // The committed data is A (B never completed); the splits are prepared from it.
      expect(await storeViolations(ctx.store, harness.uri, { sources: [a.source], notRunning: ['prepare'] }), JSON.stringify(kill)).toEqual([]);
    });

    /** Starts `load` of each folder at once, lined up at their first write by write gates; waits for both. */
    const loadsAtOnce = async (dirs: readonly string[]): Promise<CliExit[]> => {
      const gates: WriteGate[] = isEmbedded(ctx.harness) ? [sqliteGate(ctx.harness.uri)] : await Promise.all(dirs.map(() => mongoGate(ctx.harness.uri)));
      const gateFor = (i: number) => gates[i % gates.length]!;
      try {
        for (const g of gates) await g.close();
        const clis = dirs.map((dir, i) => startCli(['load', '--data', dir, '--store', gateFor(i).uri, '--json']));
        const started = Date.now();
        while (!clis.every((c, i) => gateFor(i).isHeld(c.pid) || c.child.exitCode !== null) && Date.now() - started < 60_000) await sleep(20);
        const lined = clis.map((c, i) => gateFor(i).isHeld(c.pid));
        for (const g of gates) await g.open();
        const exits = await Promise.all(clis.map((c) => c.exited));
        expect(lined, 'both loads reached their first write').toEqual(dirs.map(() => true));
        return exits;
      } finally {
        for (const g of gates) await g.dispose();
      }
    };

    it('two loads of one folder at once: exact rows, no GridFS file twice, no run left running', async () => {
      const a = cats.a!;
      const exits = await loadsAtOnce([a.dir, a.dir]);
      for (const e of exits) expect(e.code, e.stderr).toBe(0);
      expect(await storeViolations(ctx.store, ctx.harness.uri, { sources: [a.source], splits: false, notRunning: ['load'] })).toEqual([]);
    });

    it('two loads of different folders at once: the data is exactly one of them', async () => {
      const [a, b] = [cats.a!, cats.b!];
      const exits = await loadsAtOnce([a.dir, b.dir]);
      expect(exits.some((e) => e.code === 0), exits.map((e) => e.stderr).join('\n')).toBe(true);
      for (const e of exits.filter((x) => x.code !== 0)) expect(e.stderr, 'a load that lost says why').toMatch(/\S/);
      expect(await storeViolations(ctx.store, ctx.harness.uri, { sources: [a.source, b.source], splits: false, notRunning: ['load'] })).toEqual([]);
    });
  });
}
