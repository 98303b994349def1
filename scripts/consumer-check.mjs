#!/usr/bin/env node
/**
 * The package as another Node project gets it: `npm pack` (which builds, through `prepack`), a new
 * project in the system's temporary folder, `npm install` of the tarball, then
 *
 * - install: no engine warning (EBADENGINE) on this Node, node_modules at most 300 MB;
 * - types: a TypeScript file using the public API typechecks with `strict` and
 *   `skipLibCheck: false`, under `module`/`moduleResolution` `nodenext` (ESM and CommonJS files)
 *   and under `esnext` + `bundler`;
 * - run time: the CLI writes a demo catalogue, then an ES module script and a CommonJS script
 *   (`require`) each run load → prepare → train → evaluate → predict, a prepare job in a worker
 *   thread (dist/job-worker.js) and a MobileNet model (the weights shipped in the package);
 * - publint and are-the-types-wrong on the tarball;
 * - start-up: `await import('rakuten-pipeline')` and `rakuten-pipeline --help`, medians of 5,
 *   printed only (not enforced yet).
 *
 * Exits non-zero when any check failed (independent checks all run and are reported; a failed
 * pack or install stops at once). Usage: npm run check:consumer [-- --keep] [-- --tarball FILE]
 * (`--keep` leaves the temporary project for inspection, it is deleted otherwise; `--tarball`
 * checks a given tarball instead of packing the repository, e.g. an older release to compare).
 */
import { spawnSync } from 'node:child_process';
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const MAX_NODE_MODULES_MB = 300;
const ROWS = 300;
const KEEP = process.argv.includes('--keep');

class CheckFailed extends Error {}

const section = (title) => console.log(`\n== ${title}`);
const fail = (message) => {
  throw new CheckFailed(message);
};

/** Runs a command; returns its output, or fails with it. */
function run(command, args, options = {}) {
  const started = performance.now();
  const result = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, ...options, env: { ...process.env, ...options.env } });
  const seconds = (performance.now() - started) / 1000;
  const output = `${result.stdout ?? ''}${result.stderr ?? ''}`;
  if (result.error || result.status !== 0) {
    fail(`${command} ${args.join(' ')} (in ${options.cwd ?? process.cwd()}) ${result.error ? result.error.message : `exited with ${result.status}`}\n${output.trim()}`);
  }
  return { stdout: result.stdout ?? '', stderr: result.stderr ?? '', output, seconds };
}

