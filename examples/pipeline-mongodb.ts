/**
 * The whole pipeline end to end on MongoDB (documents in collections, images and model weights in
 * GridFS): load → prepare → train → evaluate → predict, printing weighted F1 and a few predictions.
 *
 * Run: npx tsx examples/pipeline-mongodb.ts [DATA_DIR] [MONGODB_URI]
 *   DATA_DIR     folder in the challenge layout (default: a synthetic demo catalogue generated in a
 *                temp folder; ../shared/data/rakuten for the real rows)
 *   MONGODB_URI  default: $MONGODB_URI, else mongodb://127.0.0.1:27017/rakuten_db
 *
 * No MongoDB server at hand? Start the in-memory wire emulator in another terminal first (it needs
 * Debian's python3-mongomock and python3-mockupdb):
 *   npm run mongo:emulator -- --port 27017
 * It keeps everything in memory: restart it for an empty database.
 *
 * The examples import 'rakuten-pipeline', i.e. this package's build (dist/ and weights/, made by
 * `npm run build` or `npm start`), as your own code would.
 */
import { redactUri as redact } from 'rakuten-pipeline';
import { dataDirFromArg, runMain } from './common.js';
import { runPipeline } from './pipeline.js';

runMain(async () => {
  const [dataArg, uriArg] = process.argv.slice(2);
  const storeUri = uriArg ?? process.env['MONGODB_URI'] ?? 'mongodb://127.0.0.1:27017/rakuten_db';
  const dataDir = await dataDirFromArg(dataArg);
  try {
    await runPipeline({ storeUri, dataDir });
  } catch (e) {
    if (/ECONNREFUSED|Server selection timed out/i.test((e as Error).message)) {
      throw new Error(`cannot reach MongoDB at ${redact(storeUri)}: start a server, or the emulator with \`npm run mongo:emulator -- --port 27017\``, { cause: e });
    }
    throw e;
  }
});
