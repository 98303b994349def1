import { appendFile, readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import sharp from 'sharp';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { dataCollections, splitCollections } from '../../src/stages/views.js';
import { pipelineState } from '../../src/stores/generations.js';
import { COLLECTIONS } from '../../src/collections.js';
import type { DemoCatalogueSummary } from '../../src/demo/generate-catalogue.js';
import { ChallengeDataLoader } from '../../src/stages/load/loader.js';
import { PrepareStage, SPLIT_COLLECTIONS } from '../../src/stages/prepare/stage.js';
import type { PrepareRun } from '../../src/stages/prepare/types.js';
import { IMAGE_METHOD_VERSION } from '../../src/stages/preprocess/image.js';
import type { ProgressEvent } from '../../src/progress.js';
import { Preprocessor } from '../../src/stages/preprocess/preprocessor.js';
import type { Store } from '../../src/stores/types.js';
import { makeCatalogue } from '../support/data.js';
import { all, storeBackends, useStore } from '../support/stores.js';

async function splitIds(store: Store): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const [split, coll] of Object.entries(await splitCollections(store))) {
    out[split] = (await all(coll.find())).map((d) => d._id).sort();
  }
  return out;
}

let data: DemoCatalogueSummary;
const DUPLICATES = 6;
beforeAll(async () => {
  data = await makeCatalogue({ rows: 300, testRows: 30, imageFraction: 0.9 });
  // Re-list a few products under new ids with the same text: the splitter must keep each pair together.
  const x = path.join(data.outDir, 'X_train_update.csv');
  const rows = parse(await readFile(x), { bom: true }).slice(1) as string[][];
  const y = parse(await readFile(path.join(data.outDir, 'Y_train_CVw08PX.csv')), { bom: true }).slice(1) as string[][];
  const label = new Map(y.map((r) => [r[0], r[1]]));
  for (let i = 0; i < DUPLICATES; i++) {
    const r = rows[i * 7] as string[];
    const q = (s: string) => `"${s.replace(/"/g, '""')}"`;
    await appendFile(x, `${5000 + i},${q(r[1] ?? '')},${q(r[2] ?? '')},${9_000_000 + i},${8_000_000 + i}\n`);
    await appendFile(path.join(data.outDir, 'Y_train_CVw08PX.csv'), `${5000 + i},${label.get(r[0] ?? '')}\n`);
  }
});

