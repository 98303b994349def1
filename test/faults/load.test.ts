import { describe, expect } from 'vitest';
import { COLLECTIONS } from '../../src/collections.js';
import { getDataStatus } from '../../src/stages/status.js';
import { storeViolations } from '../support/invariants.js';
import { storeBackends } from '../support/stores.js';
import {
  changedCollections,
  collectionCounts,
  clisAtOnce,
  killChildrenAfterAll,
  killWhen,
  loadInto,
  prepareInto,
  runCliOk,
  startCli,
  storeTest,
  useCatalogues,
  type CliExit,
  type KillOutcome,
  type StoreCtx,
} from './support.js';

// SIGKILL `rakuten-pipeline load` at several points, then run the next command; two loads at
// once. Triggers are observed in the store by a second connection while the child writes.

killChildrenAfterAll();
const cats = useCatalogues({ a: { seed: 11, rows: 1000, imageFraction: 0.06 }, b: { seed: 12, rows: 900, imageFraction: 0.06, indexOffset: 100_000 } });
const RUN_COLLECTIONS = [COLLECTIONS.runs, COLLECTIONS.pipelineMetadata, COLLECTIONS.jobs, COLLECTIONS.state];

type Snapshot = { docs: Map<string, number>; images: number };
const snapshot = async ({ store }: StoreCtx): Promise<Snapshot> => ({ docs: await collectionCounts(store), images: await store.images.count() });
/** Documents and images written since `before` (run records counted or not). */
const writtenSince = async ({ store }: StoreCtx, before: Snapshot, withRuns: boolean) => {
  const changed = changedCollections(before.docs, await collectionCounts(store), withRuns ? [] : RUN_COLLECTIONS);
  const images = (await store.images.count()) - before.images;
  return { docs: changed.reduce((a, c) => a + Math.abs(c.delta), 0), images };
};

/** Starts `load` of each folder at once, lined up at their first write by write gates; waits for both. */
function loadsAtOnce({ harness }: StoreCtx, dirs: readonly string[]): Promise<CliExit[]> {
  return clisAtOnce(harness, dirs.map((dir) => (uri: string) => ['load', '--data', dir, '--store', uri, '--json']), 'both loads');
}

/** At least one load succeeded; one that did not exited non-zero saying why (on stderr, or in its `--json` run record). */
function expectOneWinner(exits: readonly CliExit[]): void {
  expect(exits.some((e) => e.code === 0), exits.map((e) => e.stderr + e.stdout.slice(0, 300)).join('\n')).toBe(true);
  for (const e of exits.filter((x) => x.code !== 0)) {
    const why = e.stderr.trim() || ((): string => {
      try {
        return (JSON.parse(e.stdout) as { errors?: string[] }).errors?.join('; ') ?? '';
      } catch {
        return '';
      }
    })();
    expect(why, `a load that lost says why (exit ${e.code})`).toMatch(/\S/);
  }
}

describe.concurrent('load killed, loads at once', () => {
  for (const backend of storeBackends()) {
    const test = storeTest(backend);

    test('SIGKILL at its first write, at its first image, after a batch of rows; load again: exact rows, nothing twice, no run left running', async (ctx) => {
      const a = cats.a!;
      const points: { label: string; withRuns: boolean; seen: (w: { docs: number; images: number }) => string | false }[] = [
        { label: 'first write', withRuns: true, seen: (w) => (w.docs > 0 || w.images > 0) && `${w.docs} docs, ${w.images} images` },
        { label: 'first image stored', withRuns: false, seen: (w) => w.images > 0 && `${w.images} images` },
        { label: 'a batch of rows stored', withRuns: false, seen: (w) => w.docs >= 300 && `${w.docs} docs` },
      ];
      const kills: KillOutcome[] = [];
      for (const p of points) {
        const before = await snapshot(ctx);
        const cli = startCli(['load', '--data', a.dir, '--store', ctx.harness.uri]);
        kills.push(await killWhen(cli, async () => p.seen(await writtenSince(ctx, before, p.withRuns)), { label: p.label }));
      }
      await runCliOk(['load', '--data', a.dir, '--store', ctx.harness.uri]);
      const status = await getDataStatus(ctx.store);
      expect(status.lastLoad?.status).toMatch(/^completed/);
      expect(status.labelledTrainRows).toBe(a.source.labels.size);
      expect(status.testRows).toBe(a.source.xTest.size);
      expect(await storeViolations(ctx.store, ctx.harness.uri, { sources: [a.source], splits: false, notRunning: ['load'] }), JSON.stringify(kills)).toEqual([]);
    });

    test('a load of other data SIGKILLed mid-rows, then prepare: data and splits are exactly the complete earlier load', async (ctx) => {
      const [a, b] = [cats.a!, cats.b!];
      await loadInto(ctx.store, a.dir);
      const before = await snapshot(ctx);
      const cli = startCli(['load', '--data', b.dir, '--store', ctx.harness.uri]);
      const kill = await killWhen(cli, async () => {
        const w = await writtenSince(ctx, before, false);
        return w.docs >= 300 && `${w.docs} docs`;
      }, { label: 'other data, mid-rows' });
      await prepareInto(ctx.store, 42);
      expect(await storeViolations(ctx.store, ctx.harness.uri, { sources: [a.source], notRunning: ['prepare'] }), JSON.stringify(kill)).toEqual([]);
    });

    test('two loads of one folder at once: exact rows, no GridFS file twice, no run left running', async (ctx) => {
      const a = cats.a!;
      const exits = await loadsAtOnce(ctx, [a.dir, a.dir]);
      expectOneWinner(exits);
      expect(await storeViolations(ctx.store, ctx.harness.uri, { sources: [a.source], splits: false, notRunning: ['load'] })).toEqual([]);
    });

    test('two loads of different folders at once: the data is exactly one of them', async (ctx) => {
      const [a, b] = [cats.a!, cats.b!];
      const exits = await loadsAtOnce(ctx, [a.dir, b.dir]);
      expectOneWinner(exits);
      expect(await storeViolations(ctx.store, ctx.harness.uri, { sources: [a.source, b.source], splits: false, notRunning: ['load'] })).toEqual([]);
    });
  }
});
