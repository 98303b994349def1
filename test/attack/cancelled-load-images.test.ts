// A cancelled (or failed, or killed) load must leave the committed data "exactly as it was"
// (README, Guarantees). Original images are stored under a key derived from the file name only
// (`raw/<split>/image_<imageid>_product_<productid>.jpg`), shared by every data generation: a
// load that is then cancelled has already replaced the bytes behind the committed rows' keys.
import { cp, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ChallengeDataLoader, LoadError } from '../../src/stages/load/loader.js';
import { dataCollections } from '../../src/stages/views.js';
import { makeCatalogue, tempDir } from '../support/data.js';
import { storeBackends, useStore } from '../support/stores.js';

for (const backend of storeBackends()) {
  describe.skipIf(backend.skip)(`cancelled load vs committed images on ${backend.name}`, () => {
    const ctx = useStore(backend);

    it('a cancelled load leaves the bytes behind the committed rows unchanged', async () => {
      const data = await makeCatalogue({ rows: 40, testRows: 0, imageFraction: 1 });
      const first = await new ChallengeDataLoader(ctx.store).load({ dataDir: data.outDir, batchSize: 10 });
      expect(first.committed).toBe(true);
      const row0 = await (await dataCollections(ctx.store)).xTrain.get('0');
      const row1 = await (await dataCollections(ctx.store)).xTrain.get('1');
      const key0 = row0?.image ?? '';
      expect(key0).toMatch(/^raw\/train\//);
      const before = await ctx.store.images.get(key0);

      // The same catalogue, but product 0's photo was re-shot (another valid JPEG, same file name).
      const next = await tempDir('rp-next-');
      await cp(data.outDir, next, { recursive: true });
      const name = (k: string) => path.join(next, 'image_train', path.basename(k));
      await writeFile(name(key0), await readFile(name(row1?.image ?? '')));

      // Cancelled after its first batch (Ctrl-C, DELETE /jobs/{id}).
      const controller = new AbortController();
      const second = new ChallengeDataLoader(ctx.store).load({
        dataDir: next, batchSize: 10, signal: controller.signal,
        onProgress: (e) => { if (e.phase === 'x_train' && e.done > 0) controller.abort(new Error('cancelled')); },
      });
      await expect(second).rejects.toBeInstanceOf(LoadError);

      // Committed data: still generation 1, still pointing at key0 ...
      const after = await (await dataCollections(ctx.store)).xTrain.get('0');
      expect(after?.image).toBe(key0);
      // ... whose bytes must be the ones generation 1 loaded, not the cancelled load's.
      const bytes = await ctx.store.images.get(key0);
      expect(bytes?.equals(before ?? Buffer.alloc(0))).toBe(true);
    });
  });
}
