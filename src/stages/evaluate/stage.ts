import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import pLimit from 'p-limit';
import { COLLECTIONS } from '../../collections.js';
import { withoutImage } from '../../models/util.js';
import { decodePreparedPng, inputFromPrepared, inputsFromLabeled, type StoredFeatures } from '../model-inputs.js';
import type { ModelRef, ModelRegistry, ModelVersion } from '../../models/registry.js';
import type { ModelInput, ProductClassifier } from '../../models/types.js';
import { withRate, type StageRunOptions } from '../../progress.js';
import { checkOptions, EvaluateParams } from '../options.js';
import type { BaseDocument, Store } from '../../stores/types.js';
import { openCsv } from '../load/csv.js';
import { resolveLayout } from '../load/layout.js';
import { inputFromCsvRow } from '../predict/predictor.js';
import { SPLIT_COLLECTIONS } from '../prepare/stage.js';
import type { LabeledProduct, PrepareRun } from '../prepare/types.js';
import { currentSplits, dataView, readCommittedSplit } from '../views.js';
import { completePreprocessingSpec, Preprocessor } from '../preprocess/preprocessor.js';
import { classificationMetrics, type ClassificationMetrics } from './metrics.js';
import { renderEvaluationReport } from './report.js';
import { categoryNameMap } from '../../categories.js';
import { checkOutputFile, writeFileAtomic } from '../../util/output-file.js';
import { predictLabels } from './score.js';

/** Latency of single-product prediction, model inference only (inputs already preprocessed). */
export interface LatencyStats {
  /** Median, in milliseconds. */
  p50Ms: number;
  /** 95th percentile, in milliseconds. */
  p95Ms: number;
  /** Products timed. */
  samples: number;
}

/** An evaluation of a model version, stored in `model_evaluation`. */
export interface EvaluationRecord extends BaseDocument {
  /** Model version evaluated. */
  modelVersion: number;
  /** Its kind. */
  modelKind: string;
  /** What it was evaluated on: `labeled_test` or a data folder. */
  dataset: string;
  /** For `labeled_test`: the split generation (prepare run) it was read from. */
  splitGeneration?: string | null;
  /** When (ISO-8601). */
  createdAt: string;
  /** All metrics, images used where present. */
  metrics: ClassificationMetrics;
  /** Weighted F1 with every image ignored. */
  textOnlyWeightedF1: number;
  /** Scores on the products that have an image. */
  withImage: {
    /** Products with an image. */
    count: number;
    /** Weighted F1 using the image (`null` when there are none). */
    weightedF1: number | null;
    /** Weighted F1 on the same products, image ignored. */
    textOnlyWeightedF1: number | null;
  };
  /** Single-product latency, text only. */
  latencyTextOnly: LatencyStats;
  /** Single-product latency with an image (`null` when no product has one). */
  latencyWithImage: LatencyStats | null;
  /** Batch prediction throughput, products per second. */
  productsPerSecond: number;
  /** Path of the HTML report, when written. */
  report: string | null;
  /** Conditions that make the scores less trustworthy (e.g. a held-out split the model may have seen). */
  warnings?: string[];
}

/** The HTML report of an evaluation (what `Evaluator.run` writes, and `GET /models/{version}/report` answers). */
export function evaluationReportHtml(record: EvaluationRecord, version: Pick<ModelVersion, 'version' | 'kind' | 'backend'>): string {
  const f = (x: number | null) => (x === null ? 'n/a' : x.toFixed(4));
  return renderEvaluationReport(record.metrics, {
    title: `rakuten-pipeline evaluation of model v${version.version}`,
    modelVersion: `v${version.version}`,
    modelKind: version.kind,
    dataset: `${record.dataset}, ${record.metrics.count} products (${record.withImage.count} with image)`,
    createdAt: record.createdAt,
    // The page is in English: `code — English name` on the axes and in the table.
    classNames: categoryNameMap('en'),
    extras: {
      'weighted F1, text only': f(record.textOnlyWeightedF1),
      'weighted F1 on products with image': f(record.withImage.weightedF1),
      'same products, image ignored': f(record.withImage.textOnlyWeightedF1),
      'latency p50 / p95, text only (ms)': `${record.latencyTextOnly.p50Ms} / ${record.latencyTextOnly.p95Ms}`,
      'latency p50 / p95, with image (ms)': record.latencyWithImage ? `${record.latencyWithImage.p50Ms} / ${record.latencyWithImage.p95Ms}` : 'n/a',
      'batch throughput (products/s)': record.productsPerSecond,
      backend: version.backend,
    },
  });
}

/** Options of {@link Evaluator.run}: {@link EvaluateParams} (the schema shared with the API and the CLI) plus progress and the report. */
export interface EvaluateOptions extends EvaluateParams, StageRunOptions {
  /** Where to write the HTML report (default `reports/evaluation-v<N>.html`); `false` for none. */
  report?: string | false;
}

