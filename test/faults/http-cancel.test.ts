import { describe, expect, it } from 'vitest';
import { COLLECTIONS } from '../../src/collections.js';
import type { JobView } from '../../src/http/jobs/types.js';
import { readSplits, storeViolations } from '../support/invariants.js';
import { storeBackends } from '../support/stores.js';
import { startApi, type RunningApi } from '../http/support.js';
import { changedCollections, collectionCounts, loadInto, prepareInto, sleep, slot, useCatalogues, withReader } from './support.js';

// DELETE /jobs/{id} while a job writes (#42): the store keeps one complete state.

const cats = useCatalogues({
  a: { seed: 41, rows: 1200, imageFraction: 0.03 },
  b: { seed: 42, rows: 900, imageFraction: 0.03, indexOffset: 100_000 },
});
const RUN_COLLECTIONS = [COLLECTIONS.runs, COLLECTIONS.pipelineMetadata, COLLECTIONS.jobs];

describe.concurrent('jobs cancelled mid-write over HTTP', () => {
  for (const backend of storeBackends()) {
    /** A server in worker mode (as `serve` runs it) on a store already holding A, prepared with seed 42. */
    const withServer = (work: (api: RunningApi) => Promise<void>) => slot(async () => {
      const api = await startApi(backend, { dataDir: cats.a!.dir, allowedDataDirs: [cats.a!.dir, cats.b!.dir], jobs: 'worker' });
      try {
        await withReader(api.harness, async (store) => {
          await loadInto(store, cats.a!.dir);
          await prepareInto(store, 42);
        });
        await work(api);
      } finally {
        await api.close();
      }
    });

    /** Starts a job, cancels it once `written` documents (run records aside) changed, waits for its end. */
    const cancelMidWrite = async (api: RunningApi, route: string, body: unknown, written: number): Promise<{ job: JobView; seen: string }> => {
      return withReader(api.harness, async (store) => {
        const before = await collectionCounts(store);
        const job = await api.client.start(route, body);
        let seen = '';
        for (const started = Date.now(); !seen; await sleep(2)) {
          const changed = changedCollections(before, await collectionCounts(store), RUN_COLLECTIONS);
          if (changed.reduce((a, c) => a + Math.abs(c.delta), 0) >= written) seen = changed.map((c) => `${c.name} ${c.delta}`).join(', ');
          const state = (await api.client.get<JobView>(`/jobs/${job.id}`)).body.state;
          if (!seen && state !== 'running') throw new Error(`${route}: job ended (${state}) before its writes were seen`);
          if (Date.now() - started > 90_000) throw new Error(`${route}: writes not seen after 90 s`);
        }
        const cancel = await api.client.delete<JobView>(`/jobs/${job.id}`);
        expect(cancel.status, JSON.stringify(cancel.body)).toBe(202);
        const final = await api.client.waitForJob(job.id);
        expect(final.state, `cancelled after ${seen}: ${JSON.stringify(final.error)}`).toBe('cancelled');
        return { job: final, seen };
      });
    };

    /** `id:split` of every split row, sorted. */
    const assignment = (api: RunningApi) =>
      withReader(api.harness, async (store) => {
        const s = await readSplits(store);
        return (['train', 'val', 'test'] as const).flatMap((n) => s[n].map((d) => `${d._id}:${n}`)).sort();
      });
    const moved = (before: string[], after: string[]) => {
      const b = new Set(before);
      const a = new Set(after);
      return { added: after.filter((x) => !b.has(x)).length, removed: before.filter((x) => !a.has(x)).length };
    };

    it.skipIf(backend.skip)(`DELETE a prepare --seed 7 during its split writes: the seed-42 split stays, whole [${backend.name}]`, { timeout: 300_000 }, async () => {
      await withServer(async (api) => {
        const seed42 = await assignment(api);
        const { seen } = await cancelMidWrite(api, '/prepare-data', { seed: 7 }, 50);
        const violations = await withReader(api.harness, (store) => storeViolations(store, api.harness.uri, { sources: [cats.a!.source], notRunning: ['prepare', 'load'] }));
        expect(violations, seen).toEqual([]);
        // A cancelled job changed nothing.
        expect(moved(seed42, await assignment(api)), `split rows changed by the cancelled prepare (cancelled after ${seen})`).toEqual({ added: 0, removed: 0 });
        const jobs = (await api.client.get<{ jobs: JobView[] } | JobView[]>('/jobs')).body;
        const list = Array.isArray(jobs) ? jobs : jobs.jobs;
        expect(list.filter((j) => j.state === 'running')).toEqual([]);
      });
    });

    it.skipIf(backend.skip)(`DELETE a load of other data during its row writes: the data stays the complete earlier load [${backend.name}]`, { timeout: 300_000 }, async () => {
      await withServer(async (api) => {
        const { seen } = await cancelMidWrite(api, '/load-data', { dataDir: cats.b!.dir }, 300);
        const violations = await withReader(api.harness, (store) => storeViolations(store, api.harness.uri, { sources: [cats.a!.source], notRunning: ['prepare', 'load'] }));
        expect(violations, seen).toEqual([]);
      });
    });
  }
});
