import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LoadRun } from '../../src/stages/load/types.js';
import type { PrepareRun } from '../../src/stages/prepare/types.js';
import type { DataStatus } from '../../src/stages/status.js';
import { makeCatalogue, tempDir } from '../support/data.js';
import { cli } from '../support/cli.js';
import { storeBackends } from '../support/stores.js';

describe('rakuten-pipeline CLI', () => {
  let data: string;
  beforeAll(async () => {
    data = (await makeCatalogue({ rows: 100, faults: { missingId: 1, corruptImage: 1 } })).outDir;
  });
  afterAll(() => rm(data, { recursive: true, force: true }));

  for (const backend of storeBackends()) {
    it.skipIf(backend.skip)(`load twice and status agree, with --json (${backend.name})`, async () => {
      const harness = await backend.create();
      try {
        const first = await cli('load', '--data', data, '--store', harness.uri, '--json');
        expect(first.code).toBe(0);
        const a = JSON.parse(first.stdout) as LoadRun;
        expect(a.status).toBe('completed_with_warnings');
        expect(a.labelledTrainRows).toBe(99);
        expect(a.quarantineByReason).toMatchObject({ missing_id: 1, undecodable_image: 1 });
        const second = JSON.parse((await cli('load', '--data', data, '--store', harness.uri, '--json')).stdout) as LoadRun;
        expect(second.labelledTrainRows).toBe(99);
        expect(second.rows.train.unchanged).toBe(99);
        const status = JSON.parse((await cli('status', '--store', harness.uri, '--json')).stdout) as DataStatus;
        expect(status.labelledTrainRows).toBe(99);
        expect(status.testRows).toBe(a.rows.test.stored);
        expect(status.images.train.withImage).toBe(a.images.train.withImage);
        expect(status.lastLoad?._id).toBe(second._id);
        const prepared = await cli('prepare', '--store', harness.uri, '--seed', '7', '--image-size', '32', '--json');
        expect(prepared.code).toBe(0);
        const run = JSON.parse(prepared.stdout) as PrepareRun;
        expect(run.params).toMatchObject({ seed: 7, imageSize: 32, val: 0.15, test: 0.15 });
        expect(run.splits.train.total + run.splits.val.total + run.splits.test.total).toBe(99);
        const bad = await cli('prepare', '--store', harness.uri, '--val', '0.6', '--test', '0.5');
        expect(bad.code).toBe(1);
        expect(bad.stderr).toMatch(/--val must be a number above 0 and below 0\.5, got "0\.6"/);
        const text = await cli('load', '--data', data, '--store', harness.uri);
        expect(text.stdout).toMatch(/train rows: +99 stored \(0 new, 0 changed, 99 unchanged\)/);
        expect(text.stdout).toMatch(/X_train_update\.csv row \d+ \(line \d+\), field "productid": productid is empty/);
      } finally {
        await harness.dispose();
      }
    });
  }

  it('exits 1 with a clear message on unusable input', async () => {
    const store = await tempDir();
    const empty = await tempDir();
    const missing = await cli('load', '--data', empty, '--store', store);
    expect(missing.code).toBe(1);
    expect(missing.stdout).toMatch(/load failed/);
    expect(missing.stdout).toMatch(/X_train_update\.csv is missing/);
    await writeFile(path.join(empty, 'X_train_update.csv'), 'wrong,header\n1,2\n');
    await writeFile(path.join(empty, 'Y_train_CVw08PX.csv'), ',prdtypecode\n1,10\n');
    const bad = await cli('load', '--data', empty, '--store', store, '--json');
    expect(bad.code).toBe(1);
    expect((JSON.parse(bad.stdout) as LoadRun).errors[0]).toMatch(/X_train_update\.csv: unusable file, expected header/);
    const usage = await cli('load');
    expect(usage.code).toBe(1);
    expect(usage.stderr).toMatch(/required option '--data <dir>'/);
  });

  it('generates demo data with faults, and rejects a bad fault spec', async () => {
    const out = await tempDir();
    const ok = await cli('demo-data', '--out', out, '--rows', '90', '--image-size', '32', '--faults', 'orphanImage=2', '--json');
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ trainRows: 90, injected: { orphanImage: [expect.any(Number), expect.any(Number)] } });
    const bad = await cli('demo-data', '--out', out, '--faults', 'nope=1');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/--faults: bad item "nope=1"/);
  });
});
