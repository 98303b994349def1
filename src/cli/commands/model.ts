import type { Command } from 'commander';
import { categoryLabel } from '../../categories.js';
import type { ModelRef } from '../../models/registry.js';
import type { EvaluationRecord } from '../../stages/evaluate/stage.js';
import { EvaluateParams, PredictParams, TrainParams } from '../../stages/options.js';
import type { BatchPredictionSummary } from '../../stages/predict/predictor.js';
import type { TrainResult } from '../../stages/train/stage.js';
import { checkOutputFile } from '../../util/output-file.js';
import { withPipeline } from '../context.js';
import { addSchemaFlags, schemaValues } from '../flags.js';
import { emit, n, type OutputOptions } from '../output.js';

/** Parses `--model`: a version number, `champion` or `latest`. */
export function parseModelRef(value: string | undefined): ModelRef {
  if (value === undefined || value === 'champion' || value === 'latest') return value ?? 'champion';
  if (/^v?\d+$/.test(value)) return Number(value.replace(/^v/, ''));
  throw new Error(`--model: expected a version number, "champion" or "latest", got ${JSON.stringify(value)}`);
}

const f4 = (x: number | null | undefined) => (x === null || x === undefined ? 'n/a' : x.toFixed(4));

/** Text summary of a training run. */
export function describeTrain(r: TrainResult): string[] {
  const m = r.model;
  const v = m.validation;
  return [
    `trained model v${m.version} (${m.kind}) on ${m.backend} in ${m.trainingSeconds.toFixed(1)} s, ${m.history.length} epochs`,
    ...m.history.map((e) => `  epoch ${e.epoch}: loss ${e.loss.toFixed(4)}, val weighted F1 ${f4(e.valWeightedF1)}, ${e.seconds.toFixed(1)} s`),
    `  validation weighted F1 ${f4(v.weightedF1)} (text only ${f4(v.textOnlyWeightedF1)}); ` +
      `products with image: ${f4(v.withImageWeightedF1)} with it, ${f4(v.withImageTextOnlyWeightedF1)} without`,
    `  champion: ${r.champion.promoted ? `now v${m.version}` : `stays v${r.champion.previous}`} (${r.champion.reason})`,
    ...r.champion.regressions.map((g) => `    ${categoryLabel(g.prdtypecode)}: F1 ${f4(g.before)} -> ${f4(g.after)}`),
  ];
}

/** How many classes the text summaries name (weakest evaluated, most predicted). */
const LISTED_CLASSES = 3;

/** Text summary of an evaluation. */
export function describeEvaluation(e: EvaluationRecord): string[] {
  // Classes without support have an F1 of 0 that says nothing about the model.
  const weakest = e.metrics.perClass
    .filter((c) => c.support > 0)
    .sort((a, b) => a.f1 - b.f1 || a.label - b.label)
    .slice(0, LISTED_CLASSES);
  return [
    `model v${e.modelVersion} on ${e.dataset}: ${n(e.metrics.count)} products`,
    `  weighted F1 ${f4(e.metrics.weightedF1)}, macro F1 ${f4(e.metrics.macroF1)}, accuracy ${f4(e.metrics.accuracy)}`,
    ...(weakest.length ? [`  weakest classes: ${weakest.map((c) => `${categoryLabel(c.label)} (F1 ${f4(c.f1)})`).join(', ')}`] : []),
    `  text only: weighted F1 ${f4(e.textOnlyWeightedF1)}; products with image (${n(e.withImage.count)}): ${f4(e.withImage.weightedF1)} with it, ${f4(e.withImage.textOnlyWeightedF1)} without`,
    `  latency p50/p95: text only ${e.latencyTextOnly.p50Ms}/${e.latencyTextOnly.p95Ms} ms` +
      (e.latencyWithImage ? `, with image ${e.latencyWithImage.p50Ms}/${e.latencyWithImage.p95Ms} ms` : '') +
      `; batch ${n(e.productsPerSecond)} products/s`,
    ...(e.report ? [`  report: ${e.report}`] : []),
    ...(e.warnings ?? []).map((w) => `  warning: ${w}`),
  ];
}

/** Text summary of a batch prediction. */
export function describePrediction(p: BatchPredictionSummary): string[] {
  const most = Object.entries(p.perClass)
    .map(([code, count]) => [Number(code), count] as const)
    .sort((a, b) => b[1] - a[1] || a[0] - b[0])
    .slice(0, LISTED_CLASSES);
  return [
    `predicted ${n(p.count)} products (${n(p.withImage)} with image) with model v${p.modelVersion} in ${p.seconds.toFixed(1)} s ` +
      `(${n(Math.round(p.productsPerSecond))}/s) -> ${p.output}`,
    ...(most.length ? [`  most predicted: ${most.map(([code, count]) => `${categoryLabel(code)} (${n(count)})`).join(', ')}`] : []),
  ];
}

