/**
 * Names of the collections the pipeline writes: those of the classic deployment it replaces,
 * so existing MongoDB dashboards and queries keep working.
 */
export const COLLECTIONS = {
  /** Training rows as loaded (designation, description, ids). */
  xTrain: 'preprocessed_x_train',
  /** Training labels (`prdtypecode`) by row index. */
  yTrain: 'preprocessed_y_train',
  /** Test rows as loaded. */
  xTest: 'preprocessed_x_test',
  /** One document per load run. */
  runs: 'data_pipeline',
  /** Preprocessed labelled products of the training split. */
  labeledTrain: 'labeled_train',
  /** Preprocessed labelled products of the validation split. */
  labeledVal: 'labeled_val',
  /** Preprocessed labelled products of the held-out test split. */
  labeledTest: 'labeled_test',
  /**
   * Scratch space of a running prepare: each labelled product preprocessed once, before the split
   * is known; emptied before the splits are committed (part of the prepare generation, so a killed
   * run's documents are collected with it).
   */
  prepareStaging: 'prepare_staging',
  /** One document per prepare run: split sizes and class counts, failures, timings. */
  pipelineMetadata: 'pipeline_metadata',
  /** Model versions (params, metrics, data distribution) and the `champion` alias. */
  modelMetadata: 'model_metadata',
  /** One document per evaluation of a model version. */
  modelEvaluation: 'model_evaluation',
  /** Image feature vectors, one per preprocessed picture and extractor (content-addressed, reused by every run). */
  imageFeatures: 'image_features',
  /** Batch predictions, one document per product and model version. */
  predictions: 'predictions',
  /** Online predictions (`POST /predict/product`): top classes, confidence, input profile and the input, for review and drift. */
  onlinePredictions: 'online_predictions',
  /** Review verdicts (accepted or corrected classes) with who and when; the next training can include them. */
  reviewCorrections: 'review_corrections',
  /** Drift references, one per model version: its training vocabulary and validation distributions. */
  driftReferences: 'drift_references',
  /** Drift reports: recent predictions compared with the champion's reference, per feature. */
  driftReports: 'drift_reports',
  /** Jobs started through the HTTP API: state, progress, result or error. */
  jobs: 'api_jobs',
  /** The jobs admitted and not yet finished, in one compare-and-set document: exact conflicts across servers and workers. */
  jobAdmission: 'job_admission',
  /** Cancellation requests, one per job, read by whichever process runs it. */
  jobCancellations: 'job_cancellations',
  /** Pipeline runs: load → prepare → train → evaluate → predict as a chain of jobs, with per-step state. */
  pipelineRuns: 'pipeline_runs',
  /** The committed generation of the loaded data and of the splits (one pointer document each). */
  state: 'pipeline_state',
} as const;

/** Image key prefix of original images: `raw/<split>/<content hash>/<file name>`. */
export const RAW_IMAGE_PREFIX = 'raw/';

/**
 * Key of an original image: by split, the first 16 hex digits of its SHA-256, and its file name.
 * Generations share originals, and new bytes never replace bytes a committed row refers to.
 */
export function rawImageKey(split: string, sha256: string, fileName: string): string {
  return `${RAW_IMAGE_PREFIX}${split}/${sha256.slice(0, 16)}/${fileName}`;
}

/** Image key prefix of preprocessed images: `prep/<size>/<split>/<source hash>/<file name>.png`. */
export const PREP_IMAGE_PREFIX = 'prep/';
