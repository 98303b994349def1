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
  /** One document per pipeline run (load, prepare, ...). */
  runs: 'data_pipeline',
} as const;

/** Image key prefix of original images: `raw/<split>/<file name>`. */
export const RAW_IMAGE_PREFIX = 'raw/';
