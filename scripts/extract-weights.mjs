#!/usr/bin/env node
/**
 * Writes the pretrained MobileNetV2 that `src/models/mobilenet-features.ts` uses into
 * `weights/mobilenet_v2/` as a standard TensorFlow.js layers model (`model.json` + one `.bin`
 * shard), with the MIT licence of its source. Run by `npm run build` (and by the test setup when
 * the folder is missing); the package ships the folder and reads it at run time.
 *
 * The source is the npm package `nsfwjs` (a devDependency: 41 MB installed, and an engine
 * requirement of exactly Node 22.13, for these 2.6 MB). It ships the model as JavaScript modules:
 * the model JSON and the weights as base64; they are read through the same module API the model
 * read before (`nsfwjs/models/mobilenet_v2`), the weight bytes decoded and written unchanged.
 *
 * Usage: node scripts/extract-weights.mjs [OUT_DIR]   (default: weights/ at the repository root)
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const MODEL = 'mobilenet_v2';
const SHARD = 'group1-shard1of1.bin';

const defaultExport = (module) => (module && typeof module === 'object' && 'default' in module ? module.default : module);

/** The root folder of an installed package (its exports do not list package.json). */
function packageRoot(name) {
  const require = createRequire(path.join(ROOT, 'package.json'));
  let dir = path.dirname(require.resolve(name));
  while (path.basename(dir) !== name) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`cannot find the folder of ${name}`);
    dir = up;
  }
  return dir;
}

/**
 * Extracts the weights into `outDir`/mobilenet_v2 (written beside, then renamed over, so an
 * interrupted run never leaves half a model). Returns the SHA-256 of the weight bytes.
 */
export async function extractWeights(outDir = path.join(ROOT, 'weights')) {
  const source = packageRoot('nsfwjs');
  const { version, license } = JSON.parse(await readFile(path.join(source, 'package.json'), 'utf8'));
  if (license !== 'MIT') throw new Error(`nsfwjs@${version} is no longer MIT-licensed (${license}): check before shipping its weights`);
  const { MobileNetV2Model: model } = await import('nsfwjs/models/mobilenet_v2');
  const json = defaultExport(await model.modelJson());
  const shards = await Promise.all(model.weightBundles.map(async (bundle) => Buffer.from(defaultExport(await bundle()), 'base64')));
  const weights = Buffer.concat(shards);
  const expected = json.weightsManifest.flatMap((group) => group.weights).reduce((bytes, w) => bytes + byteLength(w), 0);
  if (weights.length !== expected) throw new Error(`nsfwjs@${version}: ${weights.length} weight bytes, the manifest describes ${expected}`);
  const sha256 = createHash('sha256').update(weights).digest('hex');

  const target = path.join(outDir, MODEL);
  const staging = `${target}.${process.pid}.tmp`;
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging, { recursive: true });
  const modelJson = {
    format: 'layers-model',
    generatedBy: `rakuten-pipeline scripts/extract-weights.mjs from nsfwjs@${version} (${MODEL})`,
    modelTopology: json.modelTopology,
    // One shard holding every group's bytes in manifest order, as the shards were concatenated.
    weightsManifest: [{ paths: [SHARD], weights: json.weightsManifest.flatMap((group) => group.weights) }],
  };
  await writeFile(path.join(staging, 'model.json'), JSON.stringify(modelJson));
  await writeFile(path.join(staging, SHARD), weights);
  await writeFile(path.join(staging, 'SHA256SUMS'), `${sha256}  ${SHARD}\n`);
  await rm(target, { recursive: true, force: true });
  await rename(staging, target);

  const licence = await readFile(path.join(source, 'LICENSE'), 'utf8');
  await writeFile(
    path.join(outDir, 'NOTICE.md'),
    `# Third-party weights\n\n` +
      `\`${MODEL}/\` holds the MobileNetV2 model (topology and weights, unchanged) shipped in the npm package ` +
      `[nsfwjs](https://github.com/infinitered/nsfwjs) ${version}, under its MIT licence below. ` +
      `rakuten-pipeline uses its blocks 0–10 as a pretrained image feature extractor.\n\n` +
      '```text\n' + licence.trim() + '\n```\n',
  );
  return { version, sha256, bytes: weights.length, dir: target };
}

function byteLength(entry) {
  const count = entry.shape.reduce((n, d) => n * d, 1);
  const dtype = entry.quantization?.dtype ?? entry.dtype;
  const size = { float32: 4, int32: 4, bool: 1, uint8: 1, int8: 1, uint16: 2, float16: 2 }[dtype];
  if (!size) throw new Error(`unexpected weight dtype ${dtype} (${entry.name})`);
  return count * size;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const result = await extractWeights(process.argv[2] ? path.resolve(process.argv[2]) : undefined);
  console.log(`MobileNetV2 weights from nsfwjs@${result.version}: ${result.bytes} bytes (sha256 ${result.sha256.slice(0, 12)}) -> ${path.relative(process.cwd(), result.dir) || '.'}`);
}
