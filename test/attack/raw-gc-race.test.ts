// Garbage collection of original images (`collectRawImages`, run at the end of every load) checks
// "is another load or prepare running?" once, at its start, then reads every row of two
// generations and lists the store. A load that starts in that window and stores its images has
// them deleted: it then commits rows whose `image` key points at nothing.
import { describe, expect, it } from 'vitest';
import { COLLECTIONS } from '../../src/collections.js';
import { collectRawImages } from '../../src/stages/collect.js';
import { ChallengeDataLoader } from '../../src/stages/load/loader.js';
import type { LoadRun } from '../../src/stages/load/types.js';
import { currentOwner } from '../../src/stores/generations.js';
import { makeCatalogue } from '../support/data.js';
import { storeBackends, useStore } from '../support/stores.js';
import { hookStore } from './hooks.js';

for (const backend of storeBackends()) {
  describe.skipIf(backend.skip)(`raw image GC vs a load starting meanwhile on ${backend.name}`, () => {
    const ctx = useStore(backend);

    it('does not delete the images of a load that started after the "others running" check', async () => {
      const data = await makeCatalogue({ rows: 20, testRows: 0, imageFraction: 1 });
      const first = await new ChallengeDataLoader(ctx.store).load({ dataDir: data.outDir });
      const jpeg = (await ctx.store.images.get((await ctx.store.images.list({ prefix: 'raw/' })[Symbol.asyncIterator]().next()).value.key))!;

      // Replays: GC has checked that nothing else runs, and is reading the generations' rows;
      // another load starts now (its run record says `running`, owner alive) and stores a new image.
      const newKey = 'raw/train/image_999999_product_999999.jpg';
      let raced = false;
      const hooked = hookStore(ctx.store, {
        async beforeList() {
          if (raced) return;
          raced = true;
          const other = { ...first, _id: 'load-other', status: 'running', committed: false, owner: currentOwner(), heartbeatAt: new Date().toISOString() } as LoadRun;
          delete other.collected;
          await ctx.store.documents.collection<LoadRun>(COLLECTIONS.runs).upsertMany([other]);
          await ctx.store.images.put(newKey, jpeg);
        },
      });
      await collectRawImages(hooked, first._id);
      // The other load will commit a row pointing at newKey: the bytes must still be there.
      expect(await ctx.store.images.stat(newKey)).toBeDefined();
    });
  });
}
