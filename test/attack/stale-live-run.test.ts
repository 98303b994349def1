// A run is judged dead when "its process is gone, or it has been silent for a minute"
// (isInterrupted). Silence is not death: the prepare below is alive — it is merely late with its
// heartbeat (a worker thread or a process on another host, blocked for a minute in synchronous
// work, or a host whose clock is a minute behind). A second prepare starting then:
//   1. deletes the live run's partial generation (collectGenerations drops the documents FIRST,
//      and only then compare-and-sets the record — the CAS protects the record, not the data);
//   2. nothing tells the live run: it writes its remaining splits and its commit succeeds.
// The committed pointer then names a generation with documents missing; train refuses it
// ("holds 0 products, N were committed") and evaluate reads a partial test split.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { COLLECTIONS } from '../../src/collections.js';
import { ChallengeDataLoader } from '../../src/stages/load/loader.js';
import { PrepareStage, SPLIT_COLLECTIONS } from '../../src/stages/prepare/stage.js';
import type { PrepareRun } from '../../src/stages/prepare/types.js';
import { Preprocessor } from '../../src/stages/preprocess/preprocessor.js';
import { currentSplits } from '../../src/stages/views.js';
import { collectGenerations, pipelineState, STALE_RUN_MS } from '../../src/stores/generations.js';
import { makeCatalogue } from '../support/data.js';
import { storeBackends, useStore } from '../support/stores.js';
import { hookStore } from './hooks.js';

afterEach(() => vi.useRealTimers());

for (const backend of storeBackends()) {
  describe.skipIf(backend.skip)(`a live but silent prepare on ${backend.name}`, () => {
    const ctx = useStore(backend);

    it('never commits a generation another run has garbage-collected', async () => {
      const data = await makeCatalogue({ rows: 90, testRows: 0, imageFraction: 0 });
      await new ChallengeDataLoader(ctx.store).load({ dataDir: data.outDir });
      const runs = ctx.store.documents.collection<PrepareRun>(COLLECTIONS.pipelineMetadata);
      let replayed = false;
      const hooked = hookStore(ctx.store, {
        async afterUpsert(name, docs) {
          // After the live prepare wrote its training split (its first split write) ...
          if (replayed || name !== COLLECTIONS.labeledTrain || docs.length === 0) return;
          replayed = true;
          // ... a minute passes without a heartbeat reaching the store (the clock moves on) ...
          vi.useFakeTimers({ toFake: ['Date'] });
          vi.setSystemTime(Date.now() + STALE_RUN_MS + 1_000);
          // ... and another prepare starts: exactly what PrepareStage.run does first.
          await collectGenerations(ctx.store, 'prepare', runs, new Set(['prepare-the-other-one']));
          vi.useRealTimers();
        },
      });
      const run = await new PrepareStage(hooked, new Preprocessor({ image: { size: 32 } })).run({ seed: 1 });
      expect(replayed).toBe(true);

      // Either the live run noticed and failed, or what it committed is whole.
      const state = await pipelineState(ctx.store);
      if (state.prepare?.generation === run._id) {
        const { pointer, splits } = await currentSplits(ctx.store);
        expect(await splits.train.count()).toBe(pointer.counts[SPLIT_COLLECTIONS.train]);
        expect(await splits.val.count()).toBe(pointer.counts[SPLIT_COLLECTIONS.val]);
      }
    });
  });
}
