/**
 * Cross-validation benchmark of the built-in model: `npx tsx bench/cv.ts`.
 *
 * On the real folder (../shared/data/rakuten or RAKUTEN_DATA): 3-fold stratified cross-validation
 * over the labelled training rows (text through the TextPreprocessor, images through
 * prepareImage for the rows that have one). Each training fold is split again (15%, stratified)
 * into the validation set used for early stopping and calibration; the test fold is only
 * predicted. Prints, per fold and on average: weighted F1 overall, text-only (images ignored),
 * on the with-image subset with and without the image branch, training seconds, epochs, the
 * backend, and single-product predict latency (p50) without and with an image.
 *
 * Options (environment): RAKUTEN_DATA, CV_FOLDS (3), CV_SEED (1), CV_PARAMS (JSON of model params),
 * CV_CLASS_WEIGHTING (1 to turn on).
 */
import { weightedF1Scorer } from '../src/stages/evaluate/score.js';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';
import pLimit from 'p-limit';
import { initBackend } from '../src/models/backend.js';
import { textImageModel } from '../src/models/text-image-model.js';
import type { ModelInput } from '../src/models/types.js';
import { weightedF1 } from '../src/stages/evaluate/metrics.js';
import { prepareImage } from '../src/stages/preprocess/image.js';
import { TextPreprocessor } from '../src/stages/preprocess/text.js';
import type { JsonValue } from '../src/stores/types.js';
import { mulberry32, shuffleInPlace } from '../src/util/random.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const dataDir = process.env['RAKUTEN_DATA'] ?? path.resolve(here, '../../shared/data/rakuten');
const FOLDS = Number(process.env['CV_FOLDS'] ?? 3);
const SEED = Number(process.env['CV_SEED'] ?? 1);
const PARAMS = JSON.parse(process.env['CV_PARAMS'] ?? '{}') as Record<string, JsonValue>;
const CLASS_WEIGHTING = process.env['CV_CLASS_WEIGHTING'] === '1';

/** Stratified assignment of each row to one of `k` groups. */
function stratifiedGroups(labels: readonly number[], k: number, seed: number): number[] {
  const random = mulberry32(seed);
  const byClass = new Map<number, number[]>();
  labels.forEach((label, i) => {
    const rows = byClass.get(label) ?? [];
    rows.push(i);
    byClass.set(label, rows);
  });
  const group = new Array<number>(labels.length).fill(0);
  let offset = 0;
  for (const label of [...byClass.keys()].sort((a, b) => a - b)) {
    const rows = shuffleInPlace(byClass.get(label) as number[], random);
    rows.forEach((row, j) => {
      group[row] = (j + offset) % k;
    });
    offset += rows.length;
  }
  return group;
}

/** Stratified split of `rows` with about `share` of each class in the second part. */
function stratifiedSplit(rows: readonly number[], labels: readonly number[], share: number, seed: number): [number[], number[]] {
  const random = mulberry32(seed);
  const byClass = new Map<number, number[]>();
  for (const row of rows) {
    const label = labels[row] as number;
    const list = byClass.get(label) ?? [];
    list.push(row);
    byClass.set(label, list);
  }
  const keep: number[] = [];
  const held: number[] = [];
  for (const label of [...byClass.keys()].sort((a, b) => a - b)) {
    const list = shuffleInPlace(byClass.get(label) as number[], random);
    const n = list.length >= 3 ? Math.max(1, Math.round(list.length * share)) : 0;
    held.push(...list.slice(0, n));
    keep.push(...list.slice(n));
  }
  return [keep.sort((a, b) => a - b), held.sort((a, b) => a - b)];
}

function percentile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
}

function argmax(p: Float32Array): number {
  let best = 0;
  for (let k = 1; k < p.length; k++) if ((p[k] as number) > (p[best] as number)) best = k;
  return best;
}

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const f = (x: number): string => x.toFixed(4);

