/**
 * Model benchmark: `npm run bench:model`.
 *
 * On the real folder: load + prepare into a fresh embedded store, then for the built-in model and,
 * as the reference in the same run, the naive Bayes baseline: training seconds, validation and
 * test weighted F1 (text only and with image), single-product latency p50/p95 (model only, and
 * end to end through the online predictor with preprocessing), batch throughput, backend.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';
import { DEFAULT_RUNTIME } from '../src/models/builtin.js';
import { naiveBayesModel } from '../src/models/naive-bayes.js';
import { ModelRegistry } from '../src/models/registry.js';
import type { ModelFactory } from '../src/models/types.js';
import { Evaluator } from '../src/stages/evaluate/stage.js';
import { ChallengeDataLoader } from '../src/stages/load/loader.js';
import { imageFileName } from '../src/stages/load/image-folder.js';
import { Predictor } from '../src/stages/predict/predictor.js';
import { PrepareStage } from '../src/stages/prepare/stage.js';
import { TrainStage } from '../src/stages/train/stage.js';
import { openEmbeddedStore } from '../src/stores/embedded/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const dataDir = process.env['RAKUTEN_DATA'] ?? path.resolve(here, '../../shared/data/rakuten');
const f4 = (x: number | null) => (x === null ? 'n/a' : x.toFixed(4));

function percentiles(times: number[]): string {
  const s = [...times].sort((a, b) => a - b);
  const at = (q: number) => (s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? 0).toFixed(2);
  return `p50 ${at(0.5)} ms, p95 ${at(0.95)} ms`;
}

async function main(): Promise<void> {
  if (!existsSync(path.join(dataDir, 'X_train_update.csv'))) {
    console.log(`real folder not found at ${dataDir}: nothing to measure (set RAKUTEN_DATA)`);
    return;
  }
  const backend = await DEFAULT_RUNTIME.initBackend();
  console.log(`model benchmark on ${os.cpus().length} cores, Node ${process.version}, TensorFlow.js backend ${backend}`);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'rp-bench-model-'));
  const store = openEmbeddedStore(dir);
  try {
    await new ChallengeDataLoader(store).load({ dataDir });
    const prepare = await new PrepareStage(store).run();
    console.log(`data: train ${prepare.splits.train.total}, val ${prepare.splits.val.total}, test ${prepare.splits.test.total} products`);
    const rows = (parse(await readFile(path.join(dataDir, 'X_test_update.csv')), { bom: true }) as string[][]).slice(1, 201);
    const candidates: [string, ModelFactory][] = [
      ['built-in', DEFAULT_RUNTIME.factories[0] as ModelFactory],
      ['reference: naive Bayes', naiveBayesModel],
    ];
    for (const [label, factory] of candidates) {
      const registry = new ModelRegistry(store, [...DEFAULT_RUNTIME.factories, naiveBayesModel]);
      const t0 = performance.now();
      const trained = await new TrainStage(store, factory, DEFAULT_RUNTIME.initBackend, registry).run({ promote: 'always' });
      const trainSeconds = (performance.now() - t0) / 1000;
      const v = trained.model.validation;
      const evaluation = await new Evaluator(store, registry).run({ model: trained.model.version, report: false, latencySamples: 300 });
      const predictor = new Predictor(store, registry);
      const textTimes: number[] = [];
      const imageTimes: number[] = [];
      for (const r of rows) {
        const product = { designation: r[1] ?? '', description: r[2] ?? '' };
        let t = performance.now();
        await predictor.predictProduct(product, { model: trained.model.version });
        textTimes.push(performance.now() - t);
        const image = await readFile(path.join(dataDir, 'image_test', imageFileName(Number(r[4]), Number(r[3])))).catch(() => null);
        if (image) {
          t = performance.now();
          await predictor.predictProduct({ ...product, image }, { model: trained.model.version });
          imageTimes.push(performance.now() - t);
        }
      }
      console.log(`\n${label} (${trained.model.kind}, v${trained.model.version})`);
      console.log(`  training: ${trainSeconds.toFixed(1)} s, ${trained.model.history.length} epochs`);
      console.log(`  validation weighted F1 ${f4(v.weightedF1)} (text only ${f4(v.textOnlyWeightedF1)}; with-image products ${f4(v.withImageWeightedF1)} vs ${f4(v.withImageTextOnlyWeightedF1)} text only)`);
      console.log(
        `  test weighted F1 ${f4(evaluation.metrics.weightedF1)} (text only ${f4(evaluation.textOnlyWeightedF1)}; ${evaluation.withImage.count} with image: ` +
          `${f4(evaluation.withImage.weightedF1)} vs ${f4(evaluation.withImage.textOnlyWeightedF1)} text only); macro F1 ${f4(evaluation.metrics.macroF1)}`,
      );
      console.log(
        `  model latency, one product: text only p50 ${evaluation.latencyTextOnly.p50Ms} ms, p95 ${evaluation.latencyTextOnly.p95Ms} ms` +
          (evaluation.latencyWithImage ? `; with image p50 ${evaluation.latencyWithImage.p50Ms} ms, p95 ${evaluation.latencyWithImage.p95Ms} ms` : ''),
      );
      console.log(`  online predictor incl. preprocessing: text only ${percentiles(textTimes)}; with a 500 px JPEG ${percentiles(imageTimes)}`);
      console.log(`  batch throughput: ${evaluation.productsPerSecond} products/s`);
    }
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
  console.log(`\npeak RSS ${Math.round(process.resourceUsage().maxRSS / 1024)} MB`);
}

await main();
