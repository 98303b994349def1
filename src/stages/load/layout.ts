import { existsSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { checkDataFile } from './files.js';

/** Where the files of one challenge-layout folder are. */
export interface ChallengeLayout {
  /** The folder itself (absolute). */
  dir: string;
  /** `X_train_update.csv`. */
  xTrain: string;
  /** `Y_train_CVw08PX.csv`, or its common misspelling `Y_train_CvvW08PX.csv`. */
  yTrain: string;
  /** `X_test_update.csv` (may be absent). */
  xTest: string;
  /** `image_train/` (may be absent). */
  imageTrain: string;
  /** `image_test/` (may be absent). */
  imageTest: string;
}

/** Label file names accepted, the official one first. */
export const LABEL_FILE_NAMES = ['Y_train_CVw08PX.csv', 'Y_train_CvvW08PX.csv'] as const;

/**
 * Finds the challenge files in `dir`. Throws a clear error when the folder or the files that
 * training needs (`X_train_update.csv` and the label file) are missing, or when a CSV is not a
 * regular file (a FIFO would hang the parser) or a symlink leading out of the folder.
 */
export function resolveLayout(dir: string): ChallengeLayout {
  const root = path.resolve(dir);
  if (!existsSync(root) || !statSync(root).isDirectory()) {
    throw new Error(`Data folder not found: ${root}`);
  }
  const at = (name: string) => path.join(root, name);
  const xTrain = at('X_train_update.csv');
  if (!existsSync(xTrain)) throw new Error(`${xTrain} is missing: a challenge data folder needs X_train_update.csv`);
  const label = LABEL_FILE_NAMES.map(at).find((p) => existsSync(p));
  if (!label) throw new Error(`No label file in ${root}: expected ${LABEL_FILE_NAMES.join(' or ')}`);
  const realRoot = realpathSync(root);
  for (const file of [xTrain, label, at('X_test_update.csv')]) checkDataFile(file, realRoot);
  return {
    dir: root,
    xTrain,
    yTrain: label,
    xTest: at('X_test_update.csv'),
    imageTrain: at('image_train'),
    imageTest: at('image_test'),
  };
}
