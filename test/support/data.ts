import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateDemoCatalogue, type DemoCatalogueOptions, type DemoCatalogueSummary } from '../../src/demo/generate-catalogue.js';

/** Repository root. */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The real challenge data (read-only): `RAKUTEN_DATA` or ../shared/data/rakuten beside the repository. */
export const REAL_DATA_DIR = process.env['RAKUTEN_DATA'] ?? path.resolve(REPO_ROOT, '../shared/data/rakuten');

/** Why real-data tests are skipped, or undefined when the data is there. */
export const REAL_DATA_SKIP = existsSync(path.join(REAL_DATA_DIR, 'X_train_update.csv'))
  ? undefined
  : `real data not found at ${REAL_DATA_DIR} (set RAKUTEN_DATA): real-data tests SKIPPED`;
if (REAL_DATA_SKIP) console.warn(`[data] ${REAL_DATA_SKIP}`);

/** A fresh temporary folder. */
export function tempDir(prefix = 'rp-'): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), prefix));
}

/** Generates a small synthetic catalogue (64 px images) in a fresh temporary folder. */
export async function makeCatalogue(options: Partial<DemoCatalogueOptions> = {}): Promise<DemoCatalogueSummary> {
  return generateDemoCatalogue({ outDir: await tempDir('rp-data-'), rows: 120, imageSize: 64, ...options });
}
