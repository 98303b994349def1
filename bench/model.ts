/**
 * Model benchmark: `npm run bench:model`.
 *
 * On the real folder: load + prepare into a fresh embedded store, then for the built-in model and,
 * as the reference in the same run, the naive Bayes baseline: training seconds, validation and
 * test weighted F1 (text only and with image), single-product latency p50/p95 (model only, and
 * end to end through the online predictor with preprocessing), batch throughput, backend.
 */
import { initBackend } from '../src/models/backend.js';
import { createPipeline } from '../src/pipeline/pipeline.js';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';
import { NAIVE_BAYES_KIND } from '../src/models/naive-bayes.js';
import { imageFileName } from '../src/stages/load/image-folder.js';

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
  const backend = await initBackend();
  console.log(`model benchmark on ${os.cpus().length} cores, Node ${process.version}, TensorFlow.js backend ${backend}`);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'rp-bench-model-'));
  // The built-in kinds, the first being the default model, and naive Bayes as the reference.
  const pipeline = await createPipeline({ store: dir });
  try {
    await pipeline.load({ dataDir });
    const prepare = await pipeline.prepare();
    console.log(`data: train ${prepare.splits.train.total}, val ${prepare.splits.val.total}, test ${prepare.splits.test.total} products`);
    const rows = (parse(await readFile(path.join(dataDir, 'X_test_update.csv')), { bom: true }) as string[][]).slice(1, 201);
    const candidates: [string, string | undefined][] = [
      ['built-in', undefined],
      ['reference: naive Bayes', NAIVE_BAYES_KIND],
    ];
    for (const [label, kind] of candidates) {
      const t0 = performance.now();
      const trained = await pipeline.train({ promote: 'always', ...(kind ? { kind } : {}) });
      const trainSeconds = (performance.now() - t0) / 1000;
      const v = trained.model.validation;
      const evaluation = await pipeline.evaluate({ model: trained.model.version, report: false, latencySamples: 300 });
      const predictor = pipeline.predictor;
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
    await pipeline.close();
    await rm(dir, { recursive: true, force: true });
  }
  console.log(`\npeak RSS ${Math.round(process.resourceUsage().maxRSS / 1024)} MB`);
}

await main();