/** Disk usage of a folder in MB (allocated blocks, as `du` counts them; links not followed). */
function diskMegabytes(dir) {
  let bytes = 0;
  const walk = (entry) => {
    const stat = lstatSync(entry);
    bytes += stat.blocks * 512;
    if (stat.isDirectory()) for (const name of readdirSync(entry)) walk(path.join(entry, name));
  };
  walk(dir);
  return bytes / 1024 / 1024;
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/** Wall-clock seconds of a command, median of `n` runs. */
function medianSeconds(command, args, options, n = 5) {
  return median(Array.from({ length: n }, () => run(command, args, options).seconds));
}

// The public API as a user's TypeScript would use it; typechecked, not run.
const TYPESCRIPT_USE = `
import {
  createPipeline,
  DataLoader,
  naiveBayesModel,
  Trainer,
  type LoadRun,
  type PipelineOptions,
  type ProductPrediction,
  type Store,
  type TrainResult,
} from 'rakuten-pipeline';
import { generateDemoCatalogue } from 'rakuten-pipeline/demo';
import { createServer, workerExecutor, type JobExecutor } from 'rakuten-pipeline/http';
import { initBackend, textImageModel } from 'rakuten-pipeline/models/text-image';
import { FileImageStore, openEmbeddedStore, SqliteDocumentStore } from 'rakuten-pipeline/stores/embedded';
import { GridFsImageStore, openMongoStore } from 'rakuten-pipeline/stores/mongodb';
import { testStoreDriver } from 'rakuten-pipeline/testing';
import { bullmqQueue, startBullmqWorker, startQueueWorker, type JobQueue, type QueueWorker } from 'rakuten-pipeline/queue';

export async function classify(dataDir: string, storeDir: string): Promise<ProductPrediction> {
  const options: PipelineOptions = { store: storeDir };
  const pipeline = await createPipeline(options);
  try {
    const store: Store = pipeline.store;
    const loaded: LoadRun = await new DataLoader(store).load({ dataDir });
    if (loaded.labelledTrainRows === 0) throw new Error('no rows');
    await pipeline.prepare({ seed: 42 });
    const trainer = new Trainer(store, [naiveBayesModel, textImageModel], () => initBackend());
    const trained: TrainResult = await trainer.run({ kind: 'naive-bayes-v1', seed: 7 });
    const weightedF1: number = trained.model.validation.weightedF1;
    console.log(weightedF1.toFixed(3));
    return await pipeline.predictProduct({ designation: 'Chargeur USB-C 20W' }, { model: trained.model.version, topK: 3 });
  } finally {
    await pipeline.close();
  }
}

// Every other entry's declarations are read too (each value's type is checked against its own).
export const entries = {
  generateDemoCatalogue,
  createServer,
  executor: (blueprint: Parameters<typeof workerExecutor>[0]): JobExecutor => workerExecutor(blueprint),
  openEmbeddedStore,
  stores: [SqliteDocumentStore, FileImageStore, GridFsImageStore] as const,
  openMongoStore,
  testStoreDriver,
  scaleOut: async (url: string, pipeline: Awaited<ReturnType<typeof createPipeline>>): Promise<[JobQueue, QueueWorker]> => {
    const queue = await bullmqQueue(url);
    return [queue, await startQueueWorker({ pipeline, queue, listen: (handlers, o) => startBullmqWorker(url, handlers, o) })];
  },
};
`;

const TSCONFIGS = {
  nodenext: { module: 'nodenext', moduleResolution: 'nodenext', files: ['use.mts', 'use.cts'] },
  bundler: { module: 'esnext', moduleResolution: 'bundler', files: ['use.ts'] },
};

/**
 * The pipeline from a script, `import` or `require`: the naive-Bayes model end to end, a prepare
 * job in a worker thread, and a MobileNet model (one epoch) that predicts a product with a picture.
 */
const pipelineScript = (format) => `${format === 'esm' ? "import * as rp from 'rakuten-pipeline';\nimport * as http from 'rakuten-pipeline/http';\nimport { readdirSync, readFileSync } from 'node:fs';\nimport path from 'node:path';" : "const rp = require('rakuten-pipeline');\nconst http = require('rakuten-pipeline/http');\nconst { readdirSync, readFileSync } = require('node:fs');\nconst path = require('node:path');"}

const [dataDir, storeDir] = process.argv.slice(2);
const check = (ok, what) => { if (!ok) throw new Error('${format}: ' + what); };

async function main() {
  const pipeline = await rp.createPipeline({ store: storeDir });
  try {
    const load = await pipeline.load({ dataDir });
    check(load.labelledTrainRows === ${ROWS}, 'load: ' + load.labelledTrainRows + ' labelled rows');
    const prepared = await pipeline.prepare({ seed: 42 });
    check(prepared.splits.train.total > 0, 'prepare: empty training split');
    const trained = await pipeline.train({ seed: 42, kind: 'naive-bayes-v1' });
    const evaluation = await pipeline.evaluate({ model: trained.model.version, report: path.join(storeDir, 'report.html') });
    check(evaluation.metrics.count > 0 && evaluation.report, 'evaluate: nothing scored or no report');
    const batch = await pipeline.predict({ model: trained.model.version });
    check(batch.count === ${Math.round(ROWS / 10)}, 'predict: ' + batch.count + ' test rows');
    const job = await http.workerExecutor(pipeline.blueprint()).execute('prepare', { seed: 7 }, {});
    check(job.status === 'completed', 'prepare job in a worker: ' + JSON.stringify(job).slice(0, 200));
    const mobilenet = await pipeline.train({ seed: 42, kind: 'text-image-v1', params: { epochs: 1 } });
    const pictures = path.join(dataDir, 'image_test');
    const picture = readFileSync(path.join(pictures, readdirSync(pictures).sort()[0]));
    const online = await pipeline.predictProduct({ designation: 'Figurine Pop Vinyl', image: picture }, { model: mobilenet.model.version });
    check(online.usedImage, 'MobileNet model: the picture was not used');
    console.log('${format === 'esm' ? 'ESM' : 'CJS'}: load ' + load.status + ', naive Bayes validation weighted F1 ' + trained.model.validation.weightedF1.toFixed(4) +
      ', test weighted F1 ' + evaluation.metrics.weightedF1.toFixed(4) + ', ' + batch.count + ' predicted; worker job ' + job.status +
      '; text-image-v1 (' + mobilenet.model.backend + ', MobileNet) validation weighted F1 ' + mobilenet.model.validation.weightedF1.toFixed(4) + ', picture used');
  } finally {
    await pipeline.close();
  }
}
main().catch((error) => { console.error(error); process.exit(1); });
`;

/** Failed checks so far: independent checks go on after one fails, so that one run reports them all. */
const failures = [];

/** Runs one independent check, recording its failure instead of stopping. */
function step(name, check) {
  try {
    check();
  } catch (error) {
    if (!(error instanceof CheckFailed)) throw error;
    failures.push(name);
    console.log(`FAILED (${name}): ${error.message}`);
  }
}

/** `npm pack` of the repository (prepack builds), or the tarball given with `--tarball`. */
function pack(work) {
  const given = process.argv.indexOf('--tarball');
  if (given > 0) {
    const tarball = path.resolve(process.argv[given + 1] ?? fail('--tarball needs a file'));
    const listing = run('tar', ['tzf', tarball]).stdout.trim().split('\n');
    return { tarball, files: listing.map((f) => f.replace(/^package\//, '')).filter((f) => !f.endsWith('/')), summary: path.basename(tarball) };
  }
  // The build's own output comes first on stdout; the JSON report starts at the last line that is "[".
  const output = run('npm', ['pack', '--json', '--pack-destination', work], { cwd: ROOT }).stdout;
  const packed = JSON.parse(output.slice(output.lastIndexOf('\n[') + 1))[0];
  return {
    tarball: path.join(work, packed.filename),
    files: packed.files.map((f) => f.path),
    summary: `${packed.filename}: ${(packed.size / 1e6).toFixed(2)} MB packed, ${(packed.unpackedSize / 1e6).toFixed(2)} MB unpacked, ${packed.files.length} files`,
  };
}

async function main() {
  const work = mkdtempSync(path.join(os.tmpdir(), 'rakuten-pipeline-consumer-'));
  try {
    section('npm pack (prepack builds)');
    const { tarball, files, summary } = pack(work);
    console.log(summary);
    step('tarball contents', () => {
      // Every file package.json points at (exports, main, types, bin), the job worker, the weights.
      const manifest = JSON.parse(run('tar', ['-xzOf', tarball, 'package/package.json']).stdout);
      const targets = (value) => (typeof value === 'string' ? [value] : value && typeof value === 'object' ? Object.values(value).flatMap(targets) : []);
      const pointed = [manifest.main, manifest.types, ...targets(manifest.exports), ...targets(manifest.bin)].filter((f) => f && !f.endsWith('package.json'));
      const needed = [...new Set([...pointed.map((f) => path.posix.normalize(f)), 'dist/job-worker.js', 'weights/mobilenet_v2/model.json', 'weights/NOTICE.md', 'LICENSE'])];
      const missing = needed.filter((f) => !files.includes(f));
      if (missing.length) fail(`the tarball lacks ${missing.join(', ')}`);
      const stray = files.filter((f) => !/^(dist|weights)\/|^(package\.json|README\.md|CHANGELOG\.md|LICENSE)$/.test(f));
      if (stray.length) fail(`unexpected files in the tarball: ${stray.join(', ')}`);
    });

    section('publint and are-the-types-wrong');
    step('publint', () => console.log(run('npx', ['--no-install', 'publint', 'run', tarball, '--strict'], { cwd: ROOT }).output.trim()));
    // Profile node16: Node >= 20 and TypeScript's node16/nodenext/bundler modes read `exports`; the
    // legacy node10 mode cannot see subpaths such as ./testing without a typesVersions map. The
    // package is ES modules only: CommonJS code require()s it on Node >= 20.19 (run below) and
    // TypeScript >= 5.8 types that under nodenext (checked below), which attw still reports as
    // cjs-resolves-to-esm.
    step('attw', () => {
      const args = ['--no-install', 'attw', tarball, '--profile', 'node16', '--ignore-rules', 'cjs-resolves-to-esm', '--format', 'table-flipped'];
      console.log(run('npx', args, { cwd: ROOT, env: { FORCE_COLOR: '0' } }).output.trim());
    });

    section(`npm install of the tarball in ${work}/app`);
    const app = path.join(work, 'app');
    mkdirSync(app);
    writeFileSync(
      path.join(app, 'package.json'),
      // Native modules a user would allow to build (better-sqlite3 compiles where no prebuilt binary can be fetched).
      JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, allowScripts: { 'better-sqlite3': true, sharp: true } }, null, 2),
    );
    const install = run('npm', ['install', '--no-audit', '--no-fund', tarball], { cwd: app });
    const engineWarnings = [...install.output.matchAll(/EBADENGINE[^\n]*\n[^\n]*package: '([^']+)'[^\n]*\n[^\n]*required: ([^\n]+)/g)].map((m) => `${m[1]} (requires ${m[2].trim().replace(/,$/, '')})`);
    const scriptWarnings = install.output.split('\n').filter((line) => /install-scripts\s+\S+@\S+ \(/.test(line));
    const megabytes = diskMegabytes(path.join(app, 'node_modules'));
    const packages = readdirSync(path.join(app, 'node_modules')).length;
    console.log(`installed in ${install.seconds.toFixed(1)} s (npm cache as it is); node_modules ${megabytes.toFixed(0)} MB (${packages} top-level entries)`);
    if (scriptWarnings.length) console.log(`install scripts not covered by allowScripts:\n${scriptWarnings.join('\n')}`);
    console.log(`node_modules target <= ${MAX_NODE_MODULES_MB} MB: ${megabytes <= MAX_NODE_MODULES_MB ? 'met' : 'NOT MET'}`);
    step('engine warnings', () => {
      if (engineWarnings.length) fail(`engine warnings on Node ${process.version}: ${engineWarnings.join('; ')}`);
      console.log(`no engine warning on Node ${process.version}`);
    });
    step('node_modules size', () => {
      if (megabytes > MAX_NODE_MODULES_MB) fail(`node_modules is ${megabytes.toFixed(0)} MB, over ${MAX_NODE_MODULES_MB} MB`);
    });

    section('start-up (printed, not enforced)');
    const bare = medianSeconds('node', ['-e', '0'], { cwd: app });
    const imported = medianSeconds('node', ['--input-type=module', '-e', "await import('rakuten-pipeline')"], { cwd: app });
    const help = medianSeconds(path.join(app, 'node_modules/.bin/rakuten-pipeline'), ['--help'], { cwd: app });
    console.log(`node -e 0: ${bare.toFixed(2)} s; await import('rakuten-pipeline'): ${imported.toFixed(2)} s (+${(imported - bare).toFixed(2)} s); rakuten-pipeline --help: ${help.toFixed(2)} s (medians of 5)`);

    section('types: strict, skipLibCheck false');
    run('npm', ['install', '--no-audit', '--no-fund', '--save-dev', 'typescript@~5.9', '@types/node@^20'], { cwd: app });
    for (const name of ['use.mts', 'use.cts', 'use.ts']) writeFileSync(path.join(app, name), TYPESCRIPT_USE);
    for (const [name, config] of Object.entries(TSCONFIGS)) {
      step(`types (${name})`, () => {
        const file = `tsconfig.${name}.json`;
        const compilerOptions = { strict: true, skipLibCheck: false, noEmit: true, target: 'es2022', module: config.module, moduleResolution: config.moduleResolution, types: ['node'] };
        writeFileSync(path.join(app, file), JSON.stringify({ compilerOptions, files: config.files }, null, 2));
        run(path.join(app, 'node_modules/.bin/tsc'), ['-p', file], { cwd: app });
        console.log(`${config.module} + ${config.moduleResolution} (${config.files.join(', ')}): no errors`);
      });
    }

    section(`run time: demo catalogue (${ROWS} rows), then the pipeline from ESM and from CommonJS`);
    const data = path.join(work, 'data');
    console.log(run(path.join(app, 'node_modules/.bin/rakuten-pipeline'), ['demo-data', '--out', data, '--rows', String(ROWS)], { cwd: app }).stdout.trim());
    writeFileSync(path.join(app, 'pipeline.mjs'), pipelineScript('esm'));
    writeFileSync(path.join(app, 'pipeline.cjs'), pipelineScript('cjs'));
    for (const script of ['pipeline.mjs', 'pipeline.cjs']) {
      step(script, () => {
        const result = run('node', [script, data, path.join(work, `store-${script.split('.')[1]}`)], { cwd: app });
        console.log(`${result.stdout.trim().split('\n').at(-1)} (${result.seconds.toFixed(1)} s)`);
        const warnings = result.stderr.split('\n').filter((line) => /Warning/.test(line));
        if (warnings.length) console.log(`  its warnings: ${warnings.join(' | ')}`);
      });
    }

    if (failures.length) fail(`${failures.length} check(s) failed: ${failures.join(', ')}`);
    console.log('\nconsumer check passed');
  } finally {
    if (KEEP) console.log(`kept ${work}`);
    else rmSync(work, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(`\nconsumer check FAILED: ${error instanceof CheckFailed ? error.message : (error?.stack ?? error)}`);
  process.exit(1);
});
