/**
 * Model interface: what the training stage, the evaluator and the predictor need from a
 * classifier, so other models can be plugged in beside the built-in text-image model.
 *
 * @module
 */
import type { JsonValue } from '../stores/types.js';

/** A preprocessed image as the model reads it. */
export interface ModelImage {
  /** Raw RGB pixels, `size * size * 3` bytes. */
  readonly pixels: Uint8Array;
  /** Side in pixels. */
  readonly size: number;
  /**
   * Feature vectors of this picture computed earlier, by {@link ImageFeatureExtractor.id}. The
   * stages fill it for the extractor a model declares ({@link ModelFactory.imageFeatures},
   * {@link ProductClassifier.imageFeatures}) from vectors stored once per picture; `pixels` is then
   * empty (length 0), so only models that declared that extractor ever receive such an image.
   */
  readonly features?: Readonly<Record<string, Float32Array>>;
}

/**
 * A fixed function from a picture to a feature vector (a pretrained backbone, say) that a model
 * reads instead of the pixels. Its vectors belong to the picture and the extractor, not to a
 * training: the stages compute each one once, store it keyed by the picture's content hash and
 * {@link ImageFeatureExtractor.id}, and hand it to every later training, evaluation and batch
 * prediction in {@link ModelImage.features}.
 */
export interface ImageFeatureExtractor {
  /**
   * Names the function and its weights (e.g. `mobilenet_v2-b10/128@<weights hash>`): change it
   * whenever the vectors would change, or stored vectors of the old function are reused.
   */
  readonly id: string;
  /** Length of every vector. */
  readonly featureSize: number;
  /** Vectors of full-pixel pictures, in order (batches as large as the caller passes). */
  compute(images: readonly ModelImage[]): Promise<Float32Array[]>;
}

/** Labelled inputs. */
export interface LabelledInputs {
  /** The products. */
  inputs: readonly ModelInput[];
  /** Their class codes, aligned with `inputs`. */
  labels: readonly number[];
}

/** Probabilities a model gave its validation inputs before being refitted on them. */
export interface HeldOutProbabilities {
  /** With images where present. */
  readonly withImage: Float32Array[];
  /** With every image ignored. */
  readonly textOnly: Float32Array[];
}

/** A product as a model sees it: the preprocessor's output. */
export interface ModelInput {
  /** Cleaned designation (title). */
  designation: string;
  /** Cleaned description (`''` when absent). */
  description: string;
  /** Stemmed designation tokens. */
  designationTokens: readonly string[];
  /** Stemmed description tokens. */
  descriptionTokens: readonly string[];
  /** Preprocessed image as raw RGB pixels (`size * size * 3` bytes), `null` when the product has none. */
  image: ModelImage | null;
}

/** Progress of one training epoch. */
export interface EpochReport {
  /** 1-based epoch number. */
  epoch: number;
  /** Mean training loss. */
  loss: number;
  /**
   * Validation score of the epoch, from {@link ValidationSet.score} (weighted F1, text and image
   * as available, in the pipeline's trainer); 0 without validation.
   */
  valWeightedF1: number;
  /** Wall time of the epoch in seconds. */
  seconds: number;
}

/**
 * Scores a model's class probabilities on the validation inputs; higher is better. The trainer
 * supplies it (the pipeline's is weighted F1 over the validation labels, `weightedF1Scorer`), so
 * models choose their best epoch by the pipeline's metric without depending on the metrics code.
 *
 * @param probabilities - One row per validation input, aligned with `classes` (any order-preserving
 *   transform of probabilities scores the same with an argmax-based metric such as weighted F1).
 * @param classes - The model's class codes, in the order of the rows' entries.
 */
export type ValidationScorer = (probabilities: readonly ArrayLike<number>[], classes: readonly number[]) => number;

/** The validation set of a training run and how to score predictions on it. */
export interface ValidationSet extends LabelledInputs {
  /**
   * Scores the model's probabilities on `inputs` (early stopping, {@link EpochReport.valWeightedF1}).
   * Required when `inputs` is not empty: models throw a `TypeError` without it.
   */
  score?: ValidationScorer;
}

