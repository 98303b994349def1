/**
 * Load a data folder into a store and print its status.
 *
 * Run: npx tsx examples/load-and-status.ts [DATA_DIR] [STORE_URI]
 *   DATA_DIR   folder in the challenge layout (default: a synthetic demo catalogue generated in a temp folder;
 *              ../shared/data/rakuten for the real rows)
 *   STORE_URI  folder path (embedded, default: a temp folder) or mongodb://host:port/db
 *
 * The examples import 'rakuten-pipeline', i.e. this package's build (dist/ and weights/, made by
 * `npm run build` or `npm start`), as your own code would.
 */
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createPipeline, formatEntry } from 'rakuten-pipeline';
import { dataDirFromArg, runMain } from './common.js';

runMain(async () => {
  const [dataArg, storeArg] = process.argv.slice(2);
  const dataDir = await dataDirFromArg(dataArg, 300);
  const pipeline = await createPipeline({ store: storeArg ?? (await mkdtemp(path.join(os.tmpdir(), 'rp-store-'))) });
  try {
    const run = await pipeline.load({ dataDir });
    console.log(`${run.status}: ${run.labelledTrainRows} labelled training rows, ${run.rows.test.stored} test rows`);
    for (const entry of run.quarantine.slice(0, 5)) console.log(`  ${formatEntry(entry)}`);
    console.log(JSON.stringify(await pipeline.status(), (k, v: unknown) => (k === 'lastLoad' ? undefined : v), 2));
  } finally {
    await pipeline.close();
  }
});
