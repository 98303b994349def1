import { describe, expect, it } from 'vitest';
import { COLLECTIONS } from '../../src/collections.js';
import { createServer } from '../../src/http/server.js';
import type { JobView } from '../../src/http/jobs/types.js';
import type { PrepareRun } from '../../src/stages/prepare/types.js';
import { ApiClient, API_KEY, sleep } from '../http/support.js';
import { readSplits, storeViolations } from '../support/invariants.js';
import { storeBackends, type StoreBackend, type StoreHarness } from '../support/stores.js';
import { mongoGate, type WriteGate } from '../support/write-gate.js';
import { changedCollections, collectionCounts, loadInto, prepareInto, slot, useCatalogues, withReader } from './support.js';

// DELETE /jobs/{id} while a job writes (#42): the store keeps one complete state, and a job that
// reads `cancelled` committed nothing. Jobs run in worker threads, as under `serve`.
// On MongoDB the job's writes go through a write gate: the DELETE is certainly registered while
// the job is held at a write of its own (mid-write), then the job goes on. On the embedded store
// (a gate would also block the server's own writes) the DELETE follows the first writes seen.

const cats = useCatalogues({
  a: { seed: 41, rows: 2000, imageFraction: 0.02 },
  b: { seed: 42, rows: 2000, imageFraction: 0.02, indexOffset: 100_000 },
});
const RUN_COLLECTIONS = [COLLECTIONS.runs, COLLECTIONS.pipelineMetadata, COLLECTIONS.jobs, COLLECTIONS.state];

interface Server {
  client: ApiClient;
  harness: StoreHarness;
  gate: WriteGate | undefined;
}

/** A server (worker jobs) on a fresh store holding A prepared with seed 42; MongoDB: its store through a write gate. */
async function withServer(backend: StoreBackend, work: (s: Server) => Promise<void>): Promise<void> {
  await slot(async () => {
    const harness = await backend.create();
    const gate = harness.uri.startsWith('mongodb') ? await mongoGate(harness.uri) : undefined;
    try {
      await withReader(harness, async (store) => {
        await loadInto(store, cats.a!.dir);
        await prepareInto(store, 42);
      });
      const app = await createServer({
        logger: false,
        auth: { keys: [API_KEY] },
        storeUri: gate?.uri ?? harness.uri,
        dataDir: cats.a!.dir,
        allowedDataDirs: [cats.a!.dir, cats.b!.dir],
        jobs: 'worker',
      });
      try {
        const base = await app.listen({ port: 0, host: '127.0.0.1' });
        await work({ client: new ApiClient(base, { authorization: `Bearer ${API_KEY}` }), harness, gate });
      } finally {
        await app.close();
      }
    } finally {
      await gate?.dispose();
      await harness.dispose();
    }
  });
}

/** Starts a job and cancels it mid-write (see above); returns the final job and what was seen. */
async function cancelMidWrite(s: Server, route: string, body: unknown, collections: readonly string[], written: number): Promise<{ job: JobView; seen: string }> {
  return withReader(s.harness, async (store) => {
    const before = await collectionCounts(store);
    // MongoDB: hold the job at its second write to the collections it generates (the first passes).
    await s.gate?.close((cmd, coll, earlier) => collections.includes(coll) && earlier.some((w) => collections.includes(w.split(' ')[1] ?? '')));
    const job = await s.client.start(route, body);
    let seen = '';
    for (let i = 0, started = Date.now(); !seen; await sleep(2), i++) {
      const changed = changedCollections(before, await collectionCounts(store), RUN_COLLECTIONS);
      const n = changed.reduce((a, c) => a + Math.abs(c.delta), 0);
      if (s.gate ? s.gate.isHeld(0) : n >= written) seen = `${s.gate ? 'held at a write; ' : ''}${changed.map((c) => `${c.name} ${c.delta}`).join(', ')}`;
      // The job's state now and then only: the store is what the trigger watches, as often as it can.
      const state = seen || i % 50 !== 49 ? 'running' : (await s.client.get<JobView>(`/jobs/${job.id}`)).body.state;
      if (!seen && state !== 'running') throw new Error(`${route}: job ended (${state}) before its writes were seen`);
      if (Date.now() - started > 90_000) throw new Error(`${route}: writes not seen after 90 s`);
    }
    const cancel = await s.client.delete<JobView>(`/jobs/${job.id}`);
    expect(cancel.status, JSON.stringify(cancel.body)).toBe(202);
    await s.gate?.open();
    const final = await s.client.waitForJob(job.id);
    expect(final.state, `cancelled after ${seen}: ${JSON.stringify(final.error)}`).toBe('cancelled');
    return { job: final, seen };
  });
}