/** Options of {@link ModelFactory.train}. */
export interface TrainModelOptions {
  /** Seed of every random choice (initialisation, shuffling, dropout). */
  seed: number;
  /** Most epochs (early stopping may end sooner). */
  maxEpochs?: number;
  /** Epochs without validation improvement before stopping (default 2). */
  patience?: number;
  /** Weight classes inversely to their frequency. */
  classWeighting?: boolean;
  /** Validation set for early stopping, with the trainer's scorer. */
  validation: ValidationSet;
  /** Model-specific hyper-parameters (recorded with the model version). */
  params?: Readonly<Record<string, JsonValue>>;
  /** Called after every epoch. */
  onEpoch?: (report: EpochReport) => void;
  /** Stops training between epochs (the best model so far is kept). */
  signal?: AbortSignal;
}

/** A model serialised to bytes: a JSON manifest plus named binary files. */
export interface ModelArtifact {
  /** Model kind, e.g. `text-image-v1`; selects the factory that loads it. */
  kind: string;
  /** Everything needed to rebuild the model besides the weights. */
  manifest: JsonValue;
  /** Weight files by name. */
  files: Record<string, Uint8Array>;
}

/** A trained classifier over a fixed list of class codes. */
export interface ProductClassifier {
  /** Model kind, e.g. `text-image-v1`. */
  readonly kind: string;
  /** Class codes, in the order of the probability vectors. */
  readonly classes: readonly number[];
  /** Hyper-parameters used. */
  readonly params: Readonly<Record<string, JsonValue>>;
  /** Epoch reports of its training. */
  readonly history: readonly EpochReport[];
  /**
   * Probabilities it gave the validation inputs before it was refitted on them, images used and
   * images ignored; set only by models that train on their validation set at the end, so that
   * validation scores stay held-out.
   */
  readonly heldOutValidation?: HeldOutProbabilities;
  /** Class probabilities of each input, aligned with {@link ProductClassifier.classes}. */
  predict(inputs: readonly ModelInput[]): Promise<Float32Array[]>;
  /** Serialises the model (bit-exact: a loaded copy predicts identically). */
  save(): Promise<ModelArtifact>;
  /** Releases tensors or other resources. */
  dispose(): void;
  /**
   * The image feature extractor this model reads, when it reads one (optional): evaluation and
   * batch prediction then pass stored vectors ({@link ModelImage.features}) instead of pixels.
   */
  readonly imageFeatures?: ImageFeatureExtractor | null;
}

/** Trains and loads one kind of model. */
export interface ModelFactory {
  /**
   * Version of this specification the factory implements (`MODEL_FACTORY_SPEC_VERSION`).
   * `ModelRegistry` refuses a factory that declares none or one this package does not support.
   * The version changes only when this interface, {@link ProductClassifier}, the training options
   * a factory must honour or the behaviour the contract suite requires change incompatibly: a
   * bump means factories must be updated and re-run against the new suite, and a package that
   * supports several versions adapts older factories. Additions factories may ignore (a new
   * optional training option) keep the version. Saved artifacts carry their own `kind`, not this.
   */
  readonly specificationVersion: 'v1';
  /** The kind it builds. */
  readonly kind: string;
  /** Trains a new model. */
  train(inputs: readonly ModelInput[], labels: readonly number[], options: TrainModelOptions): Promise<ProductClassifier>;
  /** Rebuilds a saved model. */
  load(artifact: ModelArtifact): Promise<ProductClassifier>;
  /**
   * The image feature extractor a model trained with these params reads, when it reads one
   * (optional): the trainer then passes images as stored vectors ({@link ModelImage.features},
   * empty pixels) instead of decoded pixels.
   */
  imageFeatures?(params: Readonly<Record<string, JsonValue>> | undefined): ImageFeatureExtractor | null;
}
