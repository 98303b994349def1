// Keeps the streaming path honest (issue 12: 85,000 products under 4 GB): `load` and `prepare`,
// each a CLI process like in production, on N and 3N products with 500 px pictures. The memory
// they keep alive may grow with the row count only by small per-row records (ids, hashes, split
// bookkeeping), never by anything of a picture's size: holding every picture's bytes costs
// 30-40 KiB per row here, 3 GB at full size.
import { execFile } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDemoCatalogue } from '../../src/demo/generate-catalogue.js';
import { CLI_ARGS } from '../support/cli.js';
import { REPO_ROOT, tempDir } from '../support/data.js';

const run = promisify(execFile);

const N = 300;
const KIB = 1024;
const MIB = 1024 * KIB;
/**
 * Largest growth of live memory (V8 heap + Buffers, after a full GC) per extra row: the sharp
 * check. Measured 3 KiB/row for prepare (rows queued for their picture) and 1 KiB/row for load;
 * holding every picture's JPEG bytes measured 41 KiB/row.
 */
const LIVE_PER_ROW = 12 * KIB;
/**
 * Largest growth of peak RSS per extra row: a loose check, since RSS also follows the allocator
 * and heap sizing (prepare measured 3-26 KiB/row from run to run); it catches anything of a
 * decoded picture's size (730 KiB at 500 px) or several copies of the JPEG bytes.
 */
const RSS_PER_ROW = 48 * KIB;
/** Allowance on top of the per-row growth (RSS and heap sizes move by a few MB between runs). */
const SLACK = 6 * MIB;

// Loaded with --import into the CLI process: the live memory after a forced full GC, sampled
// every 100 ms and at exit (so a peak that is released before the end is seen too), and the
// process's peak RSS, written to $RP_MEMORY_PROBE.
const PROBE = `
import { writeFileSync } from 'node:fs';
let live = 0;
const sample = () => { globalThis.gc(); const m = process.memoryUsage(); live = Math.max(live, m.heapUsed + m.external); };
setInterval(sample, 100).unref();
process.on('exit', () => {
  sample();
  writeFileSync(process.env.RP_MEMORY_PROBE, JSON.stringify({ live, rss: process.resourceUsage().maxRSS * 1024 }));
});
`;

interface Memory {
  /** Peak live bytes (heap used + external, after GC). */
  live: number;
  /** Peak resident set size in bytes. */
  rss: number;
}

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

/** Runs one CLI command with the probe and returns its memory figures. */
async function measured(dir: string, ...args: string[]): Promise<Memory> {
  const out = path.join(dir, `memory-${args[0] ?? ''}.json`);
  const probe = `data:text/javascript,${encodeURIComponent(PROBE)}`;
  await run(process.execPath, ['--expose-gc', '--import', probe, ...CLI_ARGS, ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, FORCE_COLOR: '0', RP_MEMORY_PROBE: out },
    maxBuffer: 64 << 20,
  });
  return JSON.parse(await readFile(out, 'utf8')) as Memory;
}

/** A catalogue of `rows` products with 500 px pictures, loaded and prepared into a fresh store. */
async function loadAndPrepare(rows: number): Promise<{ load: Memory; prepare: Memory }> {
  const dir = await tempDir('rp-streaming-');
  dirs.push(dir);
  const data = path.join(dir, 'data');
  const store = path.join(dir, 'store');
  await generateDemoCatalogue({ outDir: data, rows, testRows: rows / 10, imageSize: 500, imageFraction: 1 });
  const load = await measured(dir, 'load', '--data', data, '--store', store);
  const prepare = await measured(dir, 'prepare', '--store', store);
  return { load, prepare };
}

const mib = (b: number): string => `${(b / MIB).toFixed(1)} MiB`;

describe('streaming memory of load and prepare (CLI processes, 500 px pictures)', () => {
  let small: { load: Memory; prepare: Memory };
  let large: { load: Memory; prepare: Memory };
  beforeAll(async () => {
    small = await loadAndPrepare(N);
    large = await loadAndPrepare(3 * N);
  }, 180_000);

  // Products of the larger run beyond the smaller one (training + test rows).
  const extraRows = 2 * N * 1.1;

  for (const stage of ['load', 'prepare'] as const) {
    it(`${stage}: memory grows by per-row records only, from ${N} to ${3 * N} products`, () => {
      const a = small[stage];
      const b = large[stage];
      const figures =
        `${stage}: live ${mib(a.live)} -> ${mib(b.live)} (${((b.live - a.live) / extraRows / KIB).toFixed(1)} KiB/row), ` +
        `peak RSS ${mib(a.rss)} -> ${mib(b.rss)} (${((b.rss - a.rss) / extraRows / KIB).toFixed(1)} KiB/row)`;
      console.log(figures);
      expect(b.live, figures).toBeLessThan(a.live + extraRows * LIVE_PER_ROW + SLACK);
      expect(b.rss, figures).toBeLessThan(a.rss + extraRows * RSS_PER_ROW + SLACK);
    });
  }
});
