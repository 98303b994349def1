// The image reads of predict --input/--images and evaluate --data go through the same bounded
// read as the loader: a FIFO or a device named like an image must not hang them.
import { execFileSync } from 'node:child_process';
import { symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { inputFromCsvRow } from '../../src/stages/predict/predictor.js';
import { Preprocessor } from '../../src/stages/preprocess/preprocessor.js';
import { tempDir } from '../support/data.js';

describe('inputFromCsvRow image reads', () => {
  it('reads a regular image, and treats a FIFO or /dev/zero as no image, at once', async () => {
    const dir = await tempDir('rp-images-');
    const jpeg = await sharp({ create: { width: 80, height: 80, channels: 3, background: { r: 10, g: 120, b: 200 } } }).jpeg().toBuffer();
    await writeFile(path.join(dir, 'image_1_product_2.jpg'), jpeg);
    execFileSync('mkfifo', [path.join(dir, 'image_3_product_4.jpg')]);
    // Left out of runs against code known to read it whole (RP_SKIP_DEV_ZERO=1): 9.7 GB.
    const devZero = process.env['RP_SKIP_DEV_ZERO'] !== '1';
    if (devZero) await symlink('/dev/zero', path.join(dir, 'image_5_product_6.jpg'));
    const pre = new Preprocessor();
    const row = (pid: string, iid: string) => ['0', 'Lampe', '', pid, iid];
    expect((await inputFromCsvRow(pre, row('2', '1'), dir)).image).not.toBeNull();
    const t0 = performance.now();
    expect((await inputFromCsvRow(pre, row('4', '3'), dir)).image).toBeNull();
    if (devZero) expect((await inputFromCsvRow(pre, row('6', '5'), dir)).image).toBeNull();
    expect(performance.now() - t0).toBeLessThan(2_000);
  }, 10_000);
});
