import { appendFile, copyFile, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { dataCollections } from '../../src/stages/views.js';
import { describe, expect, it } from 'vitest';
import { COLLECTIONS } from '../../src/collections.js';
import { ChallengeDataLoader, LoadError } from '../../src/stages/load/loader.js';
import type { LoadRun, ProductRow, QuarantineEntry } from '../../src/stages/load/types.js';
import { getDataStatus } from '../../src/stages/status.js';
import { GenerationWriter, pipelineState } from '../../src/stores/generations.js';
import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { makeCatalogue, REAL_DATA_DIR, REAL_DATA_SKIP } from '../support/data.js';
import { all, storeBackends, useStore } from '../support/stores.js';

function entries(run: LoadRun, reason: QuarantineEntry['reason']): QuarantineEntry[] {
  return run.quarantine.filter((e) => e.reason === reason);
}

for (const backend of storeBackends()) {
  describe.skipIf(backend.skip)(`DataLoader on ${backend.name}`, () => {
    const ctx = useStore(backend);
    const load = (dataDir: string) => new ChallengeDataLoader(ctx.store).load({ dataDir, batchSize: 50 });

    it('loads a clean catalogue, joins labels by index, and is idempotent', async () => {
      const data = await makeCatalogue({ rows: 150, testRows: 20, imageFraction: 1 });
      // Shuffle Y: the join must use the index column, not the row position.
      const yFile = path.join(data.outDir, 'Y_train_CVw08PX.csv');
      const [header, ...lines] = (await readFile(yFile, 'utf8')).trimEnd().split('\n');
      const expected = new Map(lines.map((l) => l.split(',') as [string, string]));
      await writeFile(yFile, `${header}\n${lines.reverse().join('\n')}\n`);

      const first = await load(data.outDir);
      expect(first.status).toBe('completed');
      expect(first.rows.train).toMatchObject({ read: 150, stored: 150, inserted: 150, rejected: 0 });
      expect(first.rows.test).toMatchObject({ stored: 20, inserted: 20 });
      expect(first.labelledTrainRows).toBe(150);
      expect(first.images.train).toMatchObject({ withImage: 150, inserted: 150, missing: 0 });
      expect(first.quarantineTotal).toBe(0);

      const labels = await all((await dataCollections(ctx.store)).yTrain.find());
      expect(labels).toHaveLength(150);
      for (const l of labels) expect(String(l.prdtypecode)).toBe(expected.get(String(l.index)));
      const row = await (await dataCollections(ctx.store)).xTrain.get('0');
      expect(row?.image).toMatch(/^raw\/train\/[0-9a-f]{16}\/image_\d+_product_\d+\.jpg$/);
      const info = await ctx.store.images.stat(row?.image ?? '');
      expect(info?.metadata).toMatchObject({ split: 'train', productid: row?.productid, imageid: row?.imageid, width: 64 });

      const second = await load(data.outDir);
      expect(second.rows.train).toMatchObject({ stored: 150, inserted: 0, updated: 0, unchanged: 150 });
      expect(second.images.train).toMatchObject({ inserted: 0, unchanged: 150 });
      const status = await getDataStatus(ctx.store);
      expect(status.collections[COLLECTIONS.xTrain]).toBe(150);
      expect(status.collections[COLLECTIONS.yTrain]).toBe(150);
      expect(status.collections[COLLECTIONS.runs]).toBe(2);
      expect(status.images.train).toEqual({ rows: 150, withImage: 150, missing: 0, stored: 150 });
      expect(status.images.total).toBe(170);
      expect(status.lastLoad?._id).toBe(second._id);
    });

    it('reports every kind of bad row and still stores the good ones', async () => {
      const faults = { missingId: 2, unknownLabel: 2, duplicateProductId: 1, missingImage: 2, corruptImage: 2, orphanImage: 3 };
      const data = await makeCatalogue({ rows: 120, imageFraction: 1, faults });
      const run = await load(data.outDir);
      expect(run.status).toBe('completed_with_warnings');
      const rejectedIdx = new Set([...data.injected.missingId, ...data.injected.duplicateProductId]);
      expect(run.rows.train.rejected).toBe(rejectedIdx.size);
      expect(run.rows.train.stored).toBe(120 - rejectedIdx.size);

      const missingId = entries(run, 'missing_id');
      expect(missingId).toHaveLength(2);
      for (const e of missingId) expect(e).toMatchObject({ file: 'X_train_update.csv', field: 'productid', action: 'rejected' });
      expect(entries(run, 'duplicate_productid')).toHaveLength(1);
      const unknown = entries(run, 'label_for_unknown_row');
      expect(unknown.map((e) => e.file)).toEqual(['Y_train_CVw08PX.csv', 'Y_train_CVw08PX.csv']);
      for (const index of data.injected.unknownLabel) expect(unknown.some((e) => e.message.includes(`index ${index}`))).toBe(true);
      const missing = entries(run, 'missing_image');
      expect(missing).toHaveLength(2);
      expect(missing.every((e) => e.action === 'kept' && e.field === 'imageid')).toBe(true);
      expect(entries(run, 'undecodable_image')).toHaveLength(2);
      // The rejected duplicate's own image has no stored row either, so it joins the 3 orphans.
      expect(run.images.train.orphan).toBe(4);
      expect(run.warnings.some((w) => w.includes('4 images of products with no row'))).toBe(true);
      for (const e of run.quarantine) {
        expect(e.row).toBeGreaterThan(0);
        expect(e.line).toBeGreaterThan(1);
      }

      const rows = (await dataCollections(ctx.store)).xTrain;
      for (const index of rejectedIdx) expect(await rows.get(String(index))).toBeUndefined();
      for (const index of data.injected.corruptImage) expect((await rows.get(String(index)))?.image).toBeNull();
      for (const index of data.injected.missingImage) expect((await rows.get(String(index)))?.image).toBeNull();
      expect(await rows.count()).toBe(run.rows.train.stored);
      expect(await (await dataCollections(ctx.store)).yTrain.count()).toBe(run.rows.train.stored);
      // The run document is stored with the same report.
      const stored = await ctx.store.documents.collection<LoadRun>(COLLECTIONS.runs).get(run._id);
      expect(stored?.quarantineTotal).toBe(run.quarantineTotal);
      expect(stored?.quarantineByReason).toEqual(run.quarantineByReason);
    });

    it('reads BOM, CRLF, multi-line quoted HTML and the misspelled label file name', async () => {
      const data = await makeCatalogue({ rows: 90, testRows: 20, imageFraction: 0 });
      const x = path.join(data.outDir, 'X_train_update.csv');
      const text = await readFile(x, 'utf8');
      await writeFile(x, `\ufeff${text.replace(/\n/g, '\r\n')}`);
      await appendFile(x, '1000,"Titre, avec ""guillemets""","<p>ligne 1\r\nligne 2 &amp; <b>gras</b></p>",123456789,987654321\r\n');
      await appendFile(path.join(data.outDir, 'Y_train_CVw08PX.csv'), '1000,2583\n');
      await rename(path.join(data.outDir, 'Y_train_CVw08PX.csv'), path.join(data.outDir, 'Y_train_CvvW08PX.csv'));
      const run = await load(data.outDir);
      expect(run.rows.train).toMatchObject({ read: 91, stored: 91, rejected: 0 });
      const row = await (await dataCollections(ctx.store)).xTrain.get('1000');
      expect(row).toMatchObject({ designation: 'Titre, avec "guillemets"', productid: 123456789, imageid: 987654321 });
      expect(row?.description).toBe('<p>ligne 1\r\nligne 2 &amp; <b>gras</b></p>');
      expect((await (await dataCollections(ctx.store)).yTrain.get('1000'))?.prdtypecode).toBe(2583);
    });

    it('skips a test file with a wrong header, reporting it, and loads the rest', async () => {
      const data = await makeCatalogue({ rows: 90, testRows: 20, imageFraction: 0 });
      const xt = path.join(data.outDir, 'X_test_update.csv');
      const text = await readFile(xt, 'utf8');
      await writeFile(xt, text.replace(/^[^\n]*/, ',title,description,productid,imageid'));
      const run = await load(data.outDir);
      expect(run.status).toBe('completed_with_warnings');
      expect(entries(run, 'bad_header')).toEqual([
        expect.objectContaining({ file: 'X_test_update.csv', row: 0, field: 'header', action: 'file_skipped' }),
      ]);
      expect(run.rows.train.stored).toBe(90);
      expect(await (await dataCollections(ctx.store)).xTest.count()).toBe(0);
    });

    it('reports bad ids, bad labels and wrong column counts row by row', async () => {
      const data = await makeCatalogue({ rows: 90, testRows: 20, imageFraction: 0 });
      await appendFile(path.join(data.outDir, 'X_train_update.csv'), '2000,t,d,12x,5\n2001,t,d,7\n2002,t,d,8,9\n2003,t,d,10,11\n');
      await appendFile(path.join(data.outDir, 'Y_train_CVw08PX.csv'), '2000,10\n2001,10\n2002,abc\n2003,40\n2003,50\n');
      const run = await load(data.outDir);
      const got = run.quarantine.map((e) => [e.file, e.reason, e.field]);
      expect(got).toEqual(
        expect.arrayContaining([
          ['X_train_update.csv', 'invalid_id', 'productid'],
          ['X_train_update.csv', 'bad_column_count', ''],
          ['Y_train_CVw08PX.csv', 'invalid_label', 'prdtypecode'],
          ['Y_train_CVw08PX.csv', 'duplicate_index', ''],
          ['X_train_update.csv', 'missing_label', ''],
        ]),
      );
      expect((await (await dataCollections(ctx.store)).yTrain.get('2003'))?.prdtypecode).toBe(40);
      expect(await (await dataCollections(ctx.store)).xTrain.get('2002')).toBeUndefined();
      expect(run.rows.train.stored).toBe(91);
    });

    it('fails clearly, keeping what was stored, when the files are unusable', async () => {
      const data = await makeCatalogue({ rows: 90, imageFraction: 0 });
      await load(data.outDir);
      const before = await (await dataCollections(ctx.store)).xTrain.count();
      const x = path.join(data.outDir, 'X_train_update.csv');
      await copyFile(x, `${x}.bak`);
      await writeFile(x, 'a;b;c\n1;2;3\n');
      const error = await load(data.outDir).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(LoadError);
      expect((error as LoadError).message).toMatch(/X_train_update\.csv: unusable file, expected header/);
      expect((error as LoadError).run.status).toBe('failed');
      expect(await (await dataCollections(ctx.store)).xTrain.count()).toBe(before);
      const failed = await ctx.store.documents.collection<LoadRun>(COLLECTIONS.runs).get((error as LoadError).run._id);
      expect(failed?.status).toBe('failed');

      await rm(x);
      await expect(load(data.outDir)).rejects.toThrow(/X_train_update\.csv is missing/);
      await expect(load(path.join(data.outDir, 'nope'))).rejects.toThrow(/Data folder not found/);
    });

    it('commits nothing when cancelled: the store keeps the previous load exactly, no partial rows left', async () => {
      const first = await makeCatalogue({ rows: 60, imageFraction: 0.5 });
      const done = await load(first.outDir);
      const data = await makeCatalogue({ rows: 200, imageFraction: 0 });
      const controller = new AbortController();
      const promise = new ChallengeDataLoader(ctx.store).load({
        dataDir: data.outDir,
        batchSize: 20,
        signal: controller.signal,
        onProgress: (e) => {
          if (e.phase === 'x_train' && e.done > 0) controller.abort(new Error('stop'));
        },
      });
      const error = (await promise.catch((e: unknown) => e)) as LoadError;
      expect(error.run.status).toBe('cancelled');
      expect(error.run.committed).toBe(false);
      expect((await pipelineState(ctx.store)).data?.generation).toBe(done._id);
      expect(await (await dataCollections(ctx.store)).xTrain.count()).toBe(60);
      // Nothing of the cancelled generation is left in the collection itself.
      expect(await ctx.store.documents.collection(COLLECTIONS.xTrain).count()).toBe(60);
      expect((await ctx.store.documents.collection<LoadRun>(COLLECTIONS.runs).get(error.run._id))?.status).toBe('cancelled');
    });

    it('fails cleanly on a stray quote late in X: nothing committed, previous data intact, no crash after the error', async () => {
      const data = await makeCatalogue({ rows: 120, testRows: 10, imageFraction: 1 });
      const good = await load(data.outDir);
      const x = path.join(data.outDir, 'X_train_update.csv');
      const lines = (await readFile(x, 'utf8')).split('\n');
      lines[101] = `${lines[101]?.split(',')[0]},Bad "quoted" title,,123,456`;
      await writeFile(x, lines.join('\n'));
      const error = (await load(data.outDir).catch((e: unknown) => e)) as LoadError;
      expect(error).toBeInstanceOf(LoadError);
      expect(error.message).toMatch(/X_train_update\.csv/);
      expect(error.run.status).toBe('failed');
      expect((await pipelineState(ctx.store)).data?.generation).toBe(good._id);
      const rows = await dataCollections(ctx.store);
      expect(await rows.xTrain.count()).toBe(120);
      expect(await rows.xTest.count()).toBe(10);
      expect(await ctx.store.documents.collection(COLLECTIONS.xTrain).count()).toBe(120);
      const status = await getDataStatus(ctx.store);
      expect(status.labelledTrainRows).toBe(120);
      // The store is still usable: nothing was closed under the loader's feet.
      await writeFile(x, lines.map((l, i) => (i === 101 ? `${l.split(',')[0]},fixed title,,123,456` : l)).join('\n'));
      expect((await load(data.outDir)).status).not.toBe('failed');
    });

    it('makes the store match a smaller corrected source: rows gone from it are gone, and counted', async () => {
      const data = await makeCatalogue({ rows: 100, testRows: 10, imageFraction: 0.5 });
      await load(data.outDir);
      for (const name of ['X_train_update.csv', 'Y_train_CVw08PX.csv']) {
        const file = path.join(data.outDir, name);
        const records = parse(await readFile(file), { bom: true }) as string[][];
        await writeFile(file, stringify(records.slice(0, 61))); // header + 60 rows
      }
      const run = await load(data.outDir);
      expect(run.rows.train).toMatchObject({ stored: 60, unchanged: 60, inserted: 0, removed: 40 });
      expect(run.rows.labels).toMatchObject({ stored: 60, removed: 40 });
      const rows = await dataCollections(ctx.store);
      expect(await rows.xTrain.count()).toBe(60);
      expect(await rows.yTrain.count()).toBe(60);
      expect((await getDataStatus(ctx.store)).labelledTrainRows).toBe(60);
      // The replaced generation stays for readers already on it; one load later its images go too.
      const again = await load(data.outDir);
      expect(again.images.collected).toBeGreaterThan(0);
      const status = await getDataStatus(ctx.store);
      expect(status.images.train.stored).toBe(status.images.train.withImage);
      expect(status.images.test.stored).toBe(status.images.test.withImage);
    });

    it('lets one of two loads racing on two connections commit; the other reports the conflict', async () => {
      const a = await makeCatalogue({ rows: 150, imageFraction: 0.3 });
      const b = await makeCatalogue({ rows: 90, imageFraction: 0.3 });
      const other = await ctx.harness.open();
      try {
        const outcomes = await Promise.allSettled([
          new ChallengeDataLoader(ctx.store).load({ dataDir: a.outDir, batchSize: 20 }),
          new ChallengeDataLoader(other).load({ dataDir: b.outDir, batchSize: 20 }),
        ]);
        const won = outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
        const lost = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason as LoadError] : []));
        // Both may also succeed one after the other; never both half-applied.
        expect(won.length).toBeGreaterThanOrEqual(1);
        for (const e of lost) expect(e.message).toMatch(/committed while .* was running/);
        const current = (await pipelineState(ctx.store)).data?.generation;
        const winner = won.find((r) => r._id === current);
        expect(winner).toBeDefined();
        const rows = await dataCollections(ctx.store);
        expect(await rows.xTrain.count()).toBe(winner?.rows.train.stored);
        expect(await rows.yTrain.count()).toBe(winner?.rows.labels.stored);
      } finally {
        await other.close();
      }
    });

    it('shows a load whose process died as interrupted, and the next load deletes what it wrote', async () => {
      const data = await makeCatalogue({ rows: 40, imageFraction: 0 });
      await load(data.outDir);
      // A load killed mid-write: its record says running, its process is gone, half its rows are stored.
      const dead = spawnSync(process.execPath, ['-e', '0']).pid;
      const writer = await GenerationWriter.begin(ctx.store, 'data', 'load-killed');
      await writer.collection<ProductRow>(COLLECTIONS.xTrain).upsertMany(
        Array.from({ length: 25 }, (_, i) => ({ _id: String(i), index: i, designation: 'x', description: '', productid: i, imageid: i, image: null })),
      );
      const runs = ctx.store.documents.collection<LoadRun>(COLLECTIONS.runs);
      const killed = { ...(await runs.get((await pipelineState(ctx.store)).data?.generation ?? ''))!, _id: 'load-killed' };
      await runs.upsertMany([{ ...killed, status: 'running', committed: false, startedAt: '2999-01-01T00:00:00.000Z', owner: { host: hostname(), pid: dead } }]);
      expect((await getDataStatus(ctx.store)).lastLoad).toMatchObject({ _id: 'load-killed', status: 'interrupted' });
      expect(await (await dataCollections(ctx.store)).xTrain.count()).toBe(40);
      expect(await ctx.store.documents.collection(COLLECTIONS.xTrain).count()).toBe(65);
      await load(data.outDir);
      expect(await ctx.store.documents.collection(COLLECTIONS.xTrain).count()).toBe(80); // current + the one it replaced
      expect(await runs.get('load-killed')).toMatchObject({ status: 'interrupted', collected: true });
    });

    it('warns about rows written by an older release instead of counting them', async () => {
      await ctx.store.documents.collection(COLLECTIONS.xTrain).upsertMany([{ _id: '1' }, { _id: '2' }]);
      const status = await getDataStatus(ctx.store);
      expect(status.collections[COLLECTIONS.xTrain]).toBe(0);
      expect(status.warnings).toEqual([expect.stringMatching(/older release .* run `rakuten-pipeline load` again/)]);
    });

    it.skipIf(REAL_DATA_SKIP)('loads the real challenge folder with the expected counts', async () => {
      const run = await load(REAL_DATA_DIR);
      expect(run.labelledTrainRows).toBe(5042);
      expect(run.rows.test.stored).toBe(499);
      expect(run.images.test.withImage).toBe(499);
      expect(run.images.train.withImage + run.images.train.missing).toBe(5042);
      expect(run.images.train.orphan).toBeGreaterThan(0);
      expect(run.rows.train.rejected + run.rows.labels.rejected).toBe(0);
      const again = await load(REAL_DATA_DIR);
      expect(again.rows.train).toMatchObject({ unchanged: 5042, inserted: 0 });
      expect(again.images.train.withImage).toBe(run.images.train.withImage);
    }, 120_000);
  });
}
