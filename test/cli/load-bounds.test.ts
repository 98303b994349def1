// CLI side of hostile cases #10 and #16: --allow-unknown-classes, and no raw control
// characters from file names in the printed summary.
import { appendFile, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { LoadRun } from '../../src/stages/load/types.js';
import { cli } from '../support/cli.js';
import { makeCatalogue } from '../support/data.js';
import { storeBackends } from '../support/stores.js';

describe('load CLI bounds', () => {
  for (const backend of storeBackends()) {
    it.skipIf(backend.skip)(`quarantines unknown class codes unless --allow-unknown-classes (${backend.name})`, async () => {
      const data = (await makeCatalogue({ rows: 20, testRows: 0, imageFraction: 0 })).outDir;
      await appendFile(path.join(data, 'X_train_update.csv'), '900,t,d,901,902\n');
      await appendFile(path.join(data, 'Y_train_CVw08PX.csv'), '900,99999\n');
      await mkdir(path.join(data, 'image_train'), { recursive: true });
      await writeFile(path.join(data, 'image_train', 'x\x1b[2Jy.jpg'), 'x');
      const harness = await backend.create();
      try {
        const refused = await cli('load', '--data', data, '--store', harness.uri);
        expect(refused.code).toBe(0);
        expect(refused.stdout).toMatch(/prdtypecode 99999 is not one of the 27 challenge codes/);
        expect(refused.stdout + refused.stderr).not.toMatch(/\x1b/);
        const allowed = JSON.parse((await cli('load', '--data', data, '--store', harness.uri, '--allow-unknown-classes', '--json')).stdout) as LoadRun;
        expect(allowed.quarantineByReason.unknown_label).toBeUndefined();
        expect(allowed.labelledTrainRows).toBe(21);
      } finally {
        await harness.dispose();
      }
    }, 60_000);
  }
});
