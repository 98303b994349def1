import { describe, expect, it } from 'vitest';
import { cli } from '../support/cli.js';

// A mistyped step is said, not dropped: `run --steps prepare,trian` would run prepare alone and
// succeed, and a schedule of unknown steps would fail at every firing on the workers.

describe('--steps of queued runs and schedules', () => {
  it.each([
    [['run', '--queue', 'redis://127.0.0.1:1', '--steps', 'prepare,trian']],
    [['schedule', 'add', 'nightly', '--cron', '0 3 * * *', '--queue', 'redis://127.0.0.1:1', '--steps', 'evaluat']],
  ])('%j is refused with the unknown step', async (args) => {
    const res = await cli(...args);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/--steps: unknown step "(trian|evaluat)"/);
  });
});

describe('RAKUTEN_QUEUE set but empty', () => {
  it('counts as unset: a command that needs a queue asks for one, instead of refusing "" as a URL', async () => {
    const before = process.env.RAKUTEN_QUEUE;
    process.env.RAKUTEN_QUEUE = '';
    try {
      const res = await cli('schedule', 'list');
      expect(res.code).toBe(1);
      expect(res.stderr).toMatch(/--queue: give the Redis URL of the queue/);
    } finally {
      if (before === undefined) delete process.env.RAKUTEN_QUEUE;
      else process.env.RAKUTEN_QUEUE = before;
    }
  });
});
