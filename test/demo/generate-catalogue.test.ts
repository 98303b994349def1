import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import {
  DEMO_PRDTYPECODES,
  DEMO_X_HEADER,
  DEMO_Y_HEADER,
  generateDemoCatalogue,
  toCsvRow,
  type DemoCatalogueOptions,
  type DemoCatalogueSummary,
} from '../../src/demo/generate-catalogue.js';

const tempDirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'rakuten-demo-'));
  tempDirs.push(dir);
  return dir;
}
afterAll(async () => {
  await Promise.all(tempDirs.map((d) => rm(d, { recursive: true, force: true })));
});

async function readCsv(file: string): Promise<string[][]> {
  return parse(await readFile(file, 'utf8'), { bom: true }) as string[][];
}

/** relative path -> sha256 of every file under dir. */
async function hashTree(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  for (const e of entries) {
    if (!e.isFile()) continue;
    const full = path.join(e.parentPath, e.name);
    out.set(path.relative(dir, full).split(path.sep).join('/'), createHash('sha256').update(await readFile(full)).digest('hex'));
  }
  return new Map([...out].sort(([a], [b]) => a.localeCompare(b)));
}

async function decodes(file: string): Promise<boolean> {
  try {
    await sharp(file).raw().toBuffer();
    return true;
  } catch {
    return false;
  }
}

const FAULTS = { missingId: 2, unknownLabel: 3, duplicateProductId: 2, missingImage: 2, corruptImage: 3, orphanImage: 2 };
const BASE: Omit<DemoCatalogueOptions, 'outDir'> = { rows: 120, imageSize: 64, seed: 7, faults: FAULTS };

describe('toCsvRow', () => {
  it('quotes only when needed and doubles quotes', () => {
    expect(toCsvRow([0, 'plain', '', 123])).toBe('0,plain,,123\n');
    expect(toCsvRow(['a,b', 'say "hi"', 'cr\r'])).toBe('"a,b","say ""hi""","cr\r"\n');
    const fields = ['x,"y"\nz', '<p>caf&eacute;</p>', ''];
    expect(parse(toCsvRow(fields))).toEqual([fields]);
  });
});

