/**
 * Full-scale benchmark: `npm run bench:scale [-- --rows N]` (issue 12).
 *
 * Generates once (cached outside the repository) a synthetic catalogue of N products with
 * 500 px JPEGs (default 85,000 + 8,500 test), runs every stage (load, prepare, train, evaluate,
 * predict) as its own CLI process under GNU time on a fresh embedded store, at N/8, N/2 and N,
 * and prints per stage: wall time, CPU time, throughput and peak RSS, then how CPU per unit and
 * memory grow with N, and the issue's targets beside the N row. The real folder
 * (../shared/data/rakuten or $RAKUTEN_DATA) is run the same way as a reference.
 *
 * Flags: --rows N (85000), --test-rows T (N/10), --sizes a,b,c (N/8,N/2,N), --seed S (42),
 * --image-size PX (500), --cache DIR, --real DIR, --skip-real, --only-real, --keep (keep the
 * stores), --json FILE.
 *
 * The smaller sizes are the first rows of the N catalogue (CSV prefixes, pictures hard-linked),
 * so only one catalogue is generated. The machine is usually shared: the load average is printed
 * at the start and end of each run, and CPU seconds are steadier than wall time.
 */
import { once } from 'node:events';
import { createReadStream, createWriteStream, existsSync, type WriteStream } from 'node:fs';
import { link, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { finished } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parse } from 'csv-parse';
import { DEMO_X_HEADER, DEMO_Y_HEADER, toCsvRow } from '../src/demo/generate-catalogue.js';
import { hasGnuTime, timedRun, type TimedResult } from './timed.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..');
const cli = path.join(repo, 'dist/cli.js');

/** The issue's targets at full size. */
const TARGET = { totalSeconds: 30 * 60, stageSeconds: 12 * 60, rssBytes: 4 * 1024 ** 3 } as const;

const STAGES = ['load', 'prepare', 'train', 'evaluate', 'predict'] as const;
type Stage = (typeof STAGES)[number];

/** One stage's figures. */
interface StageFigures {
  stage: Stage;
  exitCode: number | null;
  wallSeconds: number;
  cpuSeconds: number;
  maxRssBytes: number;
  /** What throughput counts (rows, images, training rows, products). */
  unit: string;
  units: number | null;
  perSecond: number | null;
}

/** One pipeline run (one catalogue). */
interface RunFigures {
  label: string;
  dataDir: string;
  trainRows: number | null;
  testRows: number | null;
  loadAverageStart: number[];
  loadAverageEnd: number[];
  stages: StageFigures[];
  totalWallSeconds: number;
  totalCpuSeconds: number;
  peakRssBytes: number;
  validationWeightedF1: number | null;
  testWeightedF1: number | null;
  tfBackend: string | null;
  complete: boolean;
}

// --- small helpers --------------------------------------------------------------------------

