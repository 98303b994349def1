import type { Command } from 'commander';
import { ModelRegistry, type ModelRef } from '../../models/registry.js';
import { pickFactory, type ModelRuntime } from '../../models/builtin.js';
import { Evaluator, type EvaluationRecord } from '../../stages/evaluate/stage.js';
import { Predictor, type BatchPredictionSummary } from '../../stages/predict/predictor.js';
import { TrainStage, type PromotionPolicy, type TrainResult } from '../../stages/train/stage.js';
import { withStore } from '../context.js';
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
  ];
}

/** Text summary of an evaluation. */
export function describeEvaluation(e: EvaluationRecord): string[] {
  return [
    `model v${e.modelVersion} on ${e.dataset}: ${n(e.metrics.count)} products`,
    `  weighted F1 ${f4(e.metrics.weightedF1)}, macro F1 ${f4(e.metrics.macroF1)}, accuracy ${f4(e.metrics.accuracy)}`,
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
  return [
    `predicted ${n(p.count)} products (${n(p.withImage)} with image) with model v${p.modelVersion} in ${p.seconds.toFixed(1)} s ` +
      `(${n(Math.round(p.productsPerSecond))}/s) -> ${p.output}`,
  ];
}

/** Registers `train`, `evaluate`, `predict` and `models`. */
export function registerModelCommands(program: Command, runtime: ModelRuntime): void {
  const storeOption = ['--store <uri>', 'store: a folder path (embedded) or mongodb://host:port/db'] as const;
  program
    .command('train')
    .description('Train a model on labeled_train (early stopping on labeled_val) and register it as a new version')
    .option(...storeOption)
    .option('--seed <n>', 'seed', Number, 42)
    .option('--kind <kind>', 'model kind (default: the built-in text-image model)')
    .option('--epochs <n>', 'most epochs', Number)
    .option('--patience <n>', 'early-stopping patience', Number)
    .option('--class-weighting', 'weight classes inversely to their frequency')
    .option('--promote <policy>', 'champion policy: auto (guardrailed), always, never', 'auto')
    .option('--guardrail <f1>', 'largest per-class F1 drop allowed for an automatic promotion', Number, 0.05)
    .option('--json', 'print the result as JSON on stdout')
    .action(async (opts: OutputOptions & { store?: string; seed: number; kind?: string; epochs?: number; patience?: number; classWeighting?: boolean; promote: string; guardrail: number }) => {
      if (!['auto', 'always', 'never'].includes(opts.promote)) throw new Error(`--promote: expected auto, always or never, got ${opts.promote}`);
      const result = await withStore(opts.store, async (store, onProgress, signal) => {
        return new TrainStage(store, pickFactory(runtime, opts.kind, '--kind'), runtime.initBackend, new ModelRegistry(store, runtime.factories)).run({
          seed: opts.seed,
          ...(opts.epochs !== undefined ? { maxEpochs: opts.epochs } : {}),
          ...(opts.patience !== undefined ? { patience: opts.patience } : {}),
          classWeighting: opts.classWeighting ?? false,
          promote: opts.promote as PromotionPolicy,
          guardrailMargin: opts.guardrail,
          onProgress,
          signal,
        });
      });
      emit(opts, result, () => describeTrain(result));
    });

  program
    .command('evaluate')
    .description('Evaluate a model version on labeled_test (or a labelled folder) into model_evaluation, with an HTML report')
    .option(...storeOption)
    .option('--model <ref>', 'version number, champion or latest', 'champion')
    .option('--data <dir>', 'labelled folder in the challenge layout instead of labeled_test')
    .option('--report <file>', 'HTML report path (default reports/evaluation-v<N>.html)')
    .option('--json', 'print the evaluation as JSON on stdout')
    .action(async (opts: OutputOptions & { store?: string; model: string; data?: string; report?: string }) => {
      await runtime.initBackend();
      const record = await withStore(opts.store, (store, onProgress) =>
        new Evaluator(store, new ModelRegistry(store, runtime.factories)).run({
          model: parseModelRef(opts.model),
          ...(opts.data ? { dataDir: opts.data } : {}),
          ...(opts.report ? { report: opts.report } : {}),
          onProgress,
        }),
      );
      emit(opts, record, () => describeEvaluation(record));
    });

  program
    .command('predict')
    .description('Predict the stored test rows into `predictions`, or a CSV (X_test layout) into a submission file')
    .option(...storeOption)
    .option('--model <ref>', 'version number, champion or latest', 'champion')
    .option('--input <csv>', 'CSV in the X_test_update.csv layout (default: the stored test rows)')
    .option('--images <dir>', 'folder of image_<imageid>_product_<productid>.jpg for --input')
    .option('--output <csv>', 'submission file to write (header ",prdtypecode"), with --input', 'y_pred.csv')
    .option('--json', 'print the summary as JSON on stdout')
    .action(async (opts: OutputOptions & { store?: string; model: string; input?: string; images?: string; output: string }) => {
      await runtime.initBackend();
      const summary = await withStore(opts.store, (store, onProgress, signal) => {
        const predictor = new Predictor(store, new ModelRegistry(store, runtime.factories));
        const model = parseModelRef(opts.model);
        return opts.input
          ? predictor.predictCsv({ input: opts.input, output: opts.output, ...(opts.images ? { imagesDir: opts.images } : {}), model, onProgress, signal })
          : predictor.predictStoredTest({ model, onProgress, signal });
      });
      emit(opts, summary, () => describePrediction(summary));
    });

  program
    .command('models')
    .description('List model versions and the champion')
    .option(...storeOption)
    .option('--promote <version>', 'point champion at this version')
    .option('--json', 'print as JSON on stdout')
    .action(async (opts: OutputOptions & { store?: string; promote?: string }) => {
      const listing = await withStore(opts.store, async (store) => {
        const registry = new ModelRegistry(store, runtime.factories);
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
