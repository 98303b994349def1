/**
 * Text-side scaling benchmark of the built-in model: `npm run bench:text-scale [-- options]`.
 *
 * For each N: a synthetic catalogue of N products from the demo generator (text only, written to
 * a temporary folder and read back), preprocessed with the pipeline's `Preprocessor`, split 80 %
 * train / 10 % validation (the rest unused), then, in a fresh child process per run (so each peak
 * RSS is its own): the vectoriser alone (fit, transform) and `textImageModel.train` with
 * `{ image: false }` (epochs with validation scoring, refit), with wall and CPU seconds and
 * heap/RSS per phase.
 *
 * Options: `--sizes 10000,40000,85000` (default `10000`), `--reference <dir>` (a checkout of
 * another version, e.g. main, whose `src/` is run the same way as the reference, at the sizes of
 * `--reference-sizes`, default the first size), `--seed 42`.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parse } from 'csv-parse/sync';

const here = path.dirname(fileURLToPath(import.meta.url));
const argv = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
};

interface BenchInput {
  designation: string;
  description: string;
  designationTokens: string[];
  descriptionTokens: string[];
  image: null;
}

/** N products of the demo generator's text, preprocessed; cached per N and seed in the temp folder. */
async function products(n: number, seed: number): Promise<string> {
  const file = path.join(os.tmpdir(), `rp-text-scale-${n}-${seed}.json`);
  if (existsSync(file)) return file;
  const { generateDemoCatalogue } = await import('../src/demo/generate-catalogue.js');
  const { Preprocessor } = await import('../src/stages/preprocess/preprocessor.js');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rp-text-scale-'));
  try {
    await generateDemoCatalogue({ outDir: dir, rows: n, testRows: 0, seed, imageFraction: 0 });
    const x = parse(readFileSync(path.join(dir, 'X_train_update.csv')), { bom: true }) as string[][];
    const y = parse(readFileSync(path.join(dir, 'Y_train_CVw08PX.csv')), { bom: true }) as string[][];
    const text = new Preprocessor().text;
    const inputs: BenchInput[] = [];
    const labels: number[] = [];
    x.slice(1).forEach((row, i) => {
      const t = text.prepare({ designation: row[1] ?? '', description: row[2] ?? '' });
      inputs.push({
        designation: t.designation,
        description: t.description,
        designationTokens: t.designationTokens,
        descriptionTokens: t.descriptionTokens,
        image: null,
      });
      labels.push(Number(y[i + 1]?.[1]));
    });
    writeFileSync(file, JSON.stringify({ inputs, labels }));
    return file;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Figures of one phase. */
interface Phase {
  name: string;
  wall: number;
  cpu: number;
  heapMiB: number;
  rssMiB: number;
}

function format(p: Phase): string {
  return `${p.name.padEnd(58)} ${p.wall.toFixed(1).padStart(7)} s wall ${p.cpu.toFixed(1).padStart(7)} s CPU  heap ${p.heapMiB.toFixed(0).padStart(5)} MiB  RSS ${p.rssMiB.toFixed(0).padStart(5)} MiB`;
}

/** Child: runs the vectoriser and the training of the code at `root` on the cached products. */
async function child(root: string, file: string): Promise<void> {
  const src = (p: string) => pathToFileURL(path.join(root, 'src', p)).href;
  const features = (await import(src('models/text-features.ts'))) as Record<string, unknown>;
  const { textImageModel } = (await import(src('models/text-image-model.ts'))) as typeof import('../src/models/text-image-model.js');
  const { weightedF1Scorer } = (await import(src('stages/evaluate/score.ts'))) as typeof import('../src/stages/evaluate/score.js');
  const data = JSON.parse(readFileSync(file, 'utf8')) as { inputs: BenchInput[]; labels: number[] };
  const n = data.inputs.length;
  const nTrain = Math.round(n * 0.8);
  const nVal = Math.round(n * 0.1);
  const train = { inputs: data.inputs.slice(0, nTrain), labels: data.labels.slice(0, nTrain) };
  const val = { inputs: data.inputs.slice(nTrain, nTrain + nVal), labels: data.labels.slice(nTrain, nTrain + nVal) };
  const test = { inputs: data.inputs.slice(nTrain + nVal), labels: data.labels.slice(nTrain + nVal) };
  const phases: Phase[] = [];
  let wall = performance.now();
  let cpu = process.cpuUsage();
  const mark = (name: string): void => {
    const now = performance.now();
    const c = process.cpuUsage(cpu);
    const m = process.memoryUsage();
    const phase = { name, wall: (now - wall) / 1000, cpu: (c.user + c.system) / 1e6, heapMiB: m.heapUsed / 2 ** 20, rssMiB: m.rss / 2 ** 20 };
    phases.push(phase);
    // Progress as it comes (a long run's figures survive an interruption).
    process.stderr.write(`  [N=${n}] ${format(phase)}\n`);
    wall = now;
    cpu = process.cpuUsage();
  };

  // The vectoriser alone, through whichever API the code has (old: fit + counts; new: fit + transformAll).
  const Vectorizer = features['TextVectorizer'] as {
    fit(inputs: readonly BenchInput[]): unknown;
  };
  const fitted = Vectorizer.fit(train.inputs) as
    | { vectorizer: { size: number; transformCounts(c: unknown): unknown }; counts: unknown[] }
    | { size: number; transformAll(inputs: readonly BenchInput[]): unknown[] };
  mark('vectoriser fit');
  let featureCount: number;
  if ('counts' in fitted) {
    featureCount = fitted.vectorizer.size;
    const X = fitted.counts.map((c) => fitted.vectorizer.transformCounts(c));
    mark(`vectoriser transform (${X.length} rows)`);
  } else {
    featureCount = fitted.size;
    const X = fitted.transformAll(train.inputs);
    mark(`vectoriser transform (${X.length} rows)`);
  }

  global.gc?.();
  mark('(gc)');
  let epochs = 0;
  const model = await textImageModel.train(train.inputs, train.labels, {
    seed: 42,
    params: { image: false },
    validation: { ...val, score: weightedF1Scorer(val.labels) },
    onEpoch: (r) => {
      epochs = r.epoch;
      mark(`train: ${r.epoch === 1 ? 'fit + transform + ' : ''}epoch ${r.epoch} (val F1 ${r.valWeightedF1.toFixed(4)})`);
    },
  });
  mark('train: held-out scoring + refit + quantise');
  const probabilities = await model.predict(test.inputs);
  let correct = 0;
  probabilities.forEach((p, i) => {
    let best = 0;
    for (let k = 1; k < p.length; k++) if ((p[k] as number) > (p[best] as number)) best = k;
    if (model.classes[best] === test.labels[i]) correct++;
  });
  mark(`predict ${test.inputs.length} unused rows (accuracy ${(correct / Math.max(1, test.inputs.length)).toFixed(4)})`);
  const peak = process.resourceUsage().maxRSS / 1024;
  process.stdout.write(JSON.stringify({ n, nTrain, nVal, featureCount, epochs, phases, peakRssMiB: peak }) + '\n');
}

async function main(): Promise<void> {
  const childRoot = flag('child-root');
  if (childRoot) return child(childRoot, flag('file') as string);
  const sizes = (flag('sizes') ?? '10000').split(',').map(Number);
  const reference = flag('reference');
  const referenceSizes = (flag('reference-sizes') ?? String(sizes[0])).split(',').map(Number);
  const seed = Number(flag('seed') ?? 42);
  const me = path.resolve(here, '..');
  console.log(`text-scale benchmark on ${os.cpus().length} cores, Node ${process.version}, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const runs: [string, string, number][] = sizes.map((n) => ['this code', me, n]);
  if (reference) for (const n of referenceSizes) runs.push([`reference ${reference}`, path.resolve(reference), n]);
  for (const [label, root, n] of runs) {
    const file = await products(n, seed);
    const t0 = performance.now();
    const out = execFileSync(
      process.execPath,
      ['--expose-gc', '--import', 'tsx', fileURLToPath(import.meta.url), '--child-root', root, '--file', file],
      { encoding: 'utf8', maxBuffer: 1 << 26, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const r = JSON.parse(out.trim().split('\n').pop() as string) as {
      n: number; nTrain: number; nVal: number; featureCount: number; epochs: number; phases: Phase[]; peakRssMiB: number;
    };
    const trainPhases = r.phases.filter((p) => p.name.startsWith('train'));
    const trainWall = trainPhases.reduce((s, p) => s + p.wall, 0);
    const trainCpu = trainPhases.reduce((s, p) => s + p.cpu, 0);
    console.log(
      `\n${label}: N = ${r.n} (train ${r.nTrain}, validation ${r.nVal}), ${r.featureCount} features, ${r.epochs} epochs; ` +
        `load average ${os.loadavg()[0]?.toFixed(2)}; child ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );
    for (const p of r.phases) console.log(`  ${format(p)}`);
    console.log(`  whole training: ${trainWall.toFixed(1)} s wall, ${trainCpu.toFixed(1)} s CPU; peak RSS ${r.peakRssMiB.toFixed(0)} MiB`);
  }
}

await main();
