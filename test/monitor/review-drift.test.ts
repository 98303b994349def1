import { readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPipeline, type Pipeline } from '../../src/pipeline/pipeline.js';
import { NAIVE_BAYES_KIND } from '../../src/models/naive-bayes.js';
import { COLLECTIONS } from '../../src/collections.js';
import type { DemoCatalogueSummary } from '../../src/demo/generate-catalogue.js';
import type { DriftReference } from '../../src/stages/monitor/drift.js';
import { REVIEW_IMAGE_PREFIX, type OnlinePrediction } from '../../src/stages/monitor/review.js';
import { confidenceOf } from '../../src/stages/predict/confidence.js';
import { makeCatalogue, tempDir } from '../support/data.js';

// The review queue and drift monitoring on a real pipeline (embedded store, naive Bayes): online
// predictions are recorded with their confidence and input profile, the queue lists the least
// certain first, a verdict is stored once with its key id and feeds the next training; drift
// stays quiet on traffic like the training data and flags shifted traffic.

interface Row {
  designation: string;
  description: string;
  prdtypecode: number;
  /** Its image file, when the catalogue has one. */
  image: string | null;
}

let data: DemoCatalogueSummary;
let storeDir = '';
let pipeline: Pipeline;
let rows: Row[] = [];

beforeAll(async () => {
  data = await makeCatalogue({ rows: 900, testRows: 40, imageFraction: 0.1 });
  storeDir = await tempDir('rp-monitor-');
  pipeline = await createPipeline({ store: path.join(storeDir, 'store') });
  await pipeline.load({ dataDir: data.outDir });
  await pipeline.prepare({ seed: 1 });
  await pipeline.train({ kind: NAIVE_BAYES_KIND, seed: 1 });
  const x = parse(await readFile(path.join(data.outDir, 'X_train_update.csv'), 'utf8'), { from_line: 2 }) as string[][];
  const y = new Map((parse(await readFile(path.join(data.outDir, 'Y_train_CVw08PX.csv'), 'utf8'), { from_line: 2 }) as string[][]).map((r) => [r[0], Number(r[1])]));
  const images = new Set(await readdir(path.join(data.outDir, 'image_train')));
  rows = x
    .filter((r) => y.has(r[0]) && r[1])
    .map((r) => {
      const file = `image_${r[4]}_product_${r[3]}.jpg`;
      return { designation: r[1]!, description: r[2] ?? '', prdtypecode: y.get(r[0])!, image: images.has(file) ? path.join(data.outDir, 'image_train', file) : null };
    });
}, 240_000);
afterAll(async () => {
  await pipeline?.close();
  await rm(storeDir, { recursive: true, force: true });
  if (data) await rm(data.outDir, { recursive: true, force: true });
});

const traffic = async (products: readonly Row[]) => {
  for (const p of products) {
    const image = p.image ? await readFile(p.image) : null;
    await pipeline.predictProduct({ designation: p.designation, description: p.description, image }, { record: true });
  }
};
const clearTraffic = () => pipeline.store.documents.collection(COLLECTIONS.onlinePredictions).deleteMany();

describe('confidenceOf', () => {
  it('gives the margin of the two best classes and the normalised entropy', () => {
    expect(confidenceOf([0.5, 0.3, 0.2])).toEqual({ margin: 0.2, entropy: expect.closeTo(0.9372, 3) as number });
    expect(confidenceOf([1, 0, 0, 0])).toEqual({ margin: 1, entropy: 0 });
    expect(confidenceOf([0.25, 0.25, 0.25, 0.25])).toEqual({ margin: 0, entropy: 1 });
  });
});

describe('drift monitoring', () => {
  it('saves a reference with every trained version', async () => {
    const ref = await pipeline.store.documents.collection<DriftReference>(COLLECTIONS.driftReferences).get('v1');
    expect(ref).toMatchObject({ modelVersion: 1, features: { language: { kind: 'categorical' }, text_length: { kind: 'numeric' } } });
    expect(ref!.vocabulary.length).toBeGreaterThan(100);
    expect(ref!.count).toBeGreaterThan(50);
  });

  it('says the window is too small rather than flagging a handful of predictions', async () => {
    await clearTraffic();
    await traffic(rows.slice(0, 20));
    const report = await pipeline.drift.report();
    expect(report).toMatchObject({ enough: false, flagged: [], window: { size: 20, online: 20, batch: 0 } });
    expect(report.note).toMatch(/only 20 recent predictions/);
  });

  it('flags nothing on traffic like the training data', async () => {
    await clearTraffic();
    await traffic(rows.slice(0, 400));
    const report = await pipeline.drift.report();
    expect(report.enough).toBe(true);
    expect(report.window.size).toBe(400);
    expect(report.features.map((f) => f.name)).toEqual(['predicted_class', 'text_length', 'language', 'oov_share', 'has_image', 'image_feature']);
    expect(report.flagged).toEqual([]);
    expect(report.features.find((f) => f.name === 'language')!.value).toBeLessThan(0.1);
  });

  it('flags the language mix when only English comes in', async () => {
    await clearTraffic();
    const english = rows.filter((r) => pipeline.preprocessor.text.prepare(r).language === 'en');
    expect(english.length).toBeGreaterThan(100);
    await traffic([...english, ...english].slice(0, 250));
    const report = await pipeline.drift.report();
    expect(report.flagged).toContain('language');
    const language = report.features.find((f) => f.name === 'language')!;
    expect(language.bins.find((b) => b.bin === 'en')!.current).toBe(1);
    // Stored, and the newest.
    expect((await pipeline.drift.latest())?._id).toBe(report._id);
  });

  it('flags the predicted classes when only two classes come in', async () => {
    await clearTraffic();
    const [a, b] = [...new Set(rows.map((r) => r.prdtypecode))];
    const two = rows.filter((r) => r.prdtypecode === a || r.prdtypecode === b);
    await traffic([...two, ...two, ...two].slice(0, 250));
    const report = await pipeline.drift.report();
    expect(report.flagged).toContain('predicted_class');
    expect(report.flagged).not.toContain('has_image');
  });
});

