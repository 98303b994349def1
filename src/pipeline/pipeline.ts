/**
 * The composition root: the one place where the stages are wired to a store, the model kinds,
 * the preprocessing and the plugins. The CLI, the HTTP API, its job workers, the examples and the
 * benchmarks all go through {@link createPipeline}.
 *
 * @module
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { BUILT_IN_MODELS } from '../models/builtin.js';
import { ModelRegistry } from '../models/registry.js';
import type { ModelFactory } from '../models/types.js';
import type { StageRunOptions } from '../progress.js';
import { Evaluator, type EvaluateOptions, type EvaluationRecord } from '../stages/evaluate/stage.js';
import { DataLoader, type LoadOptions } from '../stages/load/loader.js';
import type { LoadRun } from '../stages/load/types.js';
import type { PredictParams } from '../stages/options.js';
import { Predictor, type BatchPredictionSummary, type PredictProductOptions, type ProductPrediction } from '../stages/predict/predictor.js';

export type { PredictProductOptions };
import { ReviewQueue } from '../stages/monitor/review.js';
import { DriftMonitor } from '../stages/monitor/drift.js';
import { PrepareStage, type PrepareOptions } from '../stages/prepare/stage.js';
import type { PrepareRun } from '../stages/prepare/types.js';
import type { PreprocessingSpec } from '../models/preprocessing-spec.js';
import { Preprocessor, type PreprocessorOptions, type ProductInput } from '../stages/preprocess/preprocessor.js';
import { registerTextStep } from '../stages/preprocess/text.js';
import { getDataStatus, type DataStatus } from '../stages/status.js';
import { Trainer, type TrainOptions, type TrainResult } from '../stages/train/stage.js';
import { findStoreDriver, resolveStoreUri } from '../stores/registry.js';
import type { Store } from '../stores/types.js';
import { checkSpecificationVersion, MODEL_FACTORY_SPEC_VERSION, STORE_DRIVER_SPEC_VERSION } from '../specification.js';
import { resolvePlugins, type PipelinePlugin } from './plugins.js';

/** Options of {@link createPipeline}. */
export interface PipelineOptions {
  /**
   * The store: a URI that the pipeline opens and closes (a folder path for the embedded store,
   * `mongodb://user:password@host/db`, a plugin driver's scheme; default `$RAKUTEN_STORE` or
   * `.rakuten-store`), or a store you opened (the pipeline does not close it; job workers then
   * reopen it from its `uri`, which must not be redacted).
   */
  store?: string | Store;
  /** Create the store when there is none at the URI (default true). */
  create?: boolean;
  /**
   * Plugins: objects, or module specifiers (`./my-plugin.js`, a package name) whose default export
   * is a plugin. Specifiers (or plugins that set `module`) also reach the HTTP API's job workers.
   */
  plugins?: readonly (PipelinePlugin | string)[];
  /**
   * Model kinds that can be trained, the first being the default (default: the built-in
   * text-image model, then naive Bayes). Plugin models are added after them; the built-in kinds
   * can always be loaded, so older versions stay usable.
   */
  models?: readonly ModelFactory[];
  /**
   * Preprocessing of `prepare`: options (text steps by name or registered function, token options,
   * image size and tolerance) or a recorded spec. It is saved with each model version, and every
   * consumer of a model rebuilds it from there.
   */
  preprocessing?: PreprocessorOptions | PreprocessingSpec;
  /** Initialises TensorFlow.js and returns the backend name (default: tfjs-node when installed, else wasm, else cpu). */
  backend?: () => Promise<string>;
}

/**
 * What a job worker thread (or another process) needs to rebuild the same pipeline: plain data.
 * It holds the store's real connection string, credentials included: pass it in memory only
 * (worker data), never store or log it.
 */
export interface PipelineBlueprint {
  /** Connection string of the store, credentials included. */
  storeUri: string;
  /** Plugin module URLs, in order. */
  plugins: string[];
  /** Kinds trainable, the first being the default, or `null` for the default list. */
  modelKinds: string[] | null;
  /** The preprocessing spec (JSON). */
  preprocessing: PreprocessingSpec;
}