for (const backend of storeBackends()) {
  describe.skipIf(backend.skip)(`PrepareStage on ${backend.name}`, () => {
    const ctx = useStore(backend);
    const prepare = (seed = 42) => new PrepareStage(ctx.store, new Preprocessor({ image: { size: 32 } })).run({ seed });

    it('splits stratified, without overlap, keeping duplicates together, and records the run', async () => {
      await new ChallengeDataLoader(ctx.store).load({ dataDir: data.outDir });
      const run = await prepare();
      expect(run.status).toBe('completed');
      expect(run.records).toEqual({ train: 306, test: 30, unlabelled: 0 });
      const ids = await splitIds(ctx.store);
      const everything = [...(ids['train'] ?? []), ...(ids['val'] ?? []), ...(ids['test'] ?? [])];
      expect(everything).toHaveLength(306);
      expect(new Set(everything).size).toBe(306);
      expect(run.splits.train.total + run.splits.val.total + run.splits.test.total).toBe(306);
      for (const split of ['train', 'val', 'test'] as const) {
        expect(Object.keys(run.splits[split].perClass)).toHaveLength(27);
        expect(run.splits[split].total).toBe(ids[split]?.length);
      }
      expect(Math.abs(run.splits.val.total / 306 - 0.15)).toBeLessThan(0.02);
      // Every duplicate pair landed in one split, and the run counted them.
      const splitOf = new Map(Object.entries(ids).flatMap(([s, list]) => list.map((id) => [id, s] as const)));
      for (let i = 0; i < DUPLICATES; i++) expect(splitOf.get(String(5000 + i))).toBe(splitOf.get(String(i * 7)));
      expect(run.duplicateGroups.groups).toBeGreaterThanOrEqual(DUPLICATES);
      expect(run.duplicateGroups.byText).toBeGreaterThanOrEqual(2 * DUPLICATES);

      const doc = await (await splitCollections(ctx.store)).train.get(ids['train']?.[0] ?? '');
      expect(doc).toMatchObject({ split: 'train', language: expect.any(String), textHash: expect.any(String) });
      expect(doc?.designationTokens.length).toBeGreaterThan(0);
      const withImage = (await all((await splitCollections(ctx.store)).train.find())).find((d) => d.image);
      const png = await ctx.store.images.get(withImage?.image ?? '');
      expect(await sharp(png).metadata()).toMatchObject({ format: 'png', width: 32, height: 32 });
      expect((await ctx.store.images.stat(withImage?.image ?? ''))?.metadata).toMatchObject({ contentHash: withImage?.imageHash, size: 32 });
      expect(await ctx.store.images.count({ prefix: 'prep/32/test/' })).toBe(data.testImages);

      const stored = await ctx.store.documents.collection<PrepareRun>(COLLECTIONS.pipelineMetadata).get(run._id);
      expect(stored?.splits).toEqual(run.splits);
      expect(stored?.timings.total).toBeGreaterThan(0);
    });

    it('keeps the previous splits whole when a prepare is cancelled while it writes them', async () => {
      await expect(prepare()).rejects.toThrow(/No loaded data .* run `rakuten-pipeline load` first/);
      await new ChallengeDataLoader(ctx.store).load({ dataDir: data.outDir });
      const first = await prepare(1);
      const before = await splitIds(ctx.store);
      const controller = new AbortController();
      const cancelled = new PrepareStage(ctx.store, new Preprocessor({ image: { size: 32 } })).run({
        seed: 7,
        signal: controller.signal,
        onProgress: (e) => {
          if (e.phase === 'write') controller.abort(new Error('stop'));
        },
      });
      await expect(cancelled).rejects.toThrow();
      expect((await pipelineState(ctx.store)).prepare?.generation).toBe(first._id);
      expect(await splitIds(ctx.store)).toEqual(before);
      // Nothing of the cancelled generation is left in the collections themselves.
      let stored = 0;
      for (const name of Object.values(SPLIT_COLLECTIONS)) stored += await ctx.store.documents.collection(name).count();
      expect(stored).toBe(306);
      const runs = await all(ctx.store.documents.collection<PrepareRun>(COLLECTIONS.pipelineMetadata).find({ status: 'cancelled' }));
      expect(runs).toEqual([expect.objectContaining({ committed: false, dataGeneration: first.dataGeneration })]);
    });

    it('prepares the text of each row once, stages nothing past the commit, and reports rate and ETA', async () => {
      await new ChallengeDataLoader(ctx.store).load({ dataDir: data.outDir });
      const preprocessor = new Preprocessor({ image: { size: 32 } });
      const prepareText = vi.spyOn(preprocessor.text, 'prepare');
      const events: ProgressEvent[] = [];
      const run = await new PrepareStage(ctx.store, preprocessor).run({ seed: 3, onProgress: (e) => events.push(e) });
      expect(prepareText).toHaveBeenCalledTimes(run.records.train + run.records.test);
      // The staged products went into the splits and the staging was emptied before the commit.
      expect(await ctx.store.documents.collection(COLLECTIONS.prepareStaging).count()).toBe(0);
      const images = events.filter((e) => e.phase === 'images_train');
      expect(images.at(-1)).toMatchObject({ done: images.at(-1)?.total, unit: 'images' });
      const measured = images.filter((e) => e.rate !== undefined);
      expect(measured.length).toBeGreaterThan(images.length / 2);
      for (const e of measured) {
        expect(e.rate).toBeGreaterThan(0);
        expect(e.etaSeconds).toBeCloseTo((e.total - e.done) / (e.rate ?? 1), 6);
      }
    });

    it('prepares again an image stored by an older image method', async () => {
      await new ChallengeDataLoader(ctx.store).load({ dataDir: data.outDir });
      const first = await prepare(1);
      const [info] = await all(ctx.store.images.list({ prefix: 'prep/32/train/' }));
      const { imageVersion: _dropped, ...older } = info?.metadata ?? {};
      expect(_dropped).toBe(IMAGE_METHOD_VERSION);
      await ctx.store.images.put(info?.key ?? '', (await ctx.store.images.get(info?.key ?? '')) ?? Buffer.alloc(0), { contentType: 'image/png', metadata: older });
      const again = await prepare(1);
      expect(again.images).toMatchObject({ processed: 1, reused: first.images.processed - 1 });
      expect((await ctx.store.images.stat(info?.key ?? ''))?.metadata['imageVersion']).toBe(IMAGE_METHOD_VERSION);
    });

    it('repeats the same split for the same seed, moves products for another, and reports bad images', async () => {
      await new ChallengeDataLoader(ctx.store).load({ dataDir: data.outDir });
      const first = await prepare(1);
      const before = await splitIds(ctx.store);
      const again = await prepare(1);
      expect(await splitIds(ctx.store)).toEqual(before);
      expect(again.images).toMatchObject({ processed: 0, reused: first.images.processed });
      const other = await prepare(2);
      const after = await splitIds(ctx.store);
      expect(after).not.toEqual(before);
      const all3 = [...(after['train'] ?? []), ...(after['val'] ?? []), ...(after['test'] ?? [])];
      expect(new Set(all3).size).toBe(306);
      expect(all3).toHaveLength(306);
      expect(other.maxClassShareGapPp).toBeLessThan(5);

      // Corrupt one stored original: prepare reports it and goes on.
      const victim = (await all((await dataCollections(ctx.store)).xTrain.find())).find((r) => r.image);
      await ctx.store.images.put(victim?.image ?? '', Buffer.from('not a jpeg at all'), { metadata: { split: 'train' } });
      const bad = await prepare(2);
      expect(bad.status).toBe('completed_with_warnings');
      expect(bad.images.failed).toBe(1);
      expect(bad.failures[0]).toMatchObject({ productid: victim?.productid, image: victim?.image });
      const doc = await (await splitCollections(ctx.store))[(await splitOf(ctx.store, victim?._id ?? ''))].get(victim?._id ?? '');
      expect(doc?.image).toBeNull();
    });
  });
}

async function splitOf(store: Store, id: string): Promise<'train' | 'val' | 'test'> {
  for (const [split, coll] of Object.entries(await splitCollections(store))) {
    if (await coll.get(id)) return split as 'train' | 'val' | 'test';
  }
  throw new Error(`${id} is in no split`);
}