function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
}

async function latency(model: ProductClassifier, inputs: readonly ModelInput[], samples: number): Promise<LatencyStats> {
  const times: number[] = [];
  for (const input of inputs.slice(0, samples)) {
    const t = performance.now();
    await model.predict([input]);
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  const round = (x: number) => Math.round(x * 1000) / 1000;
  return { p50Ms: round(percentile(times, 0.5)), p95Ms: round(percentile(times, 0.95)), samples: times.length };
}

/**
 * Evaluator stage: scores a model version on `labeled_test` (or any labelled folder in the
 * challenge layout) — weighted and macro F1, accuracy, per-class scores, confusion matrix,
 * latency and throughput — stores the result in `model_evaluation` and writes an HTML report.
 *
 * @example
 * ```ts
 * import { BUILT_IN_MODELS, Evaluator, ModelRegistry, openStore } from 'rakuten-pipeline';
 *
 * const store = await openStore('.rakuten-store');
 * const evaluation = await new Evaluator(store, new ModelRegistry(store, BUILT_IN_MODELS)).run({ model: 'champion', report: 'reports/champion.html' });
 * console.log(evaluation.metrics.weightedF1, evaluation.metrics.perClass);
 * await store.close();
 * ```
 */
export class Evaluator {
  /** Creates an evaluator over a store and its registry. */
  constructor(
    private readonly store: Store,
    private readonly registry: ModelRegistry,
  ) {}

  /** Evaluates; resolves with the stored record. */
  async run(options: EvaluateOptions = {}): Promise<EvaluationRecord> {
    checkOptions('Evaluator.run', EvaluateParams, options);
    const version = await this.registry.require(options.model ?? 'champion');
    const model = await this.registry.load(version);
    const warnings: string[] = [];
    const samples = options.latencySamples ?? 200;
    const { inputs, labels, dataset, generation, pixelSample } = options.dataDir
      ? { ...(await this.folderInputs(options.dataDir, Preprocessor.fromSpec(version.preprocessing), options)), generation: null, pixelSample: undefined }
      : await this.storedInputs(version, model, warnings, samples, options);
    if (generation !== null && version.prepareRun !== generation) {
      warnings.push(
        `v${version.version} was trained on the splits of ${version.prepareRun ?? 'an unknown prepare'}; the current held-out split ` +
          `comes from ${generation} and may hold products it was trained on: its scores may be optimistic`,
      );
    }
    if (inputs.length === 0) throw new Error(`Nothing to evaluate in ${dataset}: run \`rakuten-pipeline prepare\` first`);
    const t0 = performance.now();
    const predicted = await predictLabels(model, inputs);
    const productsPerSecond = Math.round(inputs.length / ((performance.now() - t0) / 1000));
    const textOnly = await predictLabels(model, inputs.map(withoutImage));
    const metrics = classificationMetrics(labels, predicted, [...new Set([...version.classes, ...labels])].sort((a, b) => a - b));
    const imaged = inputs.flatMap((input, i) => (input.image ? [i] : []));
    const pick = (values: readonly number[]) => imaged.map((i) => values[i] as number);
    const record: EvaluationRecord = {
      _id: `eval-v${version.version}-${new Date().toISOString().replace(/[:.]/g, '-')}`,
      modelVersion: version.version,
      modelKind: version.kind,
      dataset,
      splitGeneration: generation,
      ...(warnings.length ? { warnings } : {}),
      createdAt: new Date().toISOString(),
      metrics,
      textOnlyWeightedF1: classificationMetrics(labels, textOnly).weightedF1,
      withImage: {
        count: imaged.length,
        weightedF1: imaged.length ? classificationMetrics(pick(labels), pick(predicted)).weightedF1 : null,
        textOnlyWeightedF1: imaged.length ? classificationMetrics(pick(labels), pick(textOnly)).weightedF1 : null,
      },
      latencyTextOnly: await latency(model, inputs.map(withoutImage), samples),
      // Online requests bring pixels: timed on pixels, not on stored vectors.
      latencyWithImage: imaged.length ? await latency(model, pixelSample ?? imaged.map((i) => inputs[i] as ModelInput), samples) : null,
      productsPerSecond,
      report: null,
    };
    if (options.report !== false) {
      const file = path.resolve(options.report ?? path.join('reports', `evaluation-v${version.version}.html`));
      await checkOutputFile(file, 'report', { createFolder: true });
      await mkdir(path.dirname(file), { recursive: true });
      await writeFileAtomic(file, evaluationReportHtml(record, version));
      record.report = file;
    }
    await this.store.documents.collection<EvaluationRecord>(COLLECTIONS.modelEvaluation).upsertMany([record]);
    return record;
  }

  /**
   * Inputs of the held-out split. Its stored tokens and images serve as they are when the split
   * was prepared with the model's own preprocessing; otherwise its products are preprocessed again
   * from their loaded rows with the model's.
   */
  private async storedInputs(
    version: ModelVersion,
    model: ProductClassifier,
    warnings: string[],
    samples: number,
    options: StageRunOptions,
  ): Promise<{ inputs: ModelInput[]; labels: number[]; dataset: string; generation: string; pixelSample?: ModelInput[] }> {
    const { pointer, splits } = await currentSplits(this.store);
    const docs = await readCommittedSplit(splits.test, pointer);
    const labels = docs.map((d) => d.prdtypecode);
    const base = { labels, dataset: SPLIT_COLLECTIONS.test, generation: pointer.generation };
    const run = await this.store.documents.collection<PrepareRun>(COLLECTIONS.pipelineMetadata).get(pointer.generation);
    const splitSpec = completePreprocessingSpec(
      run?.preprocessing ?? (run ? { image: { size: run.params.imageSize, tolerance: run.params.tolerance } } : undefined),
    );
    const modelSpec = completePreprocessingSpec(version.preprocessing);
    if (JSON.stringify(splitSpec) === JSON.stringify(modelSpec)) {
      const features: StoredFeatures = {
        store: this.store,
        extractor: model.imageFeatures,
        stage: 'evaluate',
        ...(options.onProgress ? { onProgress: withRate(options.onProgress) } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
      };
      const inputs = await inputsFromLabeled(docs, this.store.images, { features });
      const pixelSample = model.imageFeatures ? await inputsFromLabeled(docs.filter((d) => d.image).slice(0, samples), this.store.images) : undefined;
      return { ...base, inputs, ...(pixelSample ? { pixelSample: pixelSample.filter((i) => i.image) } : {}) };
    }
    const inputs = await this.reprepared(docs, pointer.dataGeneration, Preprocessor.fromSpec(modelSpec), JSON.stringify(splitSpec.image) === JSON.stringify(modelSpec.image));
    if (inputs) return { ...base, inputs };
    warnings.push(
      `${pointer.generation} was prepared with another preprocessing than v${version.version}'s and the rows it was made from are gone: ` +
        'scored on its stored preprocessed products (prepare again with the model\'s preprocessing for exact scores)',
    );
    return { ...base, inputs: await inputsFromLabeled(docs, this.store.images) };
  }

  /** Inputs of split products preprocessed again from their loaded rows; `null` when some row is gone. */
  private async reprepared(
    docs: readonly LabeledProduct[],
    dataGeneration: string | null,
    preprocessor: Preprocessor,
    sameImages: boolean,
  ): Promise<ModelInput[] | null> {
    if (dataGeneration === null) return null;
    const rows = dataView(this.store, dataGeneration).xTrain;
    const limit = pLimit(8);
    const inputs = await Promise.all(
      docs.map((doc) =>
        limit(async (): Promise<ModelInput | null> => {
          const row = await rows.get(doc._id);
          if (!row) return null;
          let image: ModelInput['image'] = null;
          // The stored image when the image options agree (the text alone differs), else from the original.
          const png = sameImages && doc.image ? await this.store.images.get(doc.image) : undefined;
          if (png) image = await decodePreparedPng(png);
          else if (row.image) {
            const bytes = await this.store.images.get(row.image);
            if (bytes) image = await preprocessor.prepareImagePixels(bytes).catch(() => null);
          }
          return inputFromPrepared({ text: preprocessor.text.prepare(row), image });
        }),
      ),
    );
    return inputs.every((input) => input !== null) ? (inputs as ModelInput[]) : null;
  }

  /** Inputs of a labelled challenge folder, preprocessed with the model's own preprocessing. */
  private async folderInputs(
    dir: string,
    preprocessor: Preprocessor,
    options: StageRunOptions,
  ): Promise<{ inputs: ModelInput[]; labels: number[]; dataset: string }> {
    const onProgress = withRate(options.onProgress);
    const layout = resolveLayout(dir);
    const labelByIndex = new Map<string, number>();
    const y = await openCsv(layout.yTrain, path.basename(layout.yTrain));
    for await (const r of y.records) if (r.fields[0] && r.fields[1]) labelByIndex.set(r.fields[0], Number(r.fields[1]));
    const x = await openCsv(layout.xTrain, path.basename(layout.xTrain));
    const inputs: ModelInput[] = [];
    const labels: number[] = [];
    for await (const r of x.records) {
      const label = labelByIndex.get(r.fields[0] ?? '');
      if (label === undefined) continue;
      inputs.push(await inputFromCsvRow(preprocessor, r.fields, layout.imageTrain));
      labels.push(label);
      if (inputs.length % 500 === 0) onProgress?.({ stage: 'evaluate', phase: 'preprocess', done: inputs.length, total: 0, unit: 'products' });
    }
    return { inputs, labels, dataset: layout.dir };
  }
}
