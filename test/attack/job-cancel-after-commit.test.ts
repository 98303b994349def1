// `DELETE /jobs/{id}` on a load that has already committed (it is in its clean-up: collecting old
// generations and unreferenced images). The load cannot be undone and returns normally, but the
// job manager records any job whose signal was aborted as `cancelled` — so the API tells the
// client "cancelled" (README: a cancelled load leaves nothing visible) while the store now
// holds the new data.
import { describe, expect, it } from 'vitest';
import { inlineExecutor } from '../../src/http/jobs/executor.js';
import { JobManager } from '../../src/http/jobs/manager.js';
import type { JobRecord } from '../../src/http/jobs/types.js';
import { createPipeline } from '../../src/pipeline/pipeline.js';
import { pipelineState } from '../../src/stores/generations.js';
import { makeCatalogue } from '../support/data.js';
import { storeBackends, useStore } from '../support/stores.js';
import { hookStore } from './hooks.js';

for (const backend of storeBackends()) {
  describe.skipIf(backend.skip)(`cancelling a load job after its commit on ${backend.name}`, () => {
    const ctx = useStore(backend);

    it('reports the job as it ended: not cancelled when its data became current', async () => {
      const data = await makeCatalogue({ rows: 30, testRows: 0, imageFraction: 1 });
      let manager: JobManager | undefined;
      let jobId = '';
      let cancelled = false;
      // The load lists raw/ images only after its commit (garbage collection of originals).
      const hooked = hookStore(ctx.store, {
        async beforeList(filter) {
          if (cancelled || filter?.prefix !== 'raw/') return;
          cancelled = true;
          await manager?.cancel(jobId);
        },
      });
      manager = new JobManager(hooked.documents, {
        executor: inlineExecutor(await createPipeline({ store: hooked })),
        persistEveryMs: 0,
      });
      await manager.init();
      try {
        const job = await manager.start('load', { dataDir: data.outDir });
        jobId = job._id;
        await manager.settled(job._id);
        expect(cancelled).toBe(true);
        const final = await manager.get(job._id);
        const state = await pipelineState(ctx.store);
        const committed = state.data?.generation !== undefined;
        // If the data of this job is now current, the job must not read "cancelled".
        expect(committed).toBe(true);
        expect(final?.state).toBe('succeeded');
      } finally {
        await manager.close();
      }
    });
  });
}
