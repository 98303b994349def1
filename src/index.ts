/**
 * rakuten-pipeline: the machine-learning life cycle for Rakuten France product classification,
 * as composable typed stages over pluggable storage.
 *
 * This is the core entry: the pipeline ({@link createPipeline}), its stages, their option schemas
 * and the store and model interfaces. It loads no heavy dependency: the built-in store drivers and
 * the text-image model import `mongodb`, `better-sqlite3` and TensorFlow.js when first used, and
 * the concerns with heavy dependencies have entries of their own:
 *
 * - `rakuten-pipeline/http`: the Fastify plugin and server, jobs.
 * - `rakuten-pipeline/stores/mongodb`, `rakuten-pipeline/stores/embedded`: the store classes.
 * - `rakuten-pipeline/models/text-image`: the text-image model and the TensorFlow.js backend.
 * - `rakuten-pipeline/demo`: the demo catalogue generator.
 * - `rakuten-pipeline/testing`: contract suites for plugin authors (vitest).
 *
 * @module rakuten-pipeline
 */
export type {
  BaseDocument,
  DocumentCollection,
  DocumentStore,
  FieldCondition,
  Filter,
  FindOptions,
  ImageFilter,
  ImageInfo,
  ImageMetadata,
  ImageStore,
  JsonValue,
  PutImageOptions,
  PutOutcome,
  Scalar,
  ScalarKeys,
  Store,
  StoreDriver,
  WriteResult,
  OpenStoreOptions,
} from './stores/types.js';
export { DEFAULT_STORE_DIR, openStore, registerStoreDriver, resolveStoreUri } from './stores/registry.js';
export { MODEL_FACTORY_SPEC_VERSION, STORE_DRIVER_SPEC_VERSION } from './specification.js';
export { IntegrityError, StoreNotFoundError } from './stores/errors.js';
export {
  GenerationConflictError,
  GenerationWriter,
  generationCollection,
  HEARTBEAT_MS,
  isInterrupted,
  pipelineState,
  STALE_RUN_MS,
  type GenerationPointer,
  type GenerationSlot,
  type LiveRun,
  type PipelineState,
  type RunOwner,
} from './stores/generations.js';
export {
  currentData,
  currentSplits,
  dataCollections,
  splitCollections,
  type CurrentData,
  type CurrentSplits,
  type DataView,
} from './stages/views.js';
export { dropMemoryStore, memoryDriver, openMemoryStore } from './stores/memory/index.js';
export { DEFAULTS, NUMERIC_OPTIONS, type NumericOption, type NumericOptions } from './options.js';
export { COLLECTIONS, PREP_IMAGE_PREFIX, RAW_IMAGE_PREFIX } from './collections.js';
export type { ProgressEvent, ProgressListener, StageRunOptions } from './progress.js';
export { ChallengeDataLoader, DataLoader, LoadError, type LoadOptions, type ProductLoader } from './stages/load/loader.js';
export { LABEL_FILE_NAMES, resolveLayout, type ChallengeLayout } from './stages/load/layout.js';
export { CsvSyntaxError, openCsv, type CsvFile, type CsvRecord, type OpenCsvOptions } from './stages/load/csv.js';
export type { CsvEncoding } from './stages/load/encoding.js';
export { MAX_ID_DIGITS, parseId, type ParsedId, type RowId } from './stages/load/ids.js';
export { isKnownPrdtypecode, PRDTYPECODES } from './stages/load/classes.js';
export { CATEGORIES, categoryLabel, categoryName, categoryNameMap, categoryNames, type Category, type CategoryLanguage, type CategoryNames } from './categories.js';
export { DEFAULT_MAX_CSV_RECORD_BYTES, DEFAULT_MAX_IMAGE_FILE_BYTES, type LoadLimits } from './stages/load/limits.js';
export { formatEntry } from './stages/load/quarantine.js';
export type {
  ImageCounts,
  LabelRow,
  LoadRun,
  LoadSplit,
  ProductRow,
  QuarantineAction,
  QuarantineEntry,
  QuarantineReason,
  RowCounts,
  RunFile,
  RunStatus,
} from './stages/load/types.js';
export { getDataStatus, type DataStatus, type SplitImageStatus } from './stages/status.js';
export {
  collapseWhitespace,
  decodeEntities,
  DEFAULT_TEXT_STEPS,
  DEFAULT_TEXT_STEP_NAMES,
  detectLanguage,
  FIELD_SEPARATOR,
  lowerCase,
  normaliseUnicode,
  registerTextStep,
  stripTags,
  textStep,
  textStepName,
  textStepNames,
  TextPreprocessor,
  type Language,
  type PreparedText,
  type ProductText,
  type TextPreprocessorOptions,
  type TextStep,
} from './stages/preprocess/text.js';
export {
  DEFAULT_BACKGROUND_TOLERANCE,
  DEFAULT_IMAGE_SIZE,
  DEFAULT_MAX_INPUT_PIXELS,
  ImageTooLargeError,
  prepareImage,
  prepareImagePixels,
  UndecodableImageError,
  type Box,
  type ImagePrepOptions,
  type PreparedImage,
  type PreparedPixels,
} from './stages/preprocess/image.js';
export {
  completePreprocessingSpec,
  defaultPreprocessingSpec,
  Preprocessor,
  type PreparedProduct,
  type PreprocessorOptions,
  type ProductInput,
} from './stages/preprocess/preprocessor.js';
export {
  PREPROCESSING_SPEC_VERSION,
  type ImagePreprocessingSpec,
  type PreprocessingSpec,
  type RecordedPreprocessing,
  type TextPreprocessingSpec,
} from './models/preprocessing-spec.js';
export {
  assignSplits,
  DEFAULT_SPLIT_FRACTIONS,
  DEFAULT_SPLIT_SEED,
  SPLIT_NAMES,
  type AssignSplitsOptions,
  type DuplicateGroupStats,
  type SplitAssignment,
  type SplitFractions,
  type SplitItem,
  type SplitName,
} from './stages/split/assign.js';
export { Splitter, type SplitterOptions } from './stages/split/splitter.js';
export { PrepareStage, preparedImageKey, SPLIT_COLLECTIONS, type PrepareOptions } from './stages/prepare/stage.js';
export type { LabeledProduct, PrepareFailure, PrepareRun, SplitSummary } from './stages/prepare/types.js';
export type {
  EpochReport,
  HeldOutProbabilities,
  ImageFeatureExtractor,
  LabelledInputs,
  ModelImage,
  ModelArtifact,
  ModelFactory,
  ModelInput,
  ProductClassifier,
  TrainModelOptions,
  ValidationScorer,
  ValidationSet,
} from './models/types.js';
export {
  guardrailVerdict,
  MODEL_FILE_PREFIX,
  ModelRegistry,
  type ChampionDecision,
  type GuardrailVerdict,
  type ModelAlias,
  type ModelRef,
  type ModelVersion,
  type ValidationScores,
} from './models/registry.js';
export { NAIVE_BAYES_KIND, naiveBayesModel } from './models/naive-bayes.js';
export { MOCK_MODEL_KIND, mockModel } from './models/mock-model.js';
export { TrainStage, Trainer, type PromotionPolicy, type TrainOptions, type TrainResult } from './stages/train/stage.js';
export { classificationMetrics, weightedF1, type ClassificationMetrics, type ClassMetrics } from './stages/evaluate/metrics.js';
export { renderEvaluationReport, type ReportInfo } from './stages/evaluate/report.js';
export { validationScores, weightedF1Scorer } from './stages/evaluate/score.js';
export { evaluationReportHtml, Evaluator, type EvaluateOptions, type EvaluationRecord, type LatencyStats } from './stages/evaluate/stage.js';
export { confidenceOf, type Confidence } from './stages/predict/confidence.js';
export { profileInput, trainingVocabulary, type InputProfile } from './stages/monitor/profile.js';
export {
  buildDriftReference,
  DEFAULT_DRIFT_THRESHOLD,
  DRIFT_FEATURES,
  DriftMonitor,
  DriftUnavailableError,
  psi,
  type DriftFeature,
  type DriftFeatureReport,
  type DriftOptions,
  type DriftReference,
  type DriftReport,
  type Histogram,
  type LoadedReference,
  type ProfiledPrediction,
} from './stages/monitor/drift.js';
export {
  keepReviewImage,
  keyId,
  REVIEW_IMAGE_PREFIX,
  ReviewError,
  ReviewQueue,
  UNCERTAIN_MARGIN,
  type Correction,
  type OnlinePrediction,
  type ReviewablePrediction,
  type ReviewClass,
  type ReviewImage,
  type ReviewItem,
  type ReviewPage,
  type PruneResult,
  type StoredClass,
  type ReviewSource,
} from './stages/monitor/review.js';
export {
  Predictor,
  type BatchPredictionSummary,
  type LoadedModel,
  type ProductPrediction,
  type ScoredClass,
  type StoredPrediction,
} from './stages/predict/predictor.js';
export { BUILT_IN_MODELS } from './models/builtin.js';
export { TEXT_IMAGE_KIND } from './models/kinds.js';
export { redactUri } from './stores/uri.js';
export { conflicts, JOB_KINDS, JOB_PARAMS, JOB_RESOURCES, runJob, type JobKind, type JobParamsByKind, type JobResources } from './pipeline/jobs.js';
export { createPipeline, pipelineFromBlueprint, Pipeline, type PipelineBlueprint, type PipelineOptions, type PredictCsvOptions, type PredictProductOptions } from './pipeline/pipeline.js';
export { definePlugin, loadPlugin, PluginLoadError, pluginsFromEnv, resolvePlugins, resolvePluginSpecifier, type PipelinePlugin } from './pipeline/plugins.js';
export {
  checkOptions,
  EvaluateParams,
  LoadParams,
  ModelRefSchema,
  PredictParams,
  PrepareParams,
  PromotionPolicySchema,
  TrainParams,
} from './stages/options.js';
