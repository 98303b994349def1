/**
 * The whole pipeline through the library API, on any store: load → prepare → train → evaluate →
 * predict. Shared by examples/pipeline-embedded.ts and examples/pipeline-mongodb.ts (run one of
 * those); this module only exports functions.
 */
import { COLLECTIONS, createPipeline, dataCollections, type DocumentCollection, type ProductRow, type StoredPrediction } from 'rakuten-pipeline';
import { progressLine } from './common.js';

/** Options of {@link runPipeline}. */
export interface PipelineOptions {
  /** Store URI: a folder path (embedded) or `mongodb://host:port/db`. */
  storeUri: string;
  /** Data folder in the challenge layout. */
  dataDir: string;
  /** Seed of the split and the model (default 42). */
  seed?: number;
  /** Where the HTML evaluation report goes (default: none). */
  report?: string;
  /** How many stored predictions to print (default 5). */
  show?: number;
}

/** Key figures of a run. */
export interface PipelineSummary {
  modelVersion: number;
  validationWeightedF1: number;
  testWeightedF1: number;
  testTextOnlyWeightedF1: number;
  predicted: number;
  seconds: Record<string, number>;
}

const cut = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s.padEnd(n));

/** Runs load → prepare → train → evaluate → predict on one store, printing as it goes. */
export async function runPipeline(options: PipelineOptions): Promise<PipelineSummary> {
  const seed = options.seed ?? 42;
  const onProgress = progressLine();
  const seconds: Record<string, number> = {};
  const step = async <T>(name: string, work: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    try {
      return await work();
    } finally {
      onProgress.done();
      seconds[name] = Math.round(performance.now() - t0) / 1000;
    }
  };

  // One object wires the stages: store, model kinds (the built-in text-image model first), preprocessing.
  const pipeline = await createPipeline({ store: options.storeUri });
  const { store } = pipeline;
  console.log(`store ${store.uri} (${store.driver}), data ${options.dataDir}`);
  try {
    const load = await step('load', () => pipeline.load({ dataDir: options.dataDir, onProgress }));
    console.log(`load     ${load.status}: ${load.labelledTrainRows} labelled rows, ${load.rows.test.stored} test rows, ${load.quarantineTotal} quarantined (${seconds.load} s)`);

    const prepare = await step('prepare', () => pipeline.prepare({ seed, onProgress }));
    const { train, val, test } = prepare.splits;
    console.log(`prepare  train ${train.total} / val ${val.total} / test ${test.total} products (${seconds.prepare} s)`);

    const trained = await step('train', () => pipeline.train({ seed, onProgress }));
    const { model } = trained;
    console.log(
      `train    v${model.version} (${model.kind}, ${model.backend}), ${model.history.length} epochs, validation weighted F1 ${model.validation.weightedF1.toFixed(4)}; ` +
        `${trained.champion.promoted ? 'now champion' : `not promoted: ${trained.champion.reason}`} (${seconds.train} s)`,
    );

    const evaluation = await step('evaluate', () => pipeline.evaluate({ model: model.version, report: options.report ?? false, onProgress }));
    const m = evaluation.metrics;
    console.log(
      `evaluate test weighted F1 ${m.weightedF1.toFixed(4)} (text only ${evaluation.textOnlyWeightedF1.toFixed(4)}), macro F1 ${m.macroF1.toFixed(4)}, ` +
        `accuracy ${m.accuracy.toFixed(4)} on ${m.count} products (${seconds.evaluate} s)${evaluation.report ? `; report ${evaluation.report}` : ''}`,
    );

    const batch = await step('predict', () => pipeline.predict({ model: model.version, onProgress }));
    console.log(`predict  ${batch.count} test products (${batch.withImage} with image) -> ${batch.output}, ${batch.productsPerSecond.toFixed(0)}/s (${seconds.predict} s)`);

    // A few of the stored predictions, next to the products they are for.
    const rows: DocumentCollection<ProductRow> = (await dataCollections(store)).xTest; // the committed load's rows
    const predictions = store.documents.collection<StoredPrediction>(COLLECTIONS.predictions);
    for await (const p of predictions.find({ modelVersion: model.version }, { sort: { field: 'index' }, limit: options.show ?? 5 })) {
      let row: ProductRow | undefined;
      for await (const r of rows.find({ productid: p.productid }, { limit: 1 })) row = r;
      const best = p.top[0]?.probability ?? 0;
      console.log(`  ${cut(row?.designation ?? `#${p.index}`, 60)} -> ${p.prdtypecode} (p=${best.toFixed(2)}${p.usedImage ? ', image' : ''})`);
    }

    // One product online, as a web service would classify it.
    const online = await pipeline.predictProduct(
      { designation: 'Figurine Pop Vinyl Star Wars Dark Vador 10 cm', description: 'Figurine de collection en vinyle, boîte d\'origine.' },
      { model: model.version, topK: 3 },
    );
    console.log(`  online: "Figurine Pop Vinyl Star Wars Dark Vador" -> ${online.top.map((t) => `${t.prdtypecode} (${t.probability.toFixed(2)})`).join(', ')}`);

    console.log(`\nmodel v${model.version}: test weighted F1 ${m.weightedF1.toFixed(4)}; seconds per stage ${JSON.stringify(seconds)}`);
    return {
      modelVersion: model.version,
      validationWeightedF1: model.validation.weightedF1,
      testWeightedF1: m.weightedF1,
      testTextOnlyWeightedF1: evaluation.textOnlyWeightedF1,
      predicted: batch.count,
      seconds,
    };
  } finally {
    await pipeline.close();
  }
}
