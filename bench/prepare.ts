/**
 * Prepare benchmark: `npm run bench:prepare`.
 *
 * On the real folder (../shared/data/rakuten or RAKUTEN_DATA):
 *  - texts/s of the text preprocessor over every training and test row;
 *  - images/s of prepareImage (decode shrunk on load + content box + crop + resize to 64 px + PNG
 *    + hash) over every original image, at several concurrencies, each beside sharp decode +
 *    resize alone (no trim: the upper bound) on the same images at the same concurrency, measured
 *    just before it, and their ratio; sharp's built-in `.trim()` pipeline as another reference;
 *  - the whole prepare stage on a fresh embedded store (images stored, splits written);
 *  - peak RSS.
 */
import { createPipeline } from '../src/pipeline/pipeline.js';
import { readdir, readFile, mkdtemp, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';
import pLimit from 'p-limit';
import sharp from 'sharp';
import { prepareImage } from '../src/stages/preprocess/image.js';
import { TextPreprocessor } from '../src/stages/preprocess/text.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const dataDir = process.env['RAKUTEN_DATA'] ?? path.resolve(here, '../../shared/data/rakuten');
const SIZE = 64;

async function timeImages(files: Buffer[], concurrency: number, work: (b: Buffer) => Promise<unknown>): Promise<number> {
  const limit = pLimit(concurrency);
  const t0 = performance.now();
  await Promise.all(files.map((b) => limit(() => work(b))));
  return files.length / ((performance.now() - t0) / 1000);
}

async function main(): Promise<void> {
  if (!existsSync(path.join(dataDir, 'X_train_update.csv'))) {
    console.log(`real folder not found at ${dataDir}: nothing to measure (set RAKUTEN_DATA)`);
    return;
  }
  console.log(`prepare benchmark on ${os.cpus().length} cores (load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}), Node ${process.version}, libvips threads ${sharp.concurrency()}`);

  const rows: string[][] = [];
  for (const file of ['X_train_update.csv', 'X_test_update.csv']) {
    rows.push(...(parse(await readFile(path.join(dataDir, file)), { bom: true }) as string[][]).slice(1));
  }
  const text = new TextPreprocessor();
  let t0 = performance.now();
  for (const r of rows) text.prepare({ designation: r[1] ?? '', description: r[2] ?? '' });
  const cold = rows.length / ((performance.now() - t0) / 1000);
  t0 = performance.now();
  for (const r of rows) text.prepare({ designation: r[1] ?? '', description: r[2] ?? '' });
  const warm = rows.length / ((performance.now() - t0) / 1000);
  console.log(`text: ${rows.length} rows, ${cold.toFixed(0)} texts/s (first pass), ${warm.toFixed(0)} texts/s (stem cache warm)`);

  const files: Buffer[] = [];
  for (const dir of ['image_train', 'image_test']) {
    for (const name of (await readdir(path.join(dataDir, dir))).sort()) files.push(await readFile(path.join(dataDir, dir, name)));
  }
  console.log(`images: ${files.length} original JPEGs in memory (file reading not timed)`);
  // The reference: what sharp costs to decode (shrink-on-load) and resize each picture, nothing else.
  const resizeOnly = (b: Buffer) => sharp(b).resize(SIZE, SIZE, { fit: 'contain', background: '#fff' }).raw().toBuffer();
  const builtinTrim = (b: Buffer) => sharp(b).trim().resize(SIZE, SIZE, { fit: 'contain', background: '#fff' }).raw().toBuffer();
  const ours = (b: Buffer) => prepareImage(b, { size: SIZE });
  await timeImages(files.slice(0, 50), 4, ours); // warm-up
  await timeImages(files.slice(0, 50), 4, resizeOnly);
  for (const c of [1, 2, 4, 8]) {
    // Alternated in the same run, same images and concurrency: the ratio is what the load on the machine affects least.
    const reference = await timeImages(files, c, resizeOnly);
    const rate = await timeImages(files, c, ours);
    console.log(
      `  concurrency ${c}: prepareImage (decode shrunk + box + crop + resize ${SIZE} px + PNG + hash) ${rate.toFixed(0)} images/s, ` +
        `sharp decode + resize only ${reference.toFixed(0)} images/s: ratio ${(rate / reference).toFixed(2)}`,
    );
  }
  console.log(`  reference: sharp .trim() + resize, concurrency 4: ${(await timeImages(files, 4, builtinTrim)).toFixed(0)} images/s`);

  const storeDir = await mkdtemp(path.join(os.tmpdir(), 'rp-bench-prepare-'));
  try {
    const pipeline = await createPipeline({ store: storeDir });
    await pipeline.load({ dataDir });
    t0 = performance.now();
    const run = await pipeline.prepare();
    const first = (performance.now() - t0) / 1000;
    t0 = performance.now();
    await pipeline.prepare();
    const again = (performance.now() - t0) / 1000;
    await pipeline.close();
    console.log(
      `prepare stage (embedded store): ${first.toFixed(1)} s first run (${run.throughput.imagesPerSecond} images/s incl. store reads/writes, ` +
        `${run.throughput.textsPerSecond} texts/s), ${again.toFixed(1)} s re-run (images reused); max class-share gap ${run.maxClassShareGapPp} pp`,
    );
  } finally {
    await rm(storeDir, { recursive: true, force: true });
  }
  console.log(`peak RSS ${Math.round(process.resourceUsage().maxRSS / 1024)} MB; load average at the end ${os.loadavg().map((l) => l.toFixed(1)).join(" ")}`);
}

await main();