/** Options of {@link Pipeline.predictCsv}. */
export interface PredictCsvOptions extends PredictParams, StageRunOptions {
  /** CSV in the X layout (`,designation,description,productid,imageid`). */
  input: string;
  /** Submission file to write (`,prdtypecode`). */
  output: string;
  /** Folder of the rows' images (`image_<imageid>_product_<productid>.jpg`). */
  imagesDir?: string;
}

/** tfjs-node when installed, else wasm, else cpu; TensorFlow.js is imported only when a model needs it. */
const defaultBackend = async (): Promise<string> => (await import('../models/backend.js')).initBackend();

/** A recorded spec (it has a format version) rather than options. */
const isSpec = (p: PreprocessorOptions | PreprocessingSpec): p is PreprocessingSpec => 'version' in p && typeof p.version === 'number';

const byKind = (factories: readonly ModelFactory[]) => {
  const seen = new Map<string, ModelFactory>();
  for (const f of factories) if (!seen.has(f.kind)) seen.set(f.kind, f);
  return [...seen.values()];
};

/**
 * A pipeline over one store: load → prepare (preprocess + split) → train → evaluate → predict,
 * with typed options (the stages' schemas) and the same progress and cancellation options on
 * every step. Create it with {@link createPipeline}.
 *
 * @example
 * ```ts
 * import { createPipeline } from 'rakuten-pipeline';
 *
 * const pipeline = await createPipeline({ store: '.rakuten-store' });
 * try {
 *   await pipeline.load({ dataDir: 'data/rakuten' });
 *   await pipeline.prepare({ seed: 42 });
 *   const { model, champion } = await pipeline.train({ epochs: 8 });
 *   const evaluation = await pipeline.evaluate({ model: model.version, report: false });
 *   console.log(`v${model.version}: test weighted F1 ${evaluation.metrics.weightedF1}`, champion.reason);
 *   console.log(await pipeline.predictProduct({ designation: 'Chargeur USB-C 20W' }));
 * } finally {
 *   await pipeline.close();
 * }
 * ```
 */
export class Pipeline {
  /** The model registry of the store (versions, champion). */
  readonly registry: ModelRegistry;
  /** The predictor (models cached per version). */
  readonly predictor: Predictor;
  /** The preprocessing `prepare` uses. */
  readonly preprocessor: Preprocessor;
  /** The review queue: least certain predictions, image/text disagreements, corrections. */
  readonly review: ReviewQueue;
  /** Drift reports of the champion's recent predictions against its training data. */
  readonly drift: DriftMonitor;

  /** @internal Use {@link createPipeline}. */
  constructor(
    /** The store. */
    readonly store: Store,
    /** Model kinds that can be trained, the first being the default. */
    readonly models: readonly ModelFactory[],
    /** The plugins in use. */
    readonly plugins: readonly PipelinePlugin[],
    private readonly blueprintOf: PipelineBlueprint | Error,
    private readonly backend: () => Promise<string>,
    preprocessor: Preprocessor,
    private readonly ownsStore: boolean,
  ) {
    this.registry = new ModelRegistry(store, byKind([...models, ...BUILT_IN_MODELS]));
    this.predictor = new Predictor(store, this.registry);
    this.review = new ReviewQueue(store, this.registry);
    this.drift = new DriftMonitor(store, this.registry);
    this.preprocessor = preprocessor;
  }

  /** Loads a data folder in the challenge layout as the store's new data generation. */
  load(options: LoadOptions): Promise<LoadRun> {
    return new DataLoader(this.store).load(options);
  }

  /** Preprocesses the loaded products and splits them (stratified, leakage-free) as the new splits. */
  prepare(options: PrepareOptions = {}): Promise<PrepareRun> {
    return new PrepareStage(this.store, this.preprocessor).run(options);
  }

  /** Trains a model of `options.kind` (default: the first kind) and registers it as a new version. */
  train(options: TrainOptions = {}): Promise<TrainResult> {
    return new Trainer(this.store, this.models, this.backend, this.registry).run(options);
  }

  /** Scores a model version (default `champion`) on the held-out split or a labelled folder. */
  evaluate(options: EvaluateOptions = {}): Promise<EvaluationRecord> {
    return new Evaluator(this.store, this.registry).run(options);
  }