describe('generateDemoCatalogue', () => {
  let dir = '';
  let summary: DemoCatalogueSummary;
  let xTrain: string[][];
  let yTrain: string[][];
  let xTest: string[][];
  const progress: [number, number][] = [];

  it('writes the challenge layout', async () => {
    dir = await tempDir();
    summary = await generateDemoCatalogue({ ...BASE, outDir: dir, onProgress: (d, t) => progress.push([d, t]) });
    expect(summary.trainRows).toBe(120);
    expect(summary.testRows).toBe(20);
    expect(summary.faults).toEqual(FAULTS);

    for (const [file, header] of [
      ['X_train_update.csv', DEMO_X_HEADER],
      ['X_test_update.csv', DEMO_X_HEADER],
      ['Y_train_CVw08PX.csv', DEMO_Y_HEADER],
    ] as const) {
      const text = await readFile(path.join(dir, file), 'utf8');
      expect(text.slice(0, text.indexOf('\n'))).toBe(header);
      expect(text).not.toContain('\r');
      expect(text.endsWith('\n')).toBe(true);
    }
    expect(DEMO_X_HEADER).toBe(',designation,description,productid,imageid');
    expect(DEMO_Y_HEADER).toBe(',prdtypecode');

    xTrain = (await readCsv(path.join(dir, 'X_train_update.csv'))).slice(1);
    yTrain = (await readCsv(path.join(dir, 'Y_train_CVw08PX.csv'))).slice(1);
    xTest = (await readCsv(path.join(dir, 'X_test_update.csv'))).slice(1);
    expect(xTrain).toHaveLength(120);
    expect(xTest).toHaveLength(20);
    expect(yTrain).toHaveLength(120 + FAULTS.unknownLabel);
    for (const row of [...xTrain, ...xTest]) expect(row).toHaveLength(5);
    expect(xTrain.map((r) => r[0])).toEqual(Array.from({ length: 120 }, (_v, i) => String(i)));
    expect(xTest.map((r) => r[0])).toEqual(Array.from({ length: 20 }, (_v, i) => String(120 + i)));

    const readme = await readFile(path.join(dir, 'README.md'), 'utf8');
    expect(readme).toContain('SYNTHETIC');
    expect(readme).toContain('seed: 7');
    expect(summary.files.slice(0, 4)).toEqual(['X_train_update.csv', 'Y_train_CVw08PX.csv', 'X_test_update.csv', 'README.md']);
    expect(progress.at(-1)).toEqual([summary.files.length, summary.files.length]);
  });

  it('labels every training row with one of the 27 codes, all classes present', () => {
    const labels = new Map(yTrain.map((r) => [r[0], Number(r[1])]));
    const counts = new Map<number, number>();
    for (const row of xTrain) {
      const code = labels.get(row[0]);
      expect(code).toBeDefined();
      expect(DEMO_PRDTYPECODES).toContain(code);
      counts.set(code as number, (counts.get(code as number) ?? 0) + 1);
    }
    expect(counts.size).toBe(27);
    for (const n of counts.values()) expect(n).toBeGreaterThanOrEqual(3);
    expect(Math.max(...counts.values())).toBe(counts.get(2583));
  });

  it('produces realistic text fields', () => {
    const descriptions = xTrain.map((r) => r[2] ?? '');
    const empty = descriptions.filter((d) => d === '').length / descriptions.length;
    expect(empty).toBeGreaterThan(0.2);
    expect(empty).toBeLessThan(0.5);
    const some = (re: RegExp): boolean => descriptions.some((d) => re.test(d));
    expect(some(/<(p|br|b|ul|li)\b/)).toBe(true);
    expect(some(/&(amp|nbsp|eacute|#\d+);/)).toBe(true);
    expect(some(/\n/)).toBe(true);
    expect(some(/"/)).toBe(true);
    expect(some(/,/)).toBe(true);
    for (const row of xTrain) expect((row[1] ?? '').length).toBeGreaterThan(3);
  });

  it('uses unique 9-10 digit ids except for the injected faults', () => {
    const { injected } = summary;
    const pids = new Map<string, number[]>();
    for (const row of [...xTrain, ...xTest]) {
      const index = Number(row[0]);
      expect(row[4]).toMatch(/^\d{10}$/);
      if (injected.missingId.includes(index)) {
        expect(row[3]).toBe('');
        continue;
      }
      expect(row[3]).toMatch(/^\d{9,10}$/);
      pids.set(row[3] as string, [...(pids.get(row[3] as string) ?? []), index]);
    }
    // Each repeated productid: first occurrence is the original, later ones are the injected duplicates.
    const later = [...pids.values()].flatMap((ix) => ix.slice(1)).sort((a, b) => a - b);
    expect(later).toEqual(injected.duplicateProductId);
    const imageIds = [...xTrain, ...xTest].map((r) => r[4]);
    expect(new Set(imageIds).size).toBe(imageIds.length);
  });

  it('reports the injected faults as described', () => {
    const { injected } = summary;
    expect(injected.missingId).toHaveLength(FAULTS.missingId);
    expect(injected.unknownLabel).toHaveLength(FAULTS.unknownLabel);
    expect(injected.duplicateProductId).toHaveLength(FAULTS.duplicateProductId);
    expect(injected.missingImage).toHaveLength(FAULTS.missingImage);
    expect(injected.corruptImage).toHaveLength(FAULTS.corruptImage);
    expect(injected.orphanImage).toHaveLength(FAULTS.orphanImage);
    const xIndexes = new Set([...xTrain, ...xTest].map((r) => Number(r[0])));
    const yOnly = yTrain.map((r) => Number(r[0])).filter((i) => !xIndexes.has(i));
    expect(yOnly.sort((a, b) => a - b)).toEqual(injected.unknownLabel);
    // Every training row is labelled.
    const yIndexes = new Set(yTrain.map((r) => Number(r[0])));
    for (const row of xTrain) expect(yIndexes.has(Number(row[0]))).toBe(true);
  });

  it('writes image files named after the rows, with the injected image faults', async () => {
    const { injected } = summary;
    const trainFiles = (await readdir(path.join(dir, 'image_train'))).sort();
    const testFiles = (await readdir(path.join(dir, 'image_test'))).sort();
    expect(trainFiles).toHaveLength(summary.trainImages);
    expect(testFiles).toHaveLength(summary.testImages);
    const fileOf = (r: string[]): string => `image_${r[4]}_product_${r[3]}.jpg`;
    const rowOfFile = new Map(xTrain.map((r) => [fileOf(r), Number(r[0])]));
    const testNames = new Set(xTest.map(fileOf));

    const orphans: number[] = [];
    const rowsWithImage = new Set<number>();
    for (const f of trainFiles) {
      const index = rowOfFile.get(f);
      if (index === undefined) {
        const m = /^image_\d+_product_(\d+)\.jpg$/.exec(f);
        expect(m).not.toBeNull();
        orphans.push(Number(m?.[1]));
      } else {
        rowsWithImage.add(index);
      }
    }
    expect(orphans.sort((a, b) => a - b)).toEqual([...injected.orphanImage].sort((a, b) => a - b));
    for (const f of testFiles) expect(testNames.has(f)).toBe(true);
    for (const i of [...injected.missingImage, ...injected.missingId]) expect(rowsWithImage.has(i)).toBe(false);
    for (const i of injected.corruptImage) expect(rowsWithImage.has(i)).toBe(true);
    // imageFraction 0.8 (+-).
    expect(rowsWithImage.size / xTrain.length).toBeGreaterThan(0.65);
    expect(rowsWithImage.size / xTrain.length).toBeLessThan(0.95);
    expect(testFiles.length).toBeGreaterThan(10);

    const corrupt = new Set(injected.corruptImage);
    const checks = await Promise.all(
      trainFiles.map(async (f) => ({ f, ok: await decodes(path.join(dir, 'image_train', f)), corrupt: corrupt.has(rowOfFile.get(f) ?? -1) })),
    );
    for (const c of checks) expect(c.ok, c.f).toBe(!c.corrupt);
    // Both kinds of corruption: truncated JPEG (keeps the SOI marker) and random bytes.
    const heads = await Promise.all(
      trainFiles
        .filter((f) => corrupt.has(rowOfFile.get(f) ?? -1))
        .map(async (f) => (await readFile(path.join(dir, 'image_train', f))).subarray(0, 2).toString('hex')),
    );
    expect(heads).toContain('ffd8');
    expect(heads.some((h) => h !== 'ffd8')).toBe(true);
  });

  it('draws small JPEGs with white borders', async () => {
    const good = (await readdir(path.join(dir, 'image_test'))).sort()[0] as string;
    const { data, info } = await sharp(path.join(dir, 'image_test', good)).raw().toBuffer({ resolveWithObject: true });
    expect(info.format).toBe('raw');
    expect([info.width, info.height, info.channels]).toEqual([64, 64, 3]);
    const meta = await sharp(path.join(dir, 'image_test', good)).metadata();
    expect(meta.format).toBe('jpeg');
    // Top-left corner is (almost) white, centre is coloured.
    for (let c = 0; c < 3; c++) expect(data[c]).toBeGreaterThan(240);
    const centre = (32 * 64 + 32) * 3;
    const rgb = [data[centre], data[centre + 1], data[centre + 2]] as number[];
    expect(Math.min(...rgb)).toBeLessThan(230);
  });

  it('is deterministic: same seed => same bytes, other seed => other bytes', async () => {
    const again = await tempDir();
    await generateDemoCatalogue({ ...BASE, outDir: again });
    const a = await hashTree(dir);
    const b = await hashTree(again);
    expect(a.size).toBe(summary.files.length);
    expect([...b]).toEqual([...a]);

    const other = await tempDir();
    await generateDemoCatalogue({ ...BASE, seed: 8, outDir: other });
    const c = await hashTree(other);
    expect(c.get('X_train_update.csv')).not.toBe(a.get('X_train_update.csv'));
    expect(c.get('Y_train_CVw08PX.csv')).not.toBe(a.get('Y_train_CVw08PX.csv'));
  });

  it('writes the same bytes from worker threads as on the calling thread', async () => {
    const opts = { ...BASE, rows: 60, imageSize: 48 };
    const inThread = await tempDir();
    await generateDemoCatalogue({ ...opts, outDir: inThread, workers: 0 });
    const inWorkers = await tempDir();
    const seen: number[] = [];
    const s = await generateDemoCatalogue({ ...opts, outDir: inWorkers, workers: 2, onProgress: (d) => seen.push(d) });
    expect([...(await hashTree(inWorkers))]).toEqual([...(await hashTree(inThread))]);
    expect(seen).toEqual(Array.from({ length: s.files.length }, (_v, i) => i + 1));
  });

  it('rejects, naming the file, when a worker cannot write a picture', async () => {
    const opts = { rows: 10, imageSize: 32, imageFraction: 1 };
    const names = (await generateDemoCatalogue({ ...opts, outDir: await tempDir(), workers: 0 })).files;
    const picture = names.find((f) => f.startsWith('image_test/')) as string;
    const d = await tempDir();
    // A folder where a picture goes: writing it fails with EISDIR in the worker.
    await mkdir(path.join(d, picture), { recursive: true });
    await expect(generateDemoCatalogue({ ...opts, outDir: d, workers: 2 })).rejects.toThrow(picture);
  });

  it('writes an image for every row with imageFraction 1, and none with 0', async () => {
    const all = await tempDir();
    const s = await generateDemoCatalogue({ outDir: all, rows: 30, testRows: 5, imageSize: 32, imageFraction: 1, faults: { missingImage: 1 } });
    expect(s.trainImages).toBe(29);
    expect(s.testImages).toBe(5);
    expect((await readdir(path.join(all, 'image_train'))).length).toBe(29);

    const none = await tempDir();
    const n = await generateDemoCatalogue({ outDir: none, rows: 2000, imageFraction: 0 });
    expect(n.trainImages + n.testImages).toBe(0);
    expect(n.testRows).toBe(200);
    expect((await stat(path.join(none, 'X_train_update.csv'))).size).toBeGreaterThan(100_000);
    expect(await readdir(path.join(none, 'image_train'))).toEqual([]);
  });

  it('rejects impossible options', async () => {
    const d = await tempDir();
    await expect(generateDemoCatalogue({ outDir: d, rows: 5, faults: { missingId: 5 } })).rejects.toThrow(RangeError);
    await expect(generateDemoCatalogue({ outDir: d, rows: 1.5 })).rejects.toThrow(RangeError);
    await expect(generateDemoCatalogue({ outDir: d, imageFraction: 2 })).rejects.toThrow(RangeError);
  });
});
