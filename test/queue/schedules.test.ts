import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisUnavailable, type TestRedis } from '../support/redis.js';
import { startQueuedApi, type QueuedApi, type RunningApi } from '../http/support.js';
import { cli } from '../support/cli.js';

// Hostile schedule bodies on a server with a real queue: refused with the field at fault.

const redisSkip = redisUnavailable('queue schedule tests');

describe.skipIf(redisSkip)('POST /schedules', () => {
  let queued: QueuedApi;
  let redis: TestRedis;
  let api: RunningApi;

  beforeAll(async () => {
    queued = await startQueuedApi();
    ({ redis, api } = queued);
  });
  afterAll(() => queued?.stop());

  it.each(['Mars/Olympus', '+05:00', 'Europe/Pariss'])('refuses the time zone %s as a time zone error, creating nothing', async (timezone) => {
    const res = await api.client.post<{ code: string; message: string }>('/schedules', { id: 'tz', cron: '0 3 * * 1', timezone, run: { steps: ['evaluate'] } });
    expect(res.status).toBe(400);
    expect(res.body.message).toMatch(new RegExp(`^body/timezone: unknown time zone "${timezone.replace(/[+]/g, '\\+')}"`));
    expect((await api.client.get<unknown[]>('/schedules')).body).toEqual([]);
  });

  it('accepts an IANA time zone', async () => {
    const res = await api.client.post<{ timezone: string; next: string }>('/schedules', { id: 'paris', cron: '0 3 * * 1', timezone: 'Europe/Paris', run: { steps: ['evaluate'] } });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ timezone: 'Europe/Paris', next: expect.any(String) });
    expect((await api.client.request('DELETE', '/schedules/paris')).status).toBe(204);
  });

  it('schedule add --timezone refuses an unknown time zone as such', async () => {
    const res = await cli('schedule', 'add', 'tz', '--cron', '0 3 * * 1', '--timezone', 'Mars/Olympus', '--steps', 'evaluate', '--queue', redis.url);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/--timezone: unknown time zone "Mars\/Olympus"/);
  });
});
