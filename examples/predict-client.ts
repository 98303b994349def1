/**
 * A client of `POST /predict/product`: classifies a few test products of a data folder three
 * ways — JSON text only, JSON with the image in base64, multipart/form-data with the image as a
 * file part — and prints the answers and the round-trip times.
 *
 * Run, against a running server that has a champion model (e.g. after examples/http-pipeline-client.ts):
 *   RAKUTEN_API_KEYS=change-me-please-0123456789 npx rakuten-pipeline serve --store ./my-store --port 8000
 *   npx tsx examples/predict-client.ts [DATA_DIR] [--url http://127.0.0.1:8000] [--key KEY] [--count 3]
 *   DATA_DIR  folder in the challenge layout whose X_test_update.csv and image_test/ are used
 *             (default: a synthetic demo catalogue generated in a temp folder; ../shared/data/rakuten
 *             for the real rows)
 *   --url     base URL of the API (default $RAKUTEN_API_URL or http://127.0.0.1:8000; add the prefix
 *             when the API is mounted under one, e.g. http://127.0.0.1:3000/api for examples/server.ts)
 *   --key     API key, needed only when the server protects /predict/product (default $RAKUTEN_API_KEY)
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { clientFromArgs, formatTop, type ProductAnswer } from './api-client.js';
import { dataDirFromArg, runMain } from './common.js';

const { client, args, options } = clientFromArgs(['count']);
const count = Number(options['count'] ?? 3);

/** The first `n` test rows of the folder whose image file exists. */
async function testProducts(dataDir: string, n: number) {
  const rows = parse(await readFile(path.join(dataDir, 'X_test_update.csv')), { bom: true, from_line: 2 }) as string[][];
  const found: { designation: string; description: string; image: Buffer; file: string }[] = [];
  for (const [, designation = '', description = '', productid, imageid] of rows) {
    const file = path.join(dataDir, 'image_test', `image_${imageid}_product_${productid}.jpg`);
    const image = await readFile(file).catch(() => null);
    if (image) found.push({ designation, description, image, file });
    if (found.length >= n) break;
  }
  return found;
}

runMain(async () => {
  const dataDir = await dataDirFromArg(args[0]);
  const products = await testProducts(dataDir, count);
  if (products.length === 0) throw new Error(`no test product with an image file in ${dataDir}`);
  console.log(`POST ${client.baseUrl}/predict/product, ${products.length} products of ${dataDir}\n`);

  const timed = async (what: string, call: () => Promise<ProductAnswer>) => {
    const t0 = performance.now();
    const a = await call();
    const ms = performance.now() - t0;
    console.log(
      `  ${what.padEnd(20)} -> ${String(a.prdtypecode).padEnd(5)} top ${formatTop(a)}  ` +
        `[model v${a.modelVersion}, image ${a.usedImage ? 'used' : 'not used'}, server ${a.ms.toFixed(1)} ms, round trip ${ms.toFixed(1)} ms]`,
    );
  };

  for (const p of products) {
    console.log(`${p.designation.slice(0, 90)}  (${path.basename(p.file)}, ${(p.image.length / 1024).toFixed(1)} KB)`);
    const text = { designation: p.designation, description: p.description };
    await timed('JSON, text only', () => client.predictProduct(text));
    await timed('JSON + base64 image', () => client.predictProduct({ ...text, image: p.image }));
    await timed('multipart + image', () => client.predictProduct({ ...text, image: p.image, topK: 5 }, { multipart: true }));
  }

  // A bad request is answered with a 400 that names the field.
  try {
    await client.call('POST', '/predict/product', { title: 'no designation' });
  } catch (e) {
    console.log(`\nbad request: ${(e as Error).message}`);
  }
});
