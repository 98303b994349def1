/**
 * Batch prediction spread over queue workers: `npm run bench:queue [-- --test-rows N]` (issue 13).
 *
 * On a demo catalogue (default 300 labelled rows, 6,000 test rows, 80% with a 500 px JPEG) in a
 * fresh embedded store, trains the default text-image model, then predicts every stored test row:
 *
 * 1. in this process (`pipeline.predict`, the reference: no queue, no Redis);
 * 2. through a BullMQ queue on a Redis of its own with 1 `rakuten-pipeline worker` process;
 * 3. the same with 2 worker processes.
 *
 * Each figure is the wall time from the job's start to its final record, with every picture's
 * image features already stored (a first, unmeasured prediction computes them), so all three
 * do the same work. Prints products per second side by side, and the speed-up of 2 workers over 1.
 * Flags: --rows N (300), --test-rows N (6000), --chunk-rows N (default: the workers' own choice),
 * --repeat R (2: the best of R runs per setting).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { generateDemoCatalogue } from '../src/demo/generate-catalogue.js';
import { bullmqQueue } from '../src/http/jobs/bullmq.js';
import { inlineExecutor } from '../src/http/jobs/executor.js';
import { isFinal, JobManager } from '../src/http/jobs/manager.js';
import { createPipeline } from '../src/pipeline/pipeline.js';
import { startRedis } from '../test/support/redis.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: { rows: { type: 'string', default: '300' }, 'test-rows': { type: 'string', default: '6000' }, 'chunk-rows': { type: 'string' }, repeat: { type: 'string', default: '2' } },
});
const rows = Number(values.rows);
const testRows = Number(values['test-rows']);
const repeat = Number(values.repeat);
const load = () => os.loadavg()[0]!.toFixed(2);
const say = (line: string) => process.stdout.write(`${line}\n`);

const work = await mkdtemp(path.join(os.tmpdir(), 'rp-bench-queue-'));
const store = path.join(work, 'store');
const procs: ChildProcess[] = [];
try {
  say(`bench:queue — ${rows} labelled rows, ${testRows} test rows; ${os.cpus().length} cores; load ${load()}`);
  const data = await generateDemoCatalogue({ outDir: path.join(work, 'data'), rows, testRows, imageSize: 500 });
  const pipeline = await createPipeline({ store });
  await pipeline.load({ dataDir: data.outDir });
  await pipeline.prepare({});
  const { model } = await pipeline.train({});
  say(`trained v${model.version} (${model.kind}); validation weighted F1 ${model.validation.weightedF1.toFixed(4)}`);
  // Unmeasured: computes and stores every test picture's image features once.
  await pipeline.predict({ model: model.version });

  const best = (xs: number[]) => Math.min(...xs);
  const inProcess: number[] = [];
  for (let i = 0; i < repeat; i++) {
    const t0 = performance.now();
    const s = await pipeline.predict({ model: model.version });
    inProcess.push((performance.now() - t0) / 1000);
    if (s.count !== testRows) throw new Error(`predicted ${s.count} rows, expected ${testRows}`);
  }

  const redis = await startRedis();
  const queue = await bullmqQueue(redis.url);
  const jobs = new JobManager(pipeline.store.documents, { executor: inlineExecutor(pipeline), queue });
  await jobs.init();
  const startWorker = async () => {
    const child = spawn(
      process.execPath,
      [path.join(repo, 'dist/cli.js'), 'worker', '--store', store, '--queue', redis.url, ...(values['chunk-rows'] ? ['--chunk-rows', values['chunk-rows']] : [])],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    procs.push(child);
    await new Promise<void>((resolve, reject) => {
      child.stdout!.setEncoding('utf8').on('data', (s: string) => s.includes('worker ready') && resolve());
      child.once('exit', (code) => reject(new Error(`worker exited with ${code}`)));
    });
  };
  const queued = async () => {
    const t0 = performance.now();
    const job = await jobs.start('predict', { model: model.version });
    for (;;) {
      const now = await jobs.get(job._id);
      if (now && isFinal(now.state)) {
        if (now.state !== 'succeeded') throw new Error(`predict job ${now.state}: ${now.error?.message}`);
        const r = now.result as { count: number; chunks?: number };
        if (r.count !== testRows) throw new Error(`predicted ${r.count} rows, expected ${testRows}`);
        return { seconds: (performance.now() - t0) / 1000, chunks: r.chunks ?? 1 };
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const figures: { label: string; seconds: number; chunks?: number }[] = [{ label: 'in process (no queue)', seconds: best(inProcess) }];
  for (const workers of [1, 2]) {
    while (procs.length < workers) await startWorker();
    // A worker counts the workers listening when it cuts a job into chunks: wait for all.
    while ((await queue.workers()) < workers) await new Promise((r) => setTimeout(r, 100));
    const runs = [];
    for (let i = 0; i < repeat; i++) runs.push(await queued());
    const fastest = runs.reduce((a, b) => (a.seconds <= b.seconds ? a : b));
    figures.push({ label: `queue, ${workers} worker process${workers > 1 ? 'es' : ''}`, ...fastest });
  }
  await jobs.close();
  await queue.close();

  say('');
  say('| setting | wall s (best of ' + repeat + ') | products/s | chunks |');
  say('|---|---|---|---|');
  for (const f of figures) say(`| ${f.label} | ${f.seconds.toFixed(2)} | ${(testRows / f.seconds).toFixed(0)} | ${f.chunks ?? '-'} |`);
  const [, one, two] = figures;
  say('');
  say(`2 workers / 1 worker: ${(one!.seconds / two!.seconds).toFixed(2)}x; 1 worker / in process: ${(figures[0]!.seconds / one!.seconds).toFixed(2)}x; load ${load()}`);
  for (const p of procs) p.kill('SIGTERM');
  await Promise.all(procs.map((p) => new Promise((r) => (p.exitCode !== null ? r(null) : p.once('exit', r)))));
  procs.length = 0;
  await redis.stop();
  await pipeline.close();
} finally {
  for (const p of procs) p.kill('SIGKILL');
  await rm(work, { recursive: true, force: true });
}
