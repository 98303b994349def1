import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { MobileNetPool } from '../../src/models/mobilenet-pool.js';
import { REPO_ROOT } from '../support/data.js';

const run = promisify(execFile);
const picture = (): { pixels: Uint8Array; size: number } => ({ pixels: new Uint8Array(32 * 32 * 3).fill(90), size: 32 });

describe('MobileNetPool', () => {
  it('rejects the computations pending when it is closed instead of leaving them hanging', async () => {
    const pool = await MobileNetPool.start(32, { threads: 1 });
    // The expectation is attached before close() rejects the computation.
    const pending = expect(pool.compute(Array.from({ length: 40 }, picture))).rejects.toThrow(/closed/);
    await pool.close();
    await pending;
    await expect(pool.compute([picture()])).rejects.toThrow(/closed/);
  });

  it('does not keep the process alive once idle, even never closed', async () => {
    const script = path.join(REPO_ROOT, 'test/fixtures/backbone-pool-no-close.ts');
    // Hangs (and is killed at the timeout) if the idle workers hold the event loop.
    const { stdout } = await run(process.execPath, ['--import', 'tsx', script], { cwd: REPO_ROOT, timeout: 45_000 });
    expect(stdout.trim()).toBe('672');
  });
});
