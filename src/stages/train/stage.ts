import { DEFAULTS } from '../../options.js';
import { COLLECTIONS } from '../../collections.js';
import { ModelRegistry, type ChampionDecision, type ModelVersion, type ValidationScores } from '../../models/registry.js';
import type { EpochReport, ModelFactory, ProductClassifier } from '../../models/types.js';
import { checkOptions, TrainParams } from '../options.js';
import { withRate, type StageRunOptions } from '../../progress.js';
import type { JsonValue, Store } from '../../stores/types.js';
import { currentSplits, readCommittedSplit } from '../views.js';
import { validationScores, weightedF1Scorer } from '../evaluate/score.js';
import { inputFromPrepared, inputsFromLabeled, type StoredFeatures } from '../model-inputs.js';
import { completePreprocessingSpec } from '../preprocess/preprocessor.js';
import type { LabeledProduct, PrepareRun } from '../prepare/types.js';
import { Preprocessor } from '../preprocess/preprocessor.js';
import { asModelImage } from '../image-features.js';
import { argmax } from '../../models/util.js';
import { buildDriftReference, DriftMonitor } from '../monitor/drift.js';
import { ReviewQueue, type Correction } from '../monitor/review.js';
import type { ImageFeatureExtractor, ModelInput } from '../../models/types.js';

/** When a new version becomes `champion`: `auto` (when it beats the champion on validation weighted F1 without any class regressing past the margin), `always`, `never` (promote later by hand). */
export type PromotionPolicy = NonNullable<TrainParams['promote']>;

/** Options of {@link Trainer.run}: {@link TrainParams} (the schema shared with the API and the CLI) plus progress, cancellation and model hyper-parameters. */
export interface TrainOptions extends TrainParams, StageRunOptions {
  /** Model-specific hyper-parameters (recorded with the version). */
  params?: Record<string, JsonValue>;
}

/** Result of a training run. */
export interface TrainResult {
  /** The registered version. */
  model: ModelVersion;
  /** What happened to the champion alias. */
  champion: ChampionDecision;
  /** The champion's scores on the same validation split, when there was one. */
  championScores: ValidationScores | null;
}

function counts(docs: readonly LabeledProduct[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const d of docs) out[d.prdtypecode] = (out[d.prdtypecode] ?? 0) + 1;
  return out;
}


/**
 * Training stage: trains a model on `labeled_train` with early stopping on `labeled_val`,
 * registers it as a new version in `model_metadata` (weights through the store), and moves the
 * `champion` alias according to the policy and the per-class guardrail.
 *
 * @example
 * ```ts
 * const trainer = new Trainer(store, [textImageModel, naiveBayesModel], () => initBackend());
 * const { model, champion } = await trainer.run({ kind: 'naive-bayes-v1', seed: 7 });
 * console.log(`v${model.version}: validation weighted F1 ${model.validation.weightedF1}`, champion.reason);
 * ```
 */
export class Trainer {
  private readonly registry: ModelRegistry;
  private readonly factories: readonly ModelFactory[];

  /**
   * Creates the stage. `models` are the kinds it can train (the first is the default; `run({ kind })`
   * picks another); `registry` defaults to one over `store` that loads those kinds.
   */
  constructor(
    private readonly store: Store,
    models: ModelFactory | readonly ModelFactory[],
    private readonly backend: () => Promise<string>,
    registry?: ModelRegistry,
  ) {
    this.factories = Array.isArray(models) ? models : [models as ModelFactory];
    if (this.factories.length === 0) throw new Error('Trainer: no model kind given');
    this.registry = registry ?? new ModelRegistry(store, this.factories);
  }

  /** The factory of `kind` (the first one when not given); an unknown kind names the known ones. */
  private factory(kind: string | undefined): ModelFactory {
    const factory = kind === undefined ? this.factories[0] : this.factories.find((f) => f.kind === kind);
    if (!factory) throw new Error(`kind: unknown model kind ${JSON.stringify(kind)}; known: ${this.factories.map((f) => f.kind).join(', ')}`);
    return factory;
  }