/** A number at a dotted path of a parsed JSON document, or null. */
function numberAt(doc: unknown, dotted: string): number | null {
  let v: unknown = doc;
  for (const key of dotted.split('.')) {
    if (v === null || typeof v !== 'object') return null;
    v = (v as Record<string, unknown>)[key];
  }
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

function stringAt(doc: unknown, dotted: string): string | null {
  let v: unknown = doc;
  for (const key of dotted.split('.')) {
    if (v === null || typeof v !== 'object') return null;
    v = (v as Record<string, unknown>)[key];
  }
  return typeof v === 'string' ? v : null;
}

/** Sum of the numbers of an object at a dotted path (a per-class count), or null. */
function sumAt(doc: unknown, dotted: string): number | null {
  let v: unknown = doc;
  for (const key of dotted.split('.')) {
    if (v === null || typeof v !== 'object') return null;
    v = (v as Record<string, unknown>)[key];
  }
  if (v === null || typeof v !== 'object') return null;
  const values = Object.values(v as Record<string, unknown>).filter((x): x is number => typeof x === 'number');
  return values.length > 0 ? values.reduce((a, b) => a + b, 0) : null;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

const loadavg = (): number[] => os.loadavg().map((x) => Math.round(x * 100) / 100);
const fmtLoad = (l: number[]): string => l.map((x) => x.toFixed(2)).join(' ');
const int = (n: number): string => Math.round(n).toLocaleString('en-US');
const mib = (b: number): string => `${int(b / 1048576)} MiB`;

function clock(seconds: number): string {
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${r}` : `${m}:${r}`;
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

// --- catalogues -----------------------------------------------------------------------------

const COMPLETE = '.complete.json';

/** Generates the catalogue into `dir` with the CLI, unless a completion marker says it is there. */
async function ensureCatalogue(dir: string, rows: number, testRows: number, seed: number, imageSize: number): Promise<TimedResult | null> {
  if (existsSync(path.join(dir, COMPLETE))) return null;
  // No marker: absent, or a generation that was stopped; start again from nothing.
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  console.log(`generating ${int(rows)} + ${int(testRows)} products with ${imageSize} px pictures into ${dir} ...`);
  const args = [cli, 'demo-data', '--out', dir, '--rows', String(rows), '--test-rows', String(testRows)];
  args.push('--seed', String(seed), '--image-fraction', '1', '--image-size', String(imageSize), '--json');
  const r = await timedRun(process.execPath, args, { inheritStderr: true });
  if (r.code !== 0) throw new Error(`demo-data exited with code ${String(r.code)}`);
  // Written last: a killed generation leaves no marker and is redone.
  await writeFile(path.join(dir, COMPLETE), JSON.stringify({ rows, testRows, seed, imageSize, generatedAt: new Date().toISOString() }) + '\n');
  return r;
}

class LineWriter {
  private readonly stream: WriteStream;
  constructor(file: string) {
    this.stream = createWriteStream(file, { encoding: 'utf8' });
  }
  async write(s: string): Promise<void> {
    if (!this.stream.write(s)) await once(this.stream, 'drain');
  }
  async close(): Promise<void> {
    this.stream.end();
    await finished(this.stream);
  }
}

/** Streams the records of a challenge CSV (header skipped), stopping after `limit`. */
async function* records(file: string, limit: number): AsyncGenerator<string[]> {
  if (limit <= 0) return;
  const parser = createReadStream(file).pipe(parse({ bom: true, relax_column_count: true, from_line: 2 }));
  let n = 0;
  try {
    for await (const record of parser as AsyncIterable<string[]>) {
      yield record;
      if (++n >= limit) break;
    }
  } finally {
    parser.destroy();
  }
}

/**
 * The first `rows` training and `testRows` test products of the catalogue in `full`, in `dir`:
 * the same CSV bytes (the generator's quoting), pictures hard-linked. Cached like the catalogue.
 */
async function ensureSubset(full: string, dir: string, rows: number, testRows: number): Promise<void> {
  if (existsSync(path.join(dir, COMPLETE))) return;
  await rm(dir, { recursive: true, force: true });
  await mkdir(path.join(dir, 'image_train'), { recursive: true });
  await mkdir(path.join(dir, 'image_test'), { recursive: true });
  const linkImage = async (folder: string, record: string[]): Promise<void> => {
    const name = `image_${record[4] ?? ''}_product_${record[3] ?? ''}.jpg`;
    try {
      await link(path.join(full, folder, name), path.join(dir, folder, name));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e; // a product without a picture
    }
  };
  const kept = new Set<string>();
  for (const [file, folder, limit] of [
    ['X_train_update.csv', 'image_train', rows],
    ['X_test_update.csv', 'image_test', testRows],
  ] as const) {
    const out = new LineWriter(path.join(dir, file));
    await out.write(DEMO_X_HEADER + '\n');
    for await (const record of records(path.join(full, file), limit)) {
      await out.write(toCsvRow(record));
      if (folder === 'image_train') kept.add(record[0] ?? '');
      await linkImage(folder, record);
    }
    await out.close();
  }
  const y = new LineWriter(path.join(dir, 'Y_train_CVw08PX.csv'));
  await y.write(DEMO_Y_HEADER + '\n');
  for await (const record of records(path.join(full, 'Y_train_CVw08PX.csv'), Number.MAX_SAFE_INTEGER)) {
    if (kept.has(record[0] ?? '')) await y.write(toCsvRow(record));
  }
  await y.close();
  await writeFile(path.join(dir, COMPLETE), JSON.stringify({ prefixOf: full, rows, testRows }) + '\n');
}

// --- pipeline runs --------------------------------------------------------------------------

/** Runs every stage on `dataDir` into a fresh store; stops at the first failing stage. */
async function runPipeline(label: string, dataDir: string, keep: boolean): Promise<RunFigures> {
  const storeParent = await mkdtemp(path.join(os.tmpdir(), 'rp-scale-'));
  const store = path.join(storeParent, 'store');
  const run: RunFigures = {
    label,
    dataDir,
    trainRows: null,
    testRows: null,
    loadAverageStart: loadavg(),
    loadAverageEnd: [],
    stages: [],
    totalWallSeconds: 0,
    totalCpuSeconds: 0,
    peakRssBytes: 0,
    validationWeightedF1: null,
    testWeightedF1: null,
    tfBackend: null,
    complete: false,
  };
  console.log(`\n== ${label}: ${dataDir} (load average ${fmtLoad(run.loadAverageStart)})`);
  const argsOf: Record<Stage, string[]> = {
    load: ['load', '--data', dataDir],
    prepare: ['prepare'],
    train: ['train'],
    evaluate: ['evaluate', '--report', path.join(storeParent, 'evaluation.html')],
    predict: ['predict'],
  };
  try {
    for (const stage of STAGES) {
      process.stdout.write(`   ${stage} ... `);
      const r = await timedRun(process.execPath, [cli, ...argsOf[stage], '--store', store, '--json'], { cwd: storeParent });
      const doc = parseJson(r.stdout);
      const figures = stageFigures(stage, r, doc);
      run.stages.push(figures);
      if (stage === 'load') {
        run.trainRows = numberAt(doc, 'rows.train.stored');
        run.testRows = numberAt(doc, 'rows.test.stored');
      }
      if (stage === 'train') {
        run.validationWeightedF1 = numberAt(doc, 'model.validation.weightedF1');
        run.tfBackend = stringAt(doc, 'model.backend');
      }
      if (stage === 'evaluate') run.testWeightedF1 = numberAt(doc, 'metrics.weightedF1');
      const rate = figures.perSecond === null ? '' : `, ${figures.perSecond.toFixed(1)} ${figures.unit}/s`;
      console.log(`${clock(r.wallSeconds)} wall, ${r.cpuSeconds.toFixed(1)} CPU-s, ${mib(r.maxRssBytes)}${rate}`);
      if (r.code !== 0) {
        console.log(`   ${stage} exited with code ${String(r.code)}; the run stops here. Last lines of its stderr:`);
        console.log(r.stderr.trim().split('\n').slice(-15).map((l) => `     ${l}`).join('\n'));
        return run;
      }
    }
    run.complete = true;
    return run;
  } finally {
    run.loadAverageEnd = loadavg();
    run.totalWallSeconds = run.stages.reduce((s, f) => s + f.wallSeconds, 0);
    run.totalCpuSeconds = run.stages.reduce((s, f) => s + f.cpuSeconds, 0);
    run.peakRssBytes = Math.max(0, ...run.stages.map((f) => f.maxRssBytes));
    if (keep) console.log(`   store kept: ${store}`);
    else await rm(storeParent, { recursive: true, force: true });
  }
}

function stageFigures(stage: Stage, r: TimedResult, doc: unknown): StageFigures {
  let unit: string;
  let units: number | null;
  switch (stage) {
    case 'load': {
      unit = 'rows';
      const train = numberAt(doc, 'rows.train.stored');
      const test = numberAt(doc, 'rows.test.stored');
      units = train === null || test === null ? null : train + test;
      break;
    }
    case 'prepare':
      unit = 'images';
      units = numberAt(doc, 'images.processed');
      break;
    case 'train':
      unit = 'train rows';
      units = sumAt(doc, 'model.dataDistribution.train');
      break;
    case 'evaluate':
      unit = 'products';
      units = numberAt(doc, 'metrics.count');
      break;
    case 'predict':
      unit = 'products';
      units = numberAt(doc, 'count');
      break;
  }
  const ok = r.code === 0 && units !== null && r.wallSeconds > 0;
  return {
    stage,
    exitCode: r.code,
    wallSeconds: r.wallSeconds,
    cpuSeconds: r.cpuSeconds,
    maxRssBytes: r.maxRssBytes,
    unit,
    units: r.code === 0 ? units : null,
    perSecond: ok && units !== null ? units / r.wallSeconds : null,
  };
}

// --- report ---------------------------------------------------------------------------------

function f1(x: number | null): string {
  return x === null ? '—' : x.toFixed(4);
}

function printRun(run: RunFigures): void {
  const rows = run.stages.map((s) => [
    s.stage + (s.exitCode === 0 ? '' : ` (exit ${String(s.exitCode)})`),
    clock(s.wallSeconds),
    s.cpuSeconds.toFixed(1),
    (s.cpuSeconds / Math.max(s.wallSeconds, 1e-9)).toFixed(2),
    s.units === null ? '—' : `${int(s.units)} ${s.unit}`,
    s.perSecond === null ? '—' : `${s.perSecond.toFixed(1)}/s`,
    s.units === null || s.units === 0 ? '—' : `${((s.cpuSeconds * 1000) / s.units).toFixed(1)} ms`,
    mib(s.maxRssBytes),
  ]);
  rows.push(['total', clock(run.totalWallSeconds), run.totalCpuSeconds.toFixed(1), '', '', '', '', mib(run.peakRssBytes)]);
  console.log(`\n${run.label}: ${run.trainRows === null ? '?' : int(run.trainRows)} training + ${run.testRows === null ? '?' : int(run.testRows)} test rows`);
  console.log(`load average ${fmtLoad(run.loadAverageStart)} at start, ${fmtLoad(run.loadAverageEnd)} at end`);
  console.log(table(['stage', 'wall', 'CPU-s', 'CPU/wall', 'units', 'throughput', 'CPU/unit', 'peak RSS'], rows));
  console.log(`validation weighted F1 ${f1(run.validationWeightedF1)}, test (held-out split) weighted F1 ${f1(run.testWeightedF1)}`);
}

/**
 * How CPU and peak RSS grow with N. Per-unit CPU includes each process's fixed start-up (the
 * runtime, the model), which flatters large N; the marginal CPU per unit between two sizes,
 * (CPU_b - CPU_a) / (units_b - units_a), does not: linear growth keeps it constant, so its ratio
 * from the first interval to the last is the verdict (1.3x leaves room for a shared machine's noise).
 */
function printGrowth(runs: RunFigures[]): void {
  if (runs.length < 2) return;
  const sizes = runs.map((r) => int(r.trainRows ?? 0));
  const intervals = runs.slice(1).map((r, i) => `${sizes[i] ?? ''}->${int(r.trainRows ?? 0)}`);
  const header = ['stage', ...sizes.map((s) => `CPU/unit @${s}`), ...intervals.map((s) => `marginal ${s}`), 'verdict', ...sizes.map((s) => `RSS @${s}`)];
  const rows: string[][] = [];
  for (const stage of STAGES) {
    const figures = runs.map((r) => r.stages.find((x) => x.stage === stage && x.units !== null && x.units > 0));
    const per = figures.map((f) => (f === undefined || f.units === null ? null : f.cpuSeconds / f.units));
    const marginal = figures.slice(1).map((b, i) => {
      const a = figures[i];
      if (a === undefined || b === undefined || a.units === null || b.units === null || b.units <= a.units) return null;
      return (b.cpuSeconds - a.cpuSeconds) / (b.units - a.units);
    });
    const first = marginal[0];
    const last = marginal.at(-1);
    let verdict = '—';
    const a0 = figures[0];
    const a1 = figures[1];
    // Below ~10 CPU-s of extra work, start-up and the machine's noise decide the marginal figure.
    if (a0 !== undefined && a1 !== undefined && a1.cpuSeconds - a0.cpuSeconds < 10) verdict = 'too small to tell';
    else if (marginal.length >= 2 && first != null && last != null && first > 0) {
      const ratio = last / first;
      verdict = `x${ratio.toFixed(2)} ${ratio <= 1.3 ? 'linear' : 'grows faster than N'}`;
    }
    const ms = (x: number | null | undefined): string => (x == null ? '—' : `${(x * 1000).toFixed(2)} ms`);
    rows.push([stage, ...per.map(ms), ...marginal.map(ms), verdict, ...figures.map((f) => (f === undefined ? '—' : mib(f.maxRssBytes)))]);
  }
  console.log(`\ngrowth with N (CPU per unit; marginal = extra CPU per extra unit between sizes, constant when linear):`);
  console.log(table(header, rows));
}

function printTargets(run: RunFigures, atFullSize: boolean): void {
  const worst = run.stages.reduce<StageFigures | undefined>((w, s) => (w === undefined || s.wallSeconds > w.wallSeconds ? s : w), undefined);
  const mark = (ok: boolean): string => (ok ? 'MET' : 'NOT MET');
  console.log(`\ntargets (issue 12, for 85,000 products) beside ${run.label}${atFullSize ? '' : ' — smaller than the full catalogue, indicative only'}:`);
  console.log(`  whole pipeline ${clock(run.totalWallSeconds)} wall (target < 30:00): ${mark(run.complete && run.totalWallSeconds < TARGET.totalSeconds)}`);
  console.log(`  slowest stage ${worst?.stage ?? '—'} ${clock(worst?.wallSeconds ?? 0)} (target < 12:00 each): ${mark(run.complete && (worst?.wallSeconds ?? 0) < TARGET.stageSeconds)}`);
  console.log(`  peak RSS ${mib(run.peakRssBytes)} (target < 4,096 MiB): ${mark(run.peakRssBytes < TARGET.rssBytes)}`);
}

async function machine(): Promise<Record<string, string>> {
  const require = createRequire(import.meta.url);
  const sharp = (await import('sharp')).default;
  let tfNode = 'not installed';
  try {
    require.resolve('@tensorflow/tfjs-node');
    tfNode = 'installed';
  } catch {
    // optional peer dependency
  }
  const pkg = JSON.parse(await readFile(path.join(repo, 'package.json'), 'utf8')) as { version: string };
  return {
    cores: `${os.availableParallelism()} (${os.cpus()[0]?.model ?? 'unknown CPU'})`,
    memory: mib(os.totalmem()),
    node: process.version,
    'rakuten-pipeline': pkg.version,
    'tfjs-node': tfNode,
    RAKUTEN_TF_BACKEND: process.env['RAKUTEN_TF_BACKEND'] ?? '(unset)',
    'image backend': `sharp ${sharp.versions.sharp ?? '?'} / libvips ${sharp.versions.vips}`,
  };
}

// --- main -----------------------------------------------------------------------------------

function positiveInt(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a positive integer, got ${value}`);
  return n;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rows: { type: 'string' },
      'test-rows': { type: 'string' },
      sizes: { type: 'string' },
      seed: { type: 'string' },
      'image-size': { type: 'string' },
      cache: { type: 'string' },
      real: { type: 'string' },
      'skip-real': { type: 'boolean', default: false },
      'only-real': { type: 'boolean', default: false },
      keep: { type: 'boolean', default: false },
      json: { type: 'string' },
    },
  });
  const rows = positiveInt('rows', values.rows, 85_000);
  const testRows = values['test-rows'] === undefined ? Math.round(rows / 10) : Number(values['test-rows']);
  if (!Number.isInteger(testRows) || testRows < 0) throw new Error(`--test-rows must be an integer >= 0, got ${String(values['test-rows'])}`);
  const sizes = (values.sizes ?? `${Math.round(rows / 8)},${Math.round(rows / 2)},${rows}`)
    .split(',')
    .map((s) => positiveInt('sizes', s.trim(), 0))
    .sort((a, b) => a - b);
  if (sizes.some((s) => s > rows)) throw new Error(`--sizes cannot exceed --rows (${rows})`);
  const seed = values.seed === undefined ? 42 : Number(values.seed);
  const imageSize = positiveInt('image-size', values['image-size'], 500);
  const cacheRoot = path.resolve(values.cache ?? path.join(process.env['XDG_CACHE_HOME'] ?? path.join(os.homedir(), '.cache'), 'rakuten-pipeline', 'scale'));
  const realDir = path.resolve(values.real ?? process.env['RAKUTEN_DATA'] ?? path.join(repo, '../shared/data/rakuten'));
  if (values['skip-real'] && values['only-real']) throw new Error('--skip-real and --only-real exclude each other');
  if (!hasGnuTime()) throw new Error('GNU time (/usr/bin/time) is required: install the Debian package "time"');
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run npm run build (npm run bench:scale does)`);

  const info = await machine();
  console.log('scale benchmark (issue 12): every stage as its own CLI process under GNU time, fresh embedded store per run');
  for (const [k, v] of Object.entries(info)) console.log(`  ${k}: ${v}`);
  console.log(`  load average at start: ${fmtLoad(loadavg())}`);

  const synthetic: RunFigures[] = [];
  let generation: { seconds: number; cpuSeconds: number; maxRssBytes: number; images: number } | null = null;
  if (!values['only-real']) {
    const full = path.join(cacheRoot, `${rows}-${testRows}-${seed}${imageSize === 500 ? '' : `-${imageSize}px`}`);
    const g = await ensureCatalogue(full, rows, testRows, seed, imageSize);
    if (g === null) console.log(`catalogue reused from the cache: ${full}`);
    else {
      const images = rows + testRows;
      generation = { seconds: g.wallSeconds, cpuSeconds: g.cpuSeconds, maxRssBytes: g.maxRssBytes, images };
      console.log(`generated in ${clock(g.wallSeconds)} (${g.cpuSeconds.toFixed(1)} CPU-s, ${(images / g.wallSeconds).toFixed(0)} pictures/s, peak RSS ${mib(g.maxRssBytes)})`);
    }
    for (const n of sizes) {
      const t = Math.round((n * testRows) / rows);
      const dir = n === rows ? full : `${full}.first-${n}-${t}`;
      if (n !== rows) await ensureSubset(full, dir, n, t);
      synthetic.push(await runPipeline(`synthetic N=${int(n)}`, dir, values.keep));
    }
  }
  let real: RunFigures | null = null;
  if (!values['skip-real']) {
    if (existsSync(path.join(realDir, 'X_train_update.csv'))) real = await runPipeline('real folder', realDir, values.keep);
    else console.log(`\nreal folder not found at ${realDir}: skipped (--real DIR or RAKUTEN_DATA)`);
  }

  console.log('\n================ results ================');
  for (const [k, v] of Object.entries(info)) console.log(`${k}: ${v}`);
  const backends = [...new Set([...synthetic, ...(real ? [real] : [])].map((r) => r.tfBackend).filter((b): b is string => b !== null))];
  console.log(`TF backend used by train: ${backends.join(', ') || '—'}`);
  if (generation !== null) console.log(`catalogue generation: ${clock(generation.seconds)} wall, ${generation.cpuSeconds.toFixed(1)} CPU-s, ${(generation.images / generation.seconds).toFixed(0)} pictures/s, peak RSS ${mib(generation.maxRssBytes)}`);
  for (const run of synthetic) printRun(run);
  printGrowth(synthetic.filter((r) => r.complete || r.stages.length > 0));
  const largest = synthetic.at(-1);
  if (largest !== undefined) printTargets(largest, (largest.trainRows ?? 0) >= 85_000);
  if (real !== null) printRun(real);

  if (values.json !== undefined) {
    const out = { machine: info, targets: TARGET, generation, synthetic, real, finishedAt: new Date().toISOString() };
    await writeFile(path.resolve(values.json), JSON.stringify(out, null, 2) + '\n');
    console.log(`\nfigures written to ${path.resolve(values.json)}`);
  }
}

await main();
