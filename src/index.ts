/**
 * rakuten-pipeline: the machine-learning life cycle for Rakuten France product classification,
 * as composable typed stages over pluggable storage.
 *
 * @packageDocumentation
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
export { embeddedDriver, FileImageStore, openEmbeddedStore, SqliteDocumentStore } from './stores/embedded/index.js';
export { dropMemoryStore, memoryDriver, openMemoryStore } from './stores/memory/index.js';
export {
  DEFAULT_MONGO_DB,
  GridFsImageStore,
  MongoDocumentStore,
  mongoDriver,
  MONGO_TIMEOUTS,
  openMongoStore,
  redact,
} from './stores/mongodb/index.js';
export {
  NUMERIC_OPTIONS,
  describeRange,
  isAllowed,
  parseFlagValue,
  flag,
  schema as numericSchema,
  validateNumbers,
  type NumericOption,
  type NumericOptions,
  type NumericRange,
} from './options.js';
export { checkOutputFile, writeFileAtomic, atomicWriteStream, type AtomicWrite } from './util/output-file.js';
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
export { escapeControls } from './stages/load/escape.js';
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
  DEMO_PRDTYPECODES,
  generateDemoCatalogue,
  type DemoCatalogueOptions,
  type DemoCatalogueSummary,
  type DemoFaults,
  type DemoInjectedFaults,
} from './demo/generate-catalogue.js';
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
  differenceHash,
  findContentBox,
  hammingDistance,
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
export { mulberry32, shuffleInPlace } from './util/random.js';
export type {
  EpochReport,
  HeldOutProbabilities,
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
  MODEL_FILE_PREFIX,
  ModelRegistry,
  type ChampionDecision,
  type ModelAlias,
  type ModelRef,
  type ModelVersion,
  type ValidationScores,
} from './models/registry.js';
export { argmax, withoutImage } from './models/util.js';
export { decodePreparedPng, inputFromPrepared, inputsFromLabeled } from './stages/model-inputs.js';
export { NAIVE_BAYES_KIND, naiveBayesModel } from './models/naive-bayes.js';
export { MOCK_MODEL_KIND, mockModel } from './models/mock-model.js';
export { TrainStage, Trainer, type PromotionPolicy, type TrainOptions, type TrainResult } from './stages/train/stage.js';
export { classificationMetrics, weightedF1, type ClassificationMetrics, type ClassMetrics } from './stages/evaluate/metrics.js';
export { escapeHtml, renderEvaluationReport, type ReportInfo } from './stages/evaluate/report.js';
export { predictLabels, validationScores, weightedF1Scorer } from './stages/evaluate/score.js';
export { Evaluator, type EvaluateOptions, type EvaluationRecord, type LatencyStats } from './stages/evaluate/stage.js';
export {
  inputFromCsvRow,
  Predictor,
  type BatchPredictionSummary,
  type LoadedModel,
  type ProductPrediction,
  type ScoredClass,
  type StoredPrediction,
} from './stages/predict/predictor.js';
export { BACKEND_ENV, BACKEND_ORDER, initBackend, type BackendName, type InitBackendOptions } from './models/backend.js';
export { BUILT_IN_MODELS } from './models/builtin.js';
export {
  DEFAULT_TEXT_IMAGE_PARAMS,
  TEXT_IMAGE_KIND,
  TextImageClassifier,
  TextImageModel,
  textImageModel,
  type TextImageModelFactory,
  type TextImageParams,
} from './models/text-image-model.js';
export { rakutenApi, DEFAULT_MAX_IMAGE_BYTES } from './http/plugin.js';
export type { AuthOptions, RakutenApiOptions } from './http/options.js';
export { createServer, type ServerOptions } from './http/server.js';
export { ApiKeys, apiKeysFromEnv, parseApiKeys, presentedKey, API_KEYS_ENV, API_KEYS_FILE_ENV, MIN_API_KEY_LENGTH } from './http/auth.js';
export { ApiMetrics, type MetricSources } from './http/metrics.js';
export { HttpError, StoreProbe, type StoreProbeResult } from './http/context.js';
export { redactUrl, requestSerializer, pathRedactor, SECRET_PARAM, type LoggedRequest, type RedactedRoot } from './http/redact.js';
export { JobManager, JobConflictError, isFinal, type JobManagerOptions } from './http/jobs/manager.js';
export { inlineExecutor, workerExecutor, type JobExecutor } from './http/jobs/executor.js';
export { conflicts, JOB_KINDS, JOB_PARAMS, JOB_RESOURCES, runJob, type JobKind, type JobParamsByKind, type JobResources } from './pipeline/jobs.js';
export { createPipeline, pipelineFromBlueprint, Pipeline, type PipelineBlueprint, type PipelineOptions, type PredictCsvOptions, type PredictProductOptions } from './pipeline/pipeline.js';
export { definePlugin, loadPlugin, PluginLoadError, pluginsFromEnv, resolvePlugins, resolvePluginSpecifier, type PipelinePlugin } from './pipeline/plugins.js';
export {
  checkOptions,
  defaultsOf,
  describeSchema,
  EvaluateParams,
  LoadParams,
  ModelRefSchema,
  PredictParams,
  PrepareParams,
  PromotionPolicySchema,
  TrainParams,
} from './stages/options.js';
export { redactUri, scrubSecrets } from './stores/uri.js';
export { FINAL_JOB_STATES, type JobRecord, type JobState, type JobView } from './http/jobs/types.js';