async function main(): Promise<void> {
  if (!existsSync(path.join(dataDir, 'X_train_update.csv'))) {
    console.log(`real folder not found at ${dataDir}: nothing to measure (set RAKUTEN_DATA)`);
    return;
  }
  const backend = await initBackend();
  const t0 = performance.now();
  const X = parse(readFileSync(path.join(dataDir, 'X_train_update.csv')), { bom: true, columns: true }) as Record<string, string>[];
  const Y = parse(readFileSync(path.join(dataDir, 'Y_train_CVw08PX.csv')), { bom: true, columns: true }) as Record<string, string>[];
  const labelOf = new Map(Y.map((row) => [row[''], Number(row['prdtypecode'])]));
  const text = new TextPreprocessor();
  const limit = pLimit(4);
  const inputs: ModelInput[] = await Promise.all(
    X.map((row) =>
      limit(async (): Promise<ModelInput> => {
        const prepared = text.prepare({ designation: row['designation'] ?? '', description: row['description'] });
        const file = path.join(dataDir, 'image_train', `image_${row['imageid']}_product_${row['productid']}.jpg`);
        let image: ModelInput['image'] = null;
        if (existsSync(file)) {
          const picture = await prepareImage(readFileSync(file));
          image = { pixels: new Uint8Array(picture.pixels), size: picture.size };
        }
        return {
          designation: prepared.designation,
          description: prepared.description,
          designationTokens: prepared.designationTokens,
          descriptionTokens: prepared.descriptionTokens,
          image,
        };
      }),
    ),
  );
  const labels = X.map((row) => {
    const label = labelOf.get(row['']);
    if (label === undefined) throw new Error(`no label for row ${row['']}`);
    return label;
  });
  const withImage = inputs.filter((input) => input.image).length;
  console.log(
    `${inputs.length} rows (${withImage} with an image), ${new Set(labels).size} classes, prepared in ${((performance.now() - t0) / 1000).toFixed(1)} s; backend ${backend}`,
  );
  console.log(`params ${JSON.stringify(PARAMS)} classWeighting ${CLASS_WEIGHTING}`);

  const groups = stratifiedGroups(labels, FOLDS, SEED);
  const rows = { all: [] as number[], text: [] as number[], imgWith: [] as number[], imgWithout: [] as number[], secs: [] as number[] };
  const latency = { text: [] as number[], image: [] as number[] };
  for (let fold = 0; fold < FOLDS; fold++) {
    const trainRows = labels.flatMap((_, i) => (groups[i] !== fold ? [i] : []));
    const testRows = labels.flatMap((_, i) => (groups[i] === fold ? [i] : []));
    const [fitRows, valRows] = stratifiedSplit(trainRows, labels, 0.15, SEED + 100 + fold);
    const started = performance.now();
    const model = await textImageModel.train(
      fitRows.map((i) => inputs[i] as ModelInput),
      fitRows.map((i) => labels[i] as number),
      {
        seed: SEED,
        classWeighting: CLASS_WEIGHTING,
        params: PARAMS,
        validation: { inputs: valRows.map((i) => inputs[i] as ModelInput), labels: valRows.map((i) => labels[i] as number), score: weightedF1Scorer(valRows.map((i) => labels[i] as number)) },
      },
    );
    const seconds = (performance.now() - started) / 1000;
    const testInputs = testRows.map((i) => inputs[i] as ModelInput);
    const truth = testRows.map((i) => labels[i] as number);
    const decode = (ps: Float32Array[]): number[] => ps.map((p) => model.classes[argmax(p)] as number);
    const full = decode(await model.predict(testInputs));
    const textOnly = decode(await model.predict(testInputs.map((input) => ({ ...input, image: null }))));
    const imageIdx = testRows.flatMap((i, j) => (inputs[i]?.image ? [j] : []));
    const pick = (xs: number[]): number[] => imageIdx.map((j) => xs[j] as number);
    const scores = {
      all: weightedF1(truth, full),
      text: weightedF1(truth, textOnly),
      imgWith: weightedF1(pick(truth), pick(full)),
      imgWithout: weightedF1(pick(truth), pick(textOnly)),
    };
    rows.all.push(scores.all);
    rows.text.push(scores.text);
    rows.imgWith.push(scores.imgWith);
    rows.imgWithout.push(scores.imgWithout);
    rows.secs.push(seconds);
    const last = model.history.at(-1);
    const bestEpoch = model.history.reduce((b, h) => (h.valWeightedF1 > b.valWeightedF1 ? h : b), model.history[0] ?? { epoch: 0, valWeightedF1: 0 });
    console.log(
      `fold ${fold + 1}: train ${fitRows.length} / val ${valRows.length} / test ${testRows.length} (${imageIdx.length} with image) | ` +
        `weighted F1 ${f(scores.all)} | text-only ${f(scores.text)} | with-image subset: image branch ${f(scores.imgWith)} vs text ${f(scores.imgWithout)} | ` +
        `train ${seconds.toFixed(1)} s, ${last?.epoch ?? 0} epochs (best ${bestEpoch.epoch}, val ${f(bestEpoch.valWeightedF1)}), ${model.featureCount} features, image branch ${model.hasImageBranch}`,
    );
    // Single-product latency (image preprocessing excluded).
    for (let r = 0; r < Math.min(300, testInputs.length); r++) {
      const input = testInputs[r] as ModelInput;
      const a = performance.now();
      await model.predict([{ ...input, image: null }]);
      latency.text.push(performance.now() - a);
    }
    for (const j of imageIdx.slice(0, 150)) {
      const a = performance.now();
      await model.predict([testInputs[j] as ModelInput]);
      latency.image.push(performance.now() - a);
    }
    model.dispose();
  }
  console.log(
    `mean of ${FOLDS} folds: weighted F1 ${f(mean(rows.all))} | text-only ${f(mean(rows.text))} | with-image subset: image branch ${f(mean(rows.imgWith))} vs text ${f(mean(rows.imgWithout))} | ` +
      `train ${mean(rows.secs).toFixed(1)} s per fold | backend ${backend}`,
  );
  console.log(
    `predict latency, one product: text-only p50 ${percentile(latency.text, 0.5).toFixed(2)} ms (p95 ${percentile(latency.text, 0.95).toFixed(2)}), ` +
      `with image p50 ${percentile(latency.image, 0.5).toFixed(2)} ms (p95 ${percentile(latency.image, 0.95).toFixed(2)})`,
  );
  console.log('reference: tuned TF-IDF + linear SVM, 3-fold CV weighted F1 0.744');
}

await main();
