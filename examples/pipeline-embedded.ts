/**
 * The whole pipeline end to end on the embedded store (SQLite + image files, nothing to install):
 * load → prepare → train → evaluate → predict, printing weighted F1 and a few predictions.
 *
 * Run: npx tsx examples/pipeline-embedded.ts [DATA_DIR] [STORE_DIR]
 *   DATA_DIR   folder in the challenge layout (default: a synthetic demo catalogue generated in a temp
 *              folder; ../shared/data/rakuten for the real rows)
 *   STORE_DIR  embedded store folder (default: a new temp folder)
 *
 * The examples import 'rakuten-pipeline', i.e. this package's build (dist/ and weights/, made by
 * `npm run build` or `npm start`), as your own code would.
 */
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { dataDirFromArg, runMain } from './common.js';
import { runPipeline } from './pipeline.js';

runMain(async () => {
  const [dataArg, storeArg] = process.argv.slice(2);
  const dataDir = await dataDirFromArg(dataArg);
  const storeUri = storeArg ?? (await mkdtemp(path.join(os.tmpdir(), 'rp-store-')));
  await runPipeline({ storeUri, dataDir, report: path.join(storeUri, 'evaluation.html') });
});