const TRAIN_FLAGS = ['seed', 'kind', 'epochs', 'patience', 'classWeighting', 'promote', 'guardrailMargin', 'includeCorrections'] as const;
const TRAIN_NAMES = { guardrailMargin: '--guardrail' } as const;
const EVALUATE_FLAGS = ['model', 'dataDir', 'latencySamples'] as const;
const EVALUATE_NAMES = { dataDir: '--data' } as const;
const PREDICT_FLAGS = ['model'] as const;

/** Registers `train`, `evaluate`, `predict` and `models`. */
export function registerModelCommands(program: Command): void {
  const storeOption = ['--store <uri>', 'store: a folder path (embedded) or mongodb://host:port/db'] as const;
  const train = program
    .command('train')
    .description('Train a model on labeled_train (early stopping on labeled_val) and register it as a new version')
    .option(...storeOption);
  addSchemaFlags(train, TrainParams, TRAIN_FLAGS, TRAIN_NAMES)
    .option('--json', 'print the result as JSON on stdout')
    .action(async (opts: OutputOptions & { store?: string } & Record<string, unknown>) => {
      const params = schemaValues(opts, TrainParams, TRAIN_FLAGS, TRAIN_NAMES);
      const result = await withPipeline(opts.store, (pipeline, onProgress, signal) => pipeline.train({ ...params, onProgress, signal }));
      emit(opts, result, () => describeTrain(result));
    });

  const evaluate = program
    .command('evaluate')
    .description('Evaluate a model version on labeled_test (or a labelled folder) into model_evaluation, with an HTML report')
    .option(...storeOption);
  addSchemaFlags(evaluate, EvaluateParams, EVALUATE_FLAGS, EVALUATE_NAMES)
    .option('--report <file>', 'HTML report path (default reports/evaluation-v<N>.html)')
    .option('--json', 'print the evaluation as JSON on stdout')
    .action(async (opts: OutputOptions & { store?: string; report?: string } & Record<string, unknown>) => {
      // Output paths are checked before the work, not after it.
      if (opts.report) await checkOutputFile(opts.report, '--report', { createFolder: true });
      const params = schemaValues(opts, EvaluateParams, EVALUATE_FLAGS, EVALUATE_NAMES);
      const record = await withPipeline(opts.store, (pipeline, onProgress) => pipeline.evaluate({ ...params, ...(opts.report ? { report: opts.report } : {}), onProgress }));
      emit(opts, record, () => describeEvaluation(record));
    });

  const predict = program
    .command('predict')
    .description('Predict the stored test rows into `predictions`, or a CSV (X_test layout) into a submission file')
    .option(...storeOption);
  addSchemaFlags(predict, PredictParams, PREDICT_FLAGS)
    .option('--input <csv>', 'CSV in the X_test_update.csv layout (default: the stored test rows)')
    .option('--images <dir>', 'folder of image_<imageid>_product_<productid>.jpg for --input')
    .option('--output <csv>', 'submission file to write (header ",prdtypecode"), with --input', 'y_pred.csv')
    .option('--json', 'print the summary as JSON on stdout')
    .action(async (opts: OutputOptions & { store?: string; input?: string; images?: string; output: string } & Record<string, unknown>) => {
      if (opts.input) await checkOutputFile(opts.output, '--output');
      const params = schemaValues(opts, PredictParams, PREDICT_FLAGS);
      const summary = await withPipeline(opts.store, (pipeline, onProgress, signal) =>
        opts.input
          ? pipeline.predictCsv({ ...params, input: opts.input, output: opts.output, ...(opts.images ? { imagesDir: opts.images } : {}), onProgress, signal })
          : pipeline.predict({ ...params, onProgress, signal }),
      );
      emit(opts, summary, () => describePrediction(summary));
    });

  program
    .command('models')
    .description('List model versions and the champion')
    .option(...storeOption)
    .option('--promote <version>', 'point champion at this version')
    .option('--json', 'print as JSON on stdout')
    .action(async (opts: OutputOptions & { store?: string; promote?: string }) => {
      const listing = await withPipeline(opts.store, async ({ registry }) => {
        if (opts.promote) await registry.promote(Number(parseModelRef(opts.promote)), 'promoted by hand');
        const versions = await registry.list();
        return { champion: await registry.championVersion(), versions: versions.map(({ manifest: _m, ...v }) => v) };
      });
      emit(opts, listing, () => [
        `champion: ${listing.champion === null ? 'none' : `v${listing.champion}`}`,
        ...listing.versions.map(
          (v) => `  v${v.version} ${v.kind} ${v.createdAt} val weighted F1 ${f4(v.validation.weightedF1)} (text only ${f4(v.validation.textOnlyWeightedF1)}) on ${v.backend}`,
        ),
      ]);
    });
}