describe('review queue', () => {
  it('lists the least certain predictions first, stores a verdict once, and the next training can take it', async () => {
    await clearTraffic();
    const answer = await pipeline.predictProduct({ designation: rows[0]!.designation }, { record: true });
    expect(answer.id).toMatch(/^online:/);
    expect(answer.confidence.margin).toBeGreaterThanOrEqual(0);
    await traffic(rows.slice(1, 60));
    const { items, pending } = await pipeline.review.list({ limit: 10, reason: 'uncertain' });
    expect(pending).toBe(60);
    expect(items).toHaveLength(10);
    const margins = items.map((i) => i.confidence.margin);
    expect(margins).toEqual([...margins].sort((x, y) => x - y));
    const item = items[0]!;
    const other = item.top.find((t) => t.prdtypecode !== item.prdtypecode)!.prdtypecode;
    const correction = await pipeline.review.correct(item.id, other, { keyId: 'key:abc' });
    expect(correction).toMatchObject({ accepted: false, predicted: item.prdtypecode, prdtypecode: other, keyId: 'key:abc', source: 'online' });
    // Once: a second verdict is refused and the first stays.
    await expect(pipeline.review.correct(item.id, item.prdtypecode, { keyId: 'key:def' })).rejects.toThrow(/already reviewed/);
    expect((await pipeline.review.listCorrections())[0]).toMatchObject({ prdtypecode: other, keyId: 'key:abc' });
    await expect(pipeline.review.correct(item.id.replace(/.$/, 'x'), other, { keyId: null })).rejects.toThrow(/no review item/);
    await expect(pipeline.review.correct(items[1]!.id, 123456, { keyId: null })).rejects.toThrow(/not a product type code/);
    // Off the queue.
    expect((await pipeline.review.list({ limit: 100 })).items.map((i) => i.id)).not.toContain(item.id);

    const trained = await pipeline.train({ kind: NAIVE_BAYES_KIND, seed: 1, includeCorrections: true, promote: 'never' });
    expect(trained.model.corrections).toEqual({ count: 1, changed: 1, through: correction.at, ids: [item.id] });
    const without = await pipeline.train({ kind: NAIVE_BAYES_KIND, seed: 1, promote: 'never' });
    expect(without.model.corrections).toBeUndefined();
  }, 120_000);

  it('prunes online predictions beyond a number, with the pictures nothing else uses, never the corrections', async () => {
    await clearTraffic();
    const pictured = rows.filter((r) => r.image).slice(0, 6);
    expect(pictured).toHaveLength(6);
    await traffic(pictured);
    const kept = await pipeline.review.list({ limit: 10 });
    // The oldest one is corrected: its picture must outlive the prediction.
    const online = pipeline.store.documents.collection<OnlinePrediction>(COLLECTIONS.onlinePredictions);
    const all: OnlinePrediction[] = [];
    for await (const d of online.find({}, { sort: { field: 'predictedAt', direction: 1 } })) all.push(d);
    const oldest = all[0]!;
    await pipeline.review.correct(`online:${oldest._id}`, oldest.prdtypecode, { keyId: null });
    expect(kept.items.length).toBeGreaterThan(0);
    const before = await pipeline.store.images.count({ prefix: REVIEW_IMAGE_PREFIX });
    const pruned = await pipeline.review.pruneOnline(2);
    expect(pruned.deleted).toBe(4);
    expect(await online.count()).toBe(2);
    // The 4 deleted predictions had 4 pictures; the corrected one's stays.
    expect(pruned.images).toBe(3);
    expect(await pipeline.store.images.count({ prefix: REVIEW_IMAGE_PREFIX })).toBe(before - 3);
    expect(await pipeline.store.images.get(oldest.imageKey!)).toBeDefined();
    expect((await pipeline.review.trainingCorrections()).map((c) => c._id)).toContain(`online:${oldest._id}`);
    expect(await pipeline.review.pruneOnline(2)).toEqual({ deleted: 0, images: 0 });
    await expect(pipeline.review.pruneOnline(-1)).rejects.toThrow(RangeError);
  });
});