  /** Predicts every stored test row (or the slice `rows` of them, in index order) into `predictions`. */
  predict(options: PredictParams & StageRunOptions & { rows?: { skip: number; limit: number } } = {}): Promise<BatchPredictionSummary> {
    return this.predictor.predictStoredTest(options);
  }

  /** Predicts one product (designation, optional description and image bytes) with the model's own preprocessing. */
  predictProduct(product: ProductInput, options: PredictProductOptions = {}): Promise<ProductPrediction> {
    return this.predictor.predictProduct(product, options);
  }

  /** Predicts a CSV in the X layout into a submission file (replaced only when every row was predicted). */
  predictCsv(options: PredictCsvOptions): Promise<BatchPredictionSummary> {
    return this.predictor.predictCsv(options);
  }

  /** What the store holds (committed data, last load). */
  status(): Promise<DataStatus> {
    return getDataStatus(this.store);
  }

  /**
   * The plain-data description a job worker rebuilds this pipeline from (see
   * {@link PipelineBlueprint}); throws, saying why, when this pipeline cannot be rebuilt elsewhere
   * (a plugin object without `module`, a model factory given as an object, a store without its URI, an in-memory store).
   */
  blueprint(): PipelineBlueprint {
    if (this.blueprintOf instanceof Error) throw this.blueprintOf;
    return this.blueprintOf;
  }

  /** Closes the store if the pipeline opened it. Calling it twice is harmless. */
  async close(): Promise<void> {
    if (this.ownsStore) await this.store.close();
  }
}

/** A plugin module given as a path, as a file URL: workers and other processes may run in another folder. */
const moduleUrl = (module: string): string => (module.startsWith('.') || path.isAbsolute(module) ? pathToFileURL(path.resolve(module)).href : module);

/** Why a pipeline cannot be rebuilt from plain data, or its blueprint. */
function blueprint(preprocessor: Preprocessor, store: Store, storeUri: string, plugins: readonly PipelinePlugin[], models: readonly ModelFactory[] | undefined): PipelineBlueprint | Error {
  const moduleless = plugins.filter((p) => !p.module).map((p) => p.name);
  if (moduleless.length) {
    return new Error(`plugin ${moduleless.join(', ')} has no module: job workers cannot load it (set module: import.meta.url in the plugin, pass its module specifier, or run jobs inline)`);
  }
  const builtIn = new Set(BUILT_IN_MODELS.map((m) => m.kind));
  const fromPlugins = new Set(plugins.flatMap((p) => p.models ?? []));
  const foreign = (models ?? []).filter((m) => !fromPlugins.has(m) && !builtIn.has(m.kind));
  if (foreign.length) {
    return new Error(`model kind ${foreign.map((m) => m.kind).join(', ')} is not from a plugin: job workers cannot load it (ship it in a plugin module, or run jobs inline)`);
  }
  let preprocessing: PreprocessingSpec;
  try {
    preprocessing = preprocessor.spec;
  } catch (e) {
    return new Error(`job workers cannot rebuild the preprocessing: ${(e as Error).message} (register it in a plugin's textSteps)`);
  }
  if (store.driver === 'memory') {
    return new Error(`the store ${storeUri} is in this thread's memory: job workers cannot reach it (a worker thread has memory stores of its own); run jobs inline`);
  }
  if (storeUri.includes('***')) {
    return new Error(`the store's URI is redacted (${storeUri}): job workers cannot reopen it; create the pipeline from the connection string`);
  }
  return {
    storeUri,
    plugins: plugins.map((p) => moduleUrl(p.module as string)),
    modelKinds: models ? models.map((m) => m.kind) : null,
    preprocessing,
  };
}

/**
 * Throws when a plugin's model kind is already taken (by a built-in, `options.models` or another
 * plugin): the first factory of a kind wins, so the plugin's would silently never be used. The
 * same plugin module named twice is one plugin.
 */