  /** Trains, registers and possibly promotes a model. */
  async run(options: TrainOptions = {}): Promise<TrainResult> {
    checkOptions('Trainer.run', TrainParams, options);
    const factory = this.factory(options.kind);
    const started = Date.now();
    // Only the committed splits: a prepare that failed or was killed mid-write is never trained on.
    const { pointer, splits } = await currentSplits(this.store);
    const train = await readCommittedSplit(splits.train, pointer);
    const val = await readCommittedSplit(splits.val, pointer);
    if (train.length === 0 || val.length === 0) {
      throw new Error(`The prepared splits in ${this.store.uri} have no training or no validation products: load more data and prepare again`);
    }
    const prepare = await this.store.documents.collection<PrepareRun>(COLLECTIONS.pipelineMetadata).get(pointer.generation);
    const backend = await this.backend();
    // Image vectors the model reads are computed once per picture and stored: a second training
    // (or the evaluation and batch prediction after it) reads them instead of the pixels.
    const onProgress = withRate(options.onProgress);
    const features = (phase: string): StoredFeatures => ({
      store: this.store,
      extractor: factory.imageFeatures?.(options.params),
      stage: 'train',
      phase,
      ...(onProgress ? { onProgress } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    // The splits' own preprocessing, saved whole so serving rebuilds it; a run recorded before
    // specs existed had the default text preprocessing and its image options in params.
    const preprocessing = completePreprocessingSpec(
      prepare?.preprocessing ?? (prepare ? { image: { size: prepare.params.imageSize, tolerance: prepare.params.tolerance } } : undefined),
    );
    const trainInputs = await inputsFromLabeled(train, this.store.images, { features: features('features_train') });
    const trainLabels = train.map((d) => d.prdtypecode);
    const corrections = options.includeCorrections ? await new ReviewQueue(this.store, this.registry).trainingCorrections() : [];
    if (corrections.length) {
      const extra = await this.correctionInputs(corrections, Preprocessor.fromSpec(preprocessing), factory.imageFeatures?.(options.params) ?? null);
      trainInputs.push(...extra);
      trainLabels.push(...corrections.map((c) => c.prdtypecode));
    }
    const valInputs = await inputsFromLabeled(val, this.store.images, { features: features('features_val') });
    const valLabels = val.map((d) => d.prdtypecode);
    const epochs = options.epochs ?? 0;
    // Epoch 0 starts the phase's clock, so the first epoch already gets a rate and an ETA.
    onProgress?.({ stage: 'train', phase: 'epochs', done: 0, total: epochs, unit: 'epochs' });
    const model = await factory.train(
      trainInputs,
      trainLabels,
      {
        seed: options.seed ?? DEFAULTS.seed,
        ...(options.epochs !== undefined ? { maxEpochs: options.epochs } : {}),
        ...(options.patience !== undefined ? { patience: options.patience } : {}),
        classWeighting: options.classWeighting ?? false,
        // The stage, not the model, owns the metric: models early-stop on weighted F1 through it.
        validation: { inputs: valInputs, labels: valLabels, score: weightedF1Scorer(valLabels) },
        ...(options.params ? { params: options.params } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
        onEpoch: (e: EpochReport) =>
          onProgress?.({ stage: 'train', phase: 'epochs', done: e.epoch, total: epochs, unit: 'epochs' }),
      },
    );
    try {
      // A model stops at the end of an epoch when cancelled; a cancelled run registers nothing.
      options.signal?.throwIfAborted();
      const scores = await validationScores(model, valInputs, valLabels);
      // What drift monitoring compares serving traffic with: computed now, while the inputs are in memory.
      const valPredicted = (await model.predict(valInputs)).map((p) => model.classes[argmax(p)] as number);
      const version = await this.registry.register(model, {
        backend,
        trainingSeconds: (Date.now() - started) / 1000,
        dataDistribution: { train: counts(train), val: counts(val) },
        validation: scores,
        preprocessing,
        prepareRun: pointer.generation,
        dataGeneration: pointer.dataGeneration,
        ...(options.includeCorrections
          ? {
              corrections: {
                count: corrections.length,
                changed: corrections.filter((c) => !c.accepted).length,
                through: corrections[0]?.at ?? null,
                ids: corrections.slice(0, 1_000).map((c) => c._id),
              },
            }
          : {}),
      });
      await new DriftMonitor(this.store, this.registry).saveReference(
        buildDriftReference({
          modelVersion: version.version,
          prepareRun: pointer.generation,
          trainInputs,
          valInputs,
          valLanguages: val.map((d) => d.language),
          valPredicted,
        }),
      );
      return { model: version, ...(await this.decide(version, val, valInputs, valLabels, options)) };
    } finally {
      model.dispose();
    }
  }

  /** Model inputs of review corrections, preprocessed as the splits were (a correction whose image is gone is taken text-only). */
  private async correctionInputs(corrections: readonly Correction[], preprocessor: Preprocessor, extractor: ImageFeatureExtractor | null): Promise<ModelInput[]> {
    const out: ModelInput[] = [];
    for (const c of corrections) {
      const bytes = c.input.image ? await this.store.images.get(c.input.image) : undefined;
      const pixels = bytes ? await preprocessor.prepareImagePixels(bytes).catch(() => null) : null;
      out.push(inputFromPrepared({ text: preprocessor.text.prepare(c.input), image: pixels && (await asModelImage(pixels, extractor)) }));
    }
    return out;
  }

  /** Validation scores of another model, on its own image inputs when it reads other vectors or pixels. */
  private async scoreOn(
    model: ProductClassifier,
    val: readonly LabeledProduct[],
    valInputs: Parameters<typeof validationScores>[1],
    valLabels: readonly number[],
  ): Promise<ValidationScores> {
    const extractor = model.imageFeatures ?? null;
    const same = extractor !== null && valInputs.every((input) => !input.image || input.image.features?.[extractor.id] !== undefined);
    const inputs = same ? valInputs : await inputsFromLabeled(val, this.store.images, { features: { store: this.store, extractor } });
    // Not disposed: the registry caches loaded models for every caller.
    return validationScores(model, inputs, valLabels);
  }

  private async decide(
    version: ModelVersion,
    val: readonly LabeledProduct[],
    valInputs: Parameters<typeof validationScores>[1],
    valLabels: readonly number[],
    options: TrainOptions,
  ): Promise<{ champion: ChampionDecision; championScores: ValidationScores | null }> {
    const previous = await this.registry.championVersion();
    const policy = options.promote ?? 'auto';
    if (policy !== 'auto') {
      if (policy === 'always') await this.registry.promote(version.version, 'promoted on request');
      const reason = policy === 'always' ? 'promoted on request' : 'promotion disabled (--promote never)';
      return { champion: { promoted: policy === 'always', previous, reason, regressions: [] }, championScores: null };
    }
    // Another training may promote meanwhile: decide against the champion as it is now, again.
    for (let attempt = 1; ; attempt++) {
      const champion = attempt === 1 ? previous : await this.registry.championVersion();
      let championScores: ValidationScores | null = null;
      if (champion !== null) {
        const current = await this.registry.require(champion);
        // Same split: its recorded held-out scores. Another split: score it on this one (it may have
        // seen some of these products, which favours the champion: a conservative comparison).
        championScores =
          current.prepareRun !== null && current.prepareRun === version.prepareRun
            ? current.validation
            : await this.scoreOn(await this.registry.load(current), val, valInputs, valLabels);
      }
      const decision = await this.registry.considerForChampion(version, championScores, options.guardrailMargin ?? DEFAULTS.guardrailMargin, champion);
      if (!decision.conflict || attempt >= 5) return { champion: decision, championScores };
    }
  }
}

/** @deprecated Renamed {@link Trainer}. */
export const TrainStage = Trainer;
/** @deprecated Renamed {@link Trainer}. */
export type TrainStage = Trainer;
