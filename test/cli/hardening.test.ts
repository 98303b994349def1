import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { naiveBayesModel } from '../../src/models/naive-bayes.js';
import { ModelRegistry } from '../../src/models/registry.js';
import { ChallengeDataLoader } from '../../src/stages/load/loader.js';
import { PrepareStage } from '../../src/stages/prepare/stage.js';
import { Preprocessor } from '../../src/stages/preprocess/preprocessor.js';
import { TrainStage } from '../../src/stages/train/stage.js';
import { openEmbeddedStore } from '../../src/stores/embedded/index.js';
import { cli } from '../support/cli.js';
import { makeCatalogue, tempDir } from '../support/data.js';

/** A refused command: exit 1, the message on stderr, no stack trace, nothing on stdout. */
function expectRefused(r: { code: number; stdout: string; stderr: string }, message: RegExp): void {
  expect(r.code, r.stderr).toBe(1);
  expect(r.stderr).toMatch(message);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

describe('CLI numeric options are checked at parse time (#45-47)', () => {
  let store: string;
  beforeAll(async () => {
    store = await tempDir();
  });

  const cases: [string[], RegExp][] = [
    [['train', '--guardrail', 'abc'], /--guardrail must be a number from 0 to 1, got "abc"/],
    [['train', '--seed', 'abc'], /--seed must be an integer from 0 to 4294967295, got "abc"/],
    [['train', '--epochs', '0'], /--epochs must be an integer from 1 to 200, got "0"/],
    [['train', '--patience', '2.5'], /--patience must be an integer from 1 to 50/],
    [['load', '--data', '.', '--batch-size', '0'], /--batch-size must be an integer from 1 to 100000, got "0"/],
    [['load', '--data', '.', '--batch-size', 'abc'], /--batch-size must be an integer/],
    [['load', '--data', '.', '--quarantine-limit', '-5'], /--quarantine-limit must be an integer from 0 to 1000000, got "-5"/],
    [['prepare', '--image-size', '0'], /--image-size must be an integer from 8 to 1024/],
    [['prepare', '--val', '0.6'], /--val must be a number above 0 and below 0.5, got "0.6"/],
    [['run', '--data', '.', '--seed', '-1'], /--seed must be an integer from 0/],
    [['serve', '--port', '70000'], /--port must be an integer from 0 to 65535/],
    [['serve', '--max-image-bytes', '12abc'], /--max-image-bytes must be an integer/],
    [['demo-data', '--out', 'x', '--rows', '0'], /--rows must be an integer from 1/],
    [['demo-data', '--out', 'x', '--image-fraction', '2'], /--image-fraction must be a number from 0 to 1/],
  ];
  it('refuses bad values with the flag and its range, exit 1, no stack', async () => {
    // Four child processes at a time: each is a tsx start-up of a few seconds.
    for (let i = 0; i < cases.length; i += 4) {
      await Promise.all(
        cases.slice(i, i + 4).map(async ([args, message]) => {
          const r = await cli(...args, '--store', store);
          expectRefused(r, message);
          expect(r.stdout, args.join(' ')).toBe('');
        }),
      );
    }
  }, 180_000);
});

describe('CLI output files (#48)', () => {
  let data: string;
  let store: string;
  let dir: string;
  beforeAll(async () => {
    data = (await makeCatalogue({ rows: 200, testRows: 20, imageFraction: 0 })).outDir;
    store = await tempDir();
    dir = await tempDir();
    const s = openEmbeddedStore(store);
    try {
      await new ChallengeDataLoader(s).load({ dataDir: data });
      await new PrepareStage(s, new Preprocessor({ image: { size: 16 } })).run({});
      await new TrainStage(s, naiveBayesModel, async () => 'cpu', new ModelRegistry(s, [naiveBayesModel])).run({});
    } finally {
      await s.close();
    }
  });
  afterAll(async () => {
    for (const d of [data, store, dir]) await rm(d, { recursive: true, force: true });
  });

  it('never cuts an existing --output when the input fails half-way', async () => {
    const bad = path.join(dir, 'bad.csv');
    // 3,000 good rows, then an unterminated quote: the parser fails after rows were predicted and written.
    const rows = Array.from({ length: 3000 }, (_, i) => `${i},Title ${i},,${i + 1},${i + 1}`);
    await writeFile(bad, `,designation,description,productid,imageid\n${rows.join('\n')}\n99999,"unterminated title,,1,2\n`);
    const existing = path.join(dir, 'existing.csv');
    await writeFile(existing, ',prdtypecode\n1,10\n2,2280\n');
    const r = await cli('predict', '--store', store, '--input', bad, '--output', existing);
    expectRefused(r, /bad\.csv/);
    expect(await readFile(existing, 'utf8')).toBe(',prdtypecode\n1,10\n2,2280\n');
    expect((await readdir(dir)).sort()).toEqual(['bad.csv', 'existing.csv']);
    // A good run replaces it whole.
    const ok = await cli('predict', '--store', store, '--input', path.join(data, 'X_test_update.csv'), '--output', existing, '--json');
    expect(ok.code, ok.stderr).toBe(0);
    expect((await readFile(existing, 'utf8')).trimEnd().split('\n')).toHaveLength(21);
    expect((await readdir(dir)).sort()).toEqual(['bad.csv', 'existing.csv']);
  });

  it('refuses the label file as --input, and a folder as --output or --report', async () => {
    const out = path.join(dir, 'y-from-labels.csv');
    const labels = await cli('predict', '--store', store, '--input', path.join(data, 'Y_train_CVw08PX.csv'), '--output', out);
    expectRefused(labels, /Y_train_CVw08PX\.csv: expected header ",designation,description,productid,imageid", found ",prdtypecode"/);
    expect(existsSync(out)).toBe(false);
    const folder = await cli('predict', '--store', store, '--input', path.join(data, 'X_test_update.csv'), '--output', dir);
    expectRefused(folder, /--output: .* is a folder/);
    const report = await cli('evaluate', '--store', store, '--report', dir);
    expectRefused(report, /--report: .* is a folder/);
    const noParent = await cli('predict', '--store', store, '--input', path.join(data, 'X_test_update.csv'), '--output', path.join(dir, 'nope', 'y.csv'));
    expectRefused(noParent, /--output: .*nope.* (does not exist|no such folder)/);
  });
});

describe('CLI store paths (#27, #28)', () => {
  it('refuses a missing store on commands that only read or extend one, and an empty --store', async () => {
    const parent = await tempDir();
    const typo = path.join(parent, 'typo');
    for (const args of [['status'], ['models'], ['prepare'], ['train'], ['predict'], ['evaluate']]) {
      const r = await cli(...args, '--store', typo);
      expectRefused(r, new RegExp(`no store at ${typo.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`));
    }
    expect(existsSync(typo)).toBe(false);
    // A folder that is not a store is not one either.
    const status = await cli('status', '--store', parent);
    expectRefused(status, /no store at/);
    expect(await readdir(parent)).toEqual([]);
    const empty = await cli('status', '--store', '');
    expectRefused(empty, /--store: empty/);
    // load creates one.
    const data = (await makeCatalogue({ rows: 30, imageFraction: 0 })).outDir;
    expect((await cli('load', '--data', data, '--store', typo)).code).toBe(0);
    expect((await cli('status', '--store', typo)).code).toBe(0);
  });

  it.skipIf(process.getuid?.() === 0)('names the path of a read-only store', async () => {
    const parent = await tempDir();
    const store = path.join(parent, 's');
    const data = (await makeCatalogue({ rows: 30, imageFraction: 0 })).outDir;
    expect((await cli('load', '--data', data, '--store', store)).code).toBe(0);
    const { chmod } = await import('node:fs/promises');
    await chmod(store, 0o555);
    try {
      const r = await cli('load', '--data', data, '--store', store);
      expectRefused(r, new RegExp(store.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')));
    } finally {
      await chmod(store, 0o755);
    }
  });
});

describe('CLI output escapes control characters (#16)', () => {
  it('prints an ESC in a path as \\x1b, on stdout and on stderr', async () => {
    const parent = await tempDir();
    const evil = path.join(parent, 'data\x1b[31mred\x07');
    await mkdir(evil);
    const load = await cli('load', '--data', evil, '--store', path.join(parent, 'store'));
    expect(load.code).toBe(1);
    expect(load.stdout).toMatch(/X_train_update\.csv is missing/);
    expect(load.stdout).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f]/);
    expect(load.stdout).toContain('data\\x1b[31mred\\x07');
    const status = await cli('status', '--store', evil);
    expect(status.code).toBe(1);
    expect(status.stderr).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f]/);
  });
});
