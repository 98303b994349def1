/**
 * Load throughput benchmark: `npm run bench:load [-- --rows 100000]`.
 *
 * Measures, each in its own process so peak RSS is per case:
 *  1. loading the real challenge folder (../shared/data/rakuten or RAKUTEN_DATA) into a fresh embedded store;
 *  2. raw csv-parse speed on a generated 100,000-row X_train_update.csv (the reference);
 *  3. loading that generated folder into a fresh embedded store, compared with (2).
 * RSS is sampled during each load to show whether memory stays flat while the CSV streams.
 */
import { createPipeline } from '../src/pipeline/pipeline.js';
import { execFileSync } from 'node:child_process';
import { createReadStream, existsSync } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse';
import { generateDemoCatalogue } from '../src/demo/generate-catalogue.js';
import { CHALLENGE_CSV_OPTIONS } from '../src/stages/load/csv.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const realDir = process.env['RAKUTEN_DATA'] ?? path.resolve(here, '../../shared/data/rakuten');

interface CaseResult {
  name: string;
  seconds: number;
  rows: number;
  images: number;
  peakRssMb: number;
  rssSamplesMb: number[];
}

const mb = (b: number) => Math.round(b / 1048576);

/** Runs inside a child: one measured case, printed as JSON on the last line. */
async function runCase(kind: string, dir: string): Promise<void> {
  const samples: number[] = [];
  const timer = setInterval(() => samples.push(mb(process.memoryUsage.rss())), 250);
  const t0 = performance.now();
  let rows = 0;
  let images = 0;
  if (kind === 'raw') {
    const parser = createReadStream(path.join(dir, 'X_train_update.csv')).pipe(parse(CHALLENGE_CSV_OPTIONS));
    for await (const _ of parser) rows++;
    rows -= 1; // header
  } else {
    const storeDir = await mkdtemp(path.join(os.tmpdir(), 'rp-bench-store-'));
    const pipeline = await createPipeline({ store: storeDir });
    const run = await pipeline.load({ dataDir: dir });
    rows = run.rows.train.stored + run.rows.test.stored;
    images = run.images.train.withImage + run.images.test.withImage;
    await pipeline.close();
    await rm(storeDir, { recursive: true, force: true });
  }
  const seconds = (performance.now() - t0) / 1000;
  clearInterval(timer);
  const result: CaseResult = {
    name: kind,
    seconds,
    rows,
    images,
    peakRssMb: mb(process.resourceUsage().maxRSS * 1024),
    rssSamplesMb: samples,
  };
  console.log(JSON.stringify(result));
}

function child(kind: string, dir: string): CaseResult {
  const out = execFileSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--case', kind, dir], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const last = out.trim().split('\n').at(-1) ?? '{}';
  return JSON.parse(last) as CaseResult;
}

function line(label: string, r: CaseResult): string {
  const rate = (r.rows / r.seconds).toFixed(0);
  const img = r.images ? `, ${(r.images / r.seconds).toFixed(0)} images/s` : '';
  const flat = r.rssSamplesMb.length > 0 ? `, RSS during run ${Math.min(...r.rssSamplesMb)}..${Math.max(...r.rssSamplesMb)} MB` : '';
  return `${label.padEnd(34)} ${r.rows.toLocaleString('en-US').padStart(8)} rows in ${r.seconds.toFixed(2)} s = ${rate} rows/s${img}; peak RSS ${r.peakRssMb} MB${flat}`;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args[0] === '--case') return runCase(args[1] ?? '', args[2] ?? '');
  const rowsArg = args.indexOf('--rows');
  const rows = rowsArg >= 0 ? Number(args[rowsArg + 1]) : 100_000;
  console.log(`load benchmark on ${os.cpus().length} cores, Node ${process.version}`);

  if (existsSync(path.join(realDir, 'X_train_update.csv'))) {
    console.log(line('real folder -> embedded store', child('load', realDir)));
  } else console.log(`real folder not found at ${realDir}: skipped (set RAKUTEN_DATA)`);

  const synth = await mkdtemp(path.join(os.tmpdir(), 'rp-bench-data-'));
  try {
    await generateDemoCatalogue({ outDir: synth, rows, testRows: 0, imageFraction: 0 });
    const size = (await stat(path.join(synth, 'X_train_update.csv'))).size;
    console.log(`generated ${rows.toLocaleString('en-US')}-row X_train_update.csv (${mb(size)} MB, synthetic)`);
    const raw = child('raw', synth);
    const load = child('load', synth);
    console.log(line('raw csv-parse (reference)', raw));
    console.log(line('load -> embedded store', load));
    const ratio = load.rows / load.seconds / (raw.rows / raw.seconds);
    console.log(`load speed = ${(ratio * 100).toFixed(0)}% of raw parse speed (target >= 50%): ${ratio >= 0.5 ? 'MET' : 'NOT MET'}`);
  } finally {
    await rm(synth, { recursive: true, force: true });
  }
  // Flat memory: three times the rows should not need three times the memory (the CSV streams;
  // only per-row ids are kept for the joins and duplicate checks).
  const big = await mkdtemp(path.join(os.tmpdir(), 'rp-bench-data-'));
  try {
    await generateDemoCatalogue({ outDir: big, rows: rows * 3, testRows: 0, imageFraction: 0 });
    const load3 = child('load', big);
    console.log(line(`load ${(rows * 3).toLocaleString('en-US')} rows -> embedded store`, load3));
  } finally {
    await rm(big, { recursive: true, force: true });
  }
}

await main();