function checkPluginKinds(plugins: readonly PipelinePlugin[], given: readonly ModelFactory[]): void {
  const owners = new Map<string, { factory: ModelFactory; owner: string; by: string }>();
  for (const f of BUILT_IN_MODELS) owners.set(f.kind, { factory: f, owner: 'a built-in model kind', by: '' });
  for (const f of given) if (!owners.has(f.kind)) owners.set(f.kind, { factory: f, owner: 'a model kind of options.models', by: '' });
  for (const p of plugins) {
    const by = p.module ?? p.name;
    for (const f of p.models ?? []) {
      const taken = owners.get(f.kind);
      if (!taken) owners.set(f.kind, { factory: f, owner: `a model kind of plugin ${p.name}`, by });
      else if (taken.factory !== f && taken.by !== by) {
        throw new TypeError(`model kind ${JSON.stringify(f.kind)} of plugin ${p.name} is already ${taken.owner}: give it a kind of its own`);
      }
    }
  }
}

/**
 * Builds a {@link Pipeline}: loads the plugins, opens the store (with the plugins' drivers first)
 * and wires every stage once.
 *
 * @example
 * ```ts
 * const pipeline = await createPipeline({
 *   store: process.env.MONGODB_URI, // mongodb://user:password@host/db
 *   plugins: ['./my-plugin.js'],      // custom store drivers or model kinds
 *   preprocessing: { text: { stem: false }, image: { size: 96 } },
 * });
 * ```
 */
export async function createPipeline(options: PipelineOptions = {}): Promise<Pipeline> {
  const plugins = await resolvePlugins(options.plugins ?? []);
  const pluginModels = plugins.flatMap((p) => p.models ?? []);
  const models = byKind([...(options.models ?? BUILT_IN_MODELS), ...pluginModels]);
  const drivers = plugins.flatMap((p) => p.storeDrivers ?? []);
  // Named text steps first: the preprocessing may refer to them by name.
  for (const p of plugins) for (const [name, step] of Object.entries(p.textSteps ?? {})) registerTextStep(name, step);
  const preprocessing = options.preprocessing ?? {};
  const preprocessor = isSpec(preprocessing) ? Preprocessor.fromSpec(preprocessing) : new Preprocessor(preprocessing);
  // Every plugin checked before the store is opened: a refusal must not leave it open.
  for (const p of plugins) {
    for (const d of p.storeDrivers ?? []) checkSpecificationVersion('StoreDriver', `store driver ${JSON.stringify(d.name)} of plugin ${p.name}`, d.specificationVersion, STORE_DRIVER_SPEC_VERSION);
    for (const m of p.models ?? []) checkSpecificationVersion('ModelFactory', `model factory ${JSON.stringify(m.kind)} of plugin ${p.name}`, m.specificationVersion, MODEL_FACTORY_SPEC_VERSION);
  }
  for (const m of models) checkSpecificationVersion('ModelFactory', `model factory ${JSON.stringify(m.kind)}`, m.specificationVersion, MODEL_FACTORY_SPEC_VERSION);
  checkPluginKinds(plugins, options.models ?? []);
  let store: Store;
  let uri: string;
  const owns = typeof options.store !== 'object';
  if (typeof options.store === 'object') {
    store = options.store;
    uri = store.uri;
  } else {
    uri = resolveStoreUri(options.store);
    const driver = findStoreDriver(uri, drivers);
    store = await driver.open(uri, { create: options.create ?? true });
    // The folder's absolute path: a worker or another process in another folder reopens this store.
    if (driver.name === 'embedded') uri = store.uri;
  }
  // Workers rebuild from specifiers: the models list is recorded as kinds only when one was given.
  const plan = blueprint(preprocessor, store, uri, plugins, options.models ? models : undefined);
  return new Pipeline(store, models, plugins, plan, options.backend ?? defaultBackend, preprocessor, owns);
}

/** Rebuilds a pipeline from its {@link PipelineBlueprint} (in a job worker or another process). */
export async function pipelineFromBlueprint(plan: PipelineBlueprint): Promise<Pipeline> {
  const plugins = await resolvePlugins(plan.plugins);
  let models: ModelFactory[] | undefined;
  if (plan.modelKinds) {
    const all = byKind([...BUILT_IN_MODELS, ...plugins.flatMap((p) => p.models ?? [])]);
    models = plan.modelKinds.map((kind) => {
      const f = all.find((m) => m.kind === kind);
      if (!f) throw new Error(`model kind ${kind} is in no plugin of this pipeline`);
      return f;
    });
  }
  return createPipeline({
    store: plan.storeUri,
    create: false,
    plugins,
    ...(models ? { models } : {}),
    preprocessing: plan.preprocessing,
  });
}