/** `id:split` of every committed split row, sorted. */
const assignment = (harness: StoreHarness) =>
  withReader(harness, async (store) => {
    const s = await readSplits(store);
    return (['train', 'val', 'test'] as const).flatMap((n) => s[n].map((d) => `${d._id}:${n}`)).sort();
  });

const moved = (before: string[], after: string[]) => {
  const b = new Set(before);
  const a = new Set(after);
  return { added: after.filter((x) => !b.has(x)).length, removed: before.filter((x) => !a.has(x)).length };
};

describe.concurrent('jobs cancelled mid-write over HTTP', () => {
  for (const backend of storeBackends()) {
    it.skipIf(backend.skip)(`DELETE a prepare --seed 7 during its split writes: the seed-42 split stays, whole [${backend.name}]`, { timeout: 300_000 }, () =>
      withServer(backend, async (s) => {
        const seed42 = await assignment(s.harness);
        const splits = [COLLECTIONS.labeledTrain, COLLECTIONS.labeledVal, COLLECTIONS.labeledTest];
        const { seen } = await cancelMidWrite(s, '/prepare-data', { seed: 7 }, splits, 50);
        const runs = await withReader(s.harness, async (store) => {
          const out: string[] = [];
          for await (const r of store.documents.collection<PrepareRun>(COLLECTIONS.pipelineMetadata).find({ kind: 'prepare' })) out.push(`${r._id} ${r.status} committed=${String(r.committed)} seed=${r.params.seed}`);
          return out;
        });
        const violations = await withReader(s.harness, (store) => storeViolations(store, s.harness.uri, { sources: [cats.a!.source], notRunning: ['prepare', 'load'] }));
        expect(violations, seen).toEqual([]);
        // A job that reads cancelled changed nothing.
        expect(moved(seed42, await assignment(s.harness)), `split rows changed by the cancelled prepare (DELETE after ${seen}); runs: ${runs.join(' | ')}`).toEqual({ added: 0, removed: 0 });
        const list = (await s.client.get<JobView[]>('/jobs')).body;
        expect(list.filter((j) => j.state === 'running')).toEqual([]);
      }),
    );

    // MongoDB only (the gate sees each command): the DELETE arrives while the commit's
    // compare-and-set of the pointer is on its way. Either the job reads succeeded (too late to
    // cancel), or it reads cancelled and nothing of it was committed.
    it.skipIf(backend.skip || !backend.name.startsWith('mongodb'))(`DELETE a prepare while its commit is in flight: a job that reads cancelled committed nothing [${backend.name}]`, { timeout: 300_000 }, () =>
      withServer(backend, async (s) => {
        const gate = s.gate!;
        const seed42 = await assignment(s.harness);
        await gate.close((cmd, coll) => coll === COLLECTIONS.state);
        const job = await s.client.start('/prepare-data', { seed: 7 });
        for (const started = Date.now(); !gate.isHeld(0); await sleep(10)) {
          if (Date.now() - started > 90_000) throw new Error(`commit not reached: ${gate.log.slice(-5).join('; ')}`);
        }
        const cancel = await s.client.delete<JobView>(`/jobs/${job.id}`);
        expect(cancel.status, JSON.stringify(cancel.body)).toBe(202);
        await gate.open();
        const final = await s.client.waitForJob(job.id);
        const changed = moved(seed42, await assignment(s.harness));
        const committed = changed.added + changed.removed > 0;
        expect({ state: final.state, committed }, `job ${final.state}, result ${JSON.stringify(final.result)?.slice(0, 200)}`).toEqual(
          committed ? { state: 'succeeded', committed: true } : { state: 'cancelled', committed: false },
        );
        const violations = await withReader(s.harness, (store) => storeViolations(store, s.harness.uri, { sources: [cats.a!.source], notRunning: ['prepare', 'load'] }));
        expect(violations).toEqual([]);
      }),
    );

    it.skipIf(backend.skip)(`DELETE a load of other data during its row writes: the data stays the complete earlier load [${backend.name}]`, { timeout: 300_000 }, () =>
      withServer(backend, async (s) => {
        const data = [COLLECTIONS.xTrain, COLLECTIONS.yTrain, COLLECTIONS.xTest];
        const { seen } = await cancelMidWrite(s, '/load-data', { dataDir: cats.b!.dir }, data, 300);
        const violations = await withReader(s.harness, (store) => storeViolations(store, s.harness.uri, { sources: [cats.a!.source], notRunning: ['prepare', 'load'] }));
        expect(violations, seen).toEqual([]);
      }),
    );
  }
});
