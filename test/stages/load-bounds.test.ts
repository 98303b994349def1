// Bounded inputs, encodings, ids and class codes of the loader: the hostile cases of
// shared/measurements/hostile-cases-2026-11-28.md (#4, #6, #9, #10, #12-17), each in a temp copy
// of a small synthetic catalogue.
import { execFileSync } from 'node:child_process';
import { appendFile, copyFile, mkdir, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { dataCollections } from '../../src/stages/views.js';
import { ChallengeDataLoader, LoadError, type LoadOptions } from '../../src/stages/load/loader.js';
import type { LoadRun, QuarantineEntry } from '../../src/stages/load/types.js';
import { makeCatalogue, tempDir } from '../support/data.js';
import { pngBomb } from '../support/hostile.js';
import { storeBackends, useStore } from '../support/stores.js';

function entries(run: LoadRun, reason: string): QuarantineEntry[] {
  return run.quarantine.filter((e) => e.reason === reason);
}

/** Rows of X_train_update.csv with their image file name. */
async function rowsWithImages(dir: string): Promise<{ index: string; name: string; line: string }[]> {
  const text = await readFile(path.join(dir, 'X_train_update.csv'), 'utf8');
  const records = parse(text, { from_line: 2 }) as string[][];
  return records.map((r) => ({ index: r[0] ?? '', name: `image_${r[4]}_product_${r[3]}.jpg`, line: '' }));
}

const hasMkfifo = (() => {
  try {
    execFileSync('mkfifo', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
// The /dev/zero case read 9.7 GB before the fix: not run against code known to lack it.
const SKIP_DEV_ZERO = process.env['RP_SKIP_DEV_ZERO'] === '1';

for (const backend of storeBackends()) {
  describe.skipIf(backend.skip)(`DataLoader bounds on ${backend.name}`, () => {
    const ctx = useStore(backend);
    const load = (dataDir: string, options: Partial<LoadOptions> = {}) =>
      new ChallengeDataLoader(ctx.store).load({ dataDir, batchSize: 50, ...options });
    const rows = async () => (await dataCollections(ctx.store)).xTrain;

    it.skipIf(!hasMkfifo)('quarantines FIFOs, devices, directories, outside symlinks, oversized files and pixel bombs without reading them', async () => {
      const data = await makeCatalogue({ rows: 40, testRows: 0, imageFraction: 1 });
      const dir = path.join(data.outDir, 'image_train');
      const list = await rowsWithImages(data.outDir);
      const [fifo, zero, folder, outside, inside, big, bomb] = list;
      if (!fifo || !zero || !folder || !outside || !inside || !big || !bomb) throw new Error('catalogue too small');
      const elsewhere = await tempDir('rp-elsewhere-');
      const at = (name: string) => path.join(dir, name);

      await rm(at(fifo.name));
      execFileSync('mkfifo', [at(fifo.name)]);
      await rm(at(zero.name));
      if (!SKIP_DEV_ZERO) await symlink('/dev/zero', at(zero.name));
      await rm(at(folder.name));
      await mkdir(at(folder.name));
      await copyFile(at(outside.name), path.join(elsewhere, 'outside.jpg'));
      await rm(at(outside.name));
      await symlink(path.join(elsewhere, 'outside.jpg'), at(outside.name));
      // A symlink to a file inside the data folder is fine.
      await mkdir(path.join(data.outDir, 'shared-images'));
      await copyFile(at(inside.name), path.join(data.outDir, 'shared-images', 'in.jpg'));
      await rm(at(inside.name));
      await symlink(path.join('..', 'shared-images', 'in.jpg'), at(inside.name));
      await writeFile(at(big.name), Buffer.alloc(300_000, 0xff));
      await writeFile(at(bomb.name), pngBomb(16000));

      const t0 = performance.now();
      const run = await load(data.outDir, { maxImageFileBytes: 200_000 });
      expect(performance.now() - t0).toBeLessThan(8_000);

      const reasonOf = (index: string) => run.quarantine.find((e) => e.message.includes(list.find((r) => r.index === index)?.name ?? '?'));
      expect(reasonOf(fifo.index)).toMatchObject({ reason: 'image_not_regular_file', action: 'kept', message: expect.stringMatching(/is a FIFO, not a regular file/) });
      if (!SKIP_DEV_ZERO) {
        expect(reasonOf(zero.index)).toMatchObject({ reason: 'image_outside_data_folder', message: expect.stringMatching(/symlink to \/dev\/zero, outside the data folder/) });
      }
      expect(reasonOf(folder.index)).toMatchObject({ reason: 'image_not_regular_file', message: expect.stringMatching(/is a directory/) });
      expect(reasonOf(outside.index)).toMatchObject({ reason: 'image_outside_data_folder', action: 'kept' });
      expect(reasonOf(big.index)).toMatchObject({ reason: 'image_too_large', message: expect.stringMatching(/is 293 KiB, above the limit of 195\.3 KiB \(maxImageFileBytes\)/) });
      expect(reasonOf(bomb.index)).toMatchObject({
        reason: 'image_too_large',
        message: expect.stringMatching(/16000 x 16000 = 256,000,000 pixels, above the limit of 40,000,000 pixels/),
      });
      expect(reasonOf(inside.index)).toBeUndefined();
      for (const r of [fifo, folder, outside, big, bomb]) expect((await (await rows()).get(r.index))?.image, r.index).toBeNull();
      expect((await (await rows()).get(inside.index))?.image).toMatch(/^raw\/train\//);
      expect(run.rows.train.stored).toBe(40);
    }, 20_000);

    it('loads no images from an image folder that is a symlink leading out of the data folder', async () => {
      const data = await makeCatalogue({ rows: 10, testRows: 0, imageFraction: 1 });
      const elsewhere = await tempDir('rp-elsewhere-');
      const dir = path.join(data.outDir, 'image_train');
      execFileSync('cp', ['-r', dir, path.join(elsewhere, 'images')]);
      await rm(dir, { recursive: true });
      await symlink(path.join(elsewhere, 'images'), dir);
      const run = await load(data.outDir);
      expect(run.images.train).toMatchObject({ withImage: 0, missing: 10 });
      expect(run.warnings).toContain(`image_train/ is a symlink to ${path.join(elsewhere, 'images')}, outside the data folder: rows are loaded without images`);
    });

    it('applies a configurable pixel limit to the images of a data folder', async () => {
      const data = await makeCatalogue({ rows: 10, testRows: 0, imageFraction: 1 });
      const run = await load(data.outDir, { maxImagePixels: 1000 }); // the demo images are 64 x 64
      expect(entries(run, 'image_too_large')).toHaveLength(10);
      expect(entries(run, 'image_too_large')[0]?.message).toMatch(/64 x 64 = 4,096 pixels, above the limit of 1,000 pixels/);
    });

    it('refuses a CSV record above the limit, naming file, row, line, field and limit', async () => {
      const data = await makeCatalogue({ rows: 20, testRows: 0, imageFraction: 0 });
      const x = path.join(data.outDir, 'X_train_update.csv');
      await appendFile(x, `5000,"a title","${'<p>long</p>'.repeat(300)}",1,2\n`);
      const error = (await load(data.outDir, { maxCsvRecordBytes: 2048 }).catch((e: unknown) => e)) as LoadError;
      expect(error).toBeInstanceOf(LoadError);
      expect(error.message).toMatch(/^X_train_update\.csv: record 21 \(near line \d+\), field "description" is larger than the limit of 2 KiB per record \(maxCsvRecordBytes\)/);
      expect(error.run.status).toBe('failed');
      // The default (1 MiB) stops a 1.5 MB field too, without holding it.
      await writeFile(x, `,designation,description,productid,imageid\n1,"${'x'.repeat(1_500_000)}",,1,2\n`);
      await expect(load(data.outDir)).rejects.toThrow(/record 1 \(near line 2\), field "designation" is larger than the limit of 1 MiB/);
    });

    it.skipIf(!hasMkfifo)('refuses CSV files that are FIFOs or symlinks leaving the data folder', async () => {
      const data = await makeCatalogue({ rows: 20, testRows: 0, imageFraction: 0 });
      const y = path.join(data.outDir, 'Y_train_CVw08PX.csv');
      const elsewhere = await tempDir('rp-elsewhere-');
      await copyFile(y, path.join(elsewhere, 'y.csv'));
      await rm(y);
      await symlink(path.join(elsewhere, 'y.csv'), y);
      await expect(load(data.outDir)).rejects.toThrow(/Y_train_CVw08PX\.csv is a symlink to .*y\.csv, outside the data folder: refused/);
      await rm(y);
      execFileSync('mkfifo', [y]);
      await expect(load(data.outDir)).rejects.toThrow(/Y_train_CVw08PX\.csv is a FIFO, not a regular file: refused/);
      // A symlink inside the folder is fine.
      await rm(y);
      await copyFile(path.join(elsewhere, 'y.csv'), path.join(data.outDir, 'labels.csv'));
      await symlink('labels.csv', y);
      expect((await load(data.outDir)).rows.train.stored).toBe(20);
    }, 20_000);

    it('decodes Windows-1252 and UTF-16 CSVs and records the encoding, never storing U+FFFD', async () => {
      const data = await makeCatalogue({ rows: 30, testRows: 10, imageFraction: 0 });
      const x = path.join(data.outDir, 'X_train_update.csv');
      const xt = path.join(data.outDir, 'X_test_update.csv');
      const y = path.join(data.outDir, 'Y_train_CVw08PX.csv');
      // Windows-1252 throughout (the demo text made ASCII, then one accented row with a euro sign).
      const ascii = (await readFile(x, 'utf8')).replace(/[^\x00-\x7f]/g, 'e');
      await writeFile(x, encode1252(`${ascii}7000,"Théière émaillée « Noël » 3€",Très bien,71,72\n`));
      await appendFile(y, '7000,2583\n');
      const testText = await readFile(xt, 'utf8');
      await writeFile(xt, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(testText, 'utf16le')]));
      const yText = await readFile(y, 'utf8');
      await writeFile(y, Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(yText, 'utf16le').swap16()]));

      const run = await load(data.outDir);
      expect(run.rows.train).toMatchObject({ stored: 31, rejected: 0 });
      expect(run.rows.test.stored).toBe(10);
      const row = await (await rows()).get('7000');
      expect(row?.designation).toBe('Théière émaillée « Noël » 3€');
      expect(row?.description).toBe('Très bien');
      expect((await (await dataCollections(ctx.store)).yTrain.get('7000'))?.prdtypecode).toBe(2583);
      const enc = Object.fromEntries(run.files.map((f) => [f.role, f.encoding]));
      expect(enc).toMatchObject({ x_train: 'windows-1252', y_train: 'utf-16be', x_test: 'utf-16le' });
      expect(run.warnings).toEqual(expect.arrayContaining([
        'X_train_update.csv is decoded as Windows-1252 (Latin-1): it is not valid UTF-8 (save it as UTF-8 to silence this)',
        expect.stringMatching(/^X_test_update\.csv is decoded as UTF-16LE/),
        expect.stringMatching(/^Y_train_CVw08PX\.csv is decoded as UTF-16BE/),
      ]));
      for await (const r of (await rows()).find()) expect(r.designation + r.description).not.toContain('\ufffd');
    });

    it('records UTF-8 files as such, and refuses a file mixing UTF-8 and Latin-1', async () => {
      const data = await makeCatalogue({ rows: 30, testRows: 0, imageFraction: 0 });
      const clean = await load(data.outDir);
      expect(clean.files.find((f) => f.role === 'x_train')?.encoding).toBe('utf-8');
      expect(clean.warnings.filter((w) => w.includes('decoded as'))).toEqual([]);
      const x = path.join(data.outDir, 'X_train_update.csv');
      await writeFile(x, Buffer.concat([Buffer.from(`${await readFile(x, 'utf8')}8000,"déjà",,81,82\n`), Buffer.from('8001,"d\xe9j\xe0",,83,84\n', 'latin1')]));
      await expect(load(data.outDir)).rejects.toThrow(/X_train_update\.csv.*mixes UTF-8 with another encoding/);
    });

    it('refuses unknown class codes unless allowUnknownClasses', async () => {
      const data = await makeCatalogue({ rows: 30, testRows: 0, imageFraction: 0 });
      const y = path.join(data.outDir, 'Y_train_CVw08PX.csv');
      const lines = (await readFile(y, 'utf8')).trimEnd().split('\n');
      const index = lines[5]?.split(',')[0] ?? '';
      lines[5] = `${index},99999`;
      await writeFile(y, `${lines.join('\n')}\n`);
      const run = await load(data.outDir);
      expect(entries(run, 'unknown_label')).toEqual([
        {
          file: 'Y_train_CVw08PX.csv', row: 5, line: 6, field: 'prdtypecode', reason: 'unknown_label', action: 'rejected',
          message: 'prdtypecode 99999 is not one of the 27 challenge codes (allowUnknownClasses / --allow-unknown-classes accepts it)',
        },
      ]);
      expect(await (await rows()).get(index)).toBeUndefined();
      expect(run.rows.train.stored).toBe(29);

      const allowed = await load(data.outDir, { allowUnknownClasses: true });
      expect(entries(allowed, 'unknown_label')).toEqual([]);
      expect((await (await dataCollections(ctx.store)).yTrain.get(index))?.prdtypecode).toBe(99999);
    });

    it('keeps ids beyond 2^53 exactly, joins their images by exact text, and refuses absurd ones', async () => {
      const data = await makeCatalogue({ rows: 10, testRows: 0, imageFraction: 1 });
      const x = path.join(data.outDir, 'X_train_update.csv');
      const y = path.join(data.outDir, 'Y_train_CVw08PX.csv');
      const big = '9007199254740993'; // 2^53 + 1: Number() gives ...992
      const imageid = '12345678901234567890123';
      const long = '7'.repeat(400);
      await appendFile(x, `${big},huge ids,,${big},${imageid}\n9007199254740991,neighbour,,9007199254740992,5\n${long},too long,,1,2\n`);
      await appendFile(y, `${big},10\n9007199254740991,40\n${long},50\n`);
      const some = (await readdir(path.join(data.outDir, 'image_train')))[0] ?? '';
      await copyFile(path.join(data.outDir, 'image_train', some), path.join(data.outDir, 'image_train', `image_${imageid}_product_${big}.jpg`));

      const run = await load(data.outDir);
      const row = await (await rows()).get(big);
      expect(row).toMatchObject({ index: big, productid: big, imageid, designation: 'huge ids' });
      expect(row?.image).toMatch(new RegExp(`^raw/train/[0-9a-f]{16}/image_${imageid}_product_${big}\\.jpg$`));
      expect((await (await dataCollections(ctx.store)).yTrain.get(big))).toMatchObject({ index: big, productid: big, prdtypecode: 10 });
      // 2^53 - 1 is still a number; 2^53 is not safe (2^53 + 1 rounds to it), so it is text.
      expect(await (await rows()).get('9007199254740991')).toMatchObject({ index: 9007199254740991, designation: 'neighbour', productid: '9007199254740992' });
      const invalid = entries(run, 'invalid_id');
      expect(invalid.map((e) => e.file).sort()).toEqual(['X_train_update.csv', 'Y_train_CVw08PX.csv']);
      for (const e of invalid) {
        expect(e.message).toBe('index has 400 digits, more than the 30 an id may have');
        expect(e.message).not.toMatch(/Infinity/);
      }
      expect(entries(run, 'duplicate_productid')).toEqual([]);
    });

    it('never lets control characters from names or fields reach messages raw', async () => {
      const data = await makeCatalogue({ rows: 10, testRows: 0, imageFraction: 0 });
      await mkdir(path.join(data.outDir, 'image_train'), { recursive: true });
      await writeFile(path.join(data.outDir, 'image_train', 'evil\x1b[2J\x1b]0;owned\x07.jpg'), 'x');
      await appendFile(path.join(data.outDir, 'X_train_update.csv'), '9000,t,d,\x1b[31m12,5\n9001,t\x9b1m,d,x\u202e,5\n');
      const run = await load(data.outDir);
      const text = JSON.stringify([run.warnings, run.quarantine.map((e) => [e.file, e.message])]);
      const raw = [...run.warnings, ...run.quarantine.flatMap((e) => [e.file, e.message])].join('\n');
      expect(raw).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f-\x9f\u202e]/);
      expect(text).toContain('evil\\\\u001b[2J');
      expect(entries(run, 'invalid_id')).toHaveLength(2);
    });
  });
}

/** Windows-1252 bytes of a string (the characters used here all exist in it). */
function encode1252(text: string): Buffer {
  const special: Record<string, number> = { '€': 0x80 };
  return Buffer.from([...text].map((c) => special[c] ?? c.charCodeAt(0)));
}
