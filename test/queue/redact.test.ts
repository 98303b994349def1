import { describe, expect, it } from 'vitest';
import { bullmqQueue } from '../../src/http/jobs/bullmq.js';
import { redactQueueUrl } from '../../src/http/jobs/queue.js';
import { cli } from '../support/cli.js';

// The queue's URL is shown (worker ready line, logs, errors) and stored (every queued job's
// owner): none of its forms may carry the password.

const SECRET = 'Zq9-queue-secret';

describe('queue URL redaction', () => {
  it.each([
    [`redis://:${SECRET}@127.0.0.1:6379`, 'redis://:***@127.0.0.1:6379'],
    [`redis://default:${SECRET}@127.0.0.1:6379/0`, 'redis://default:***@127.0.0.1:6379/0'],
    [`redis://${SECRET}@127.0.0.1:6379`, 'redis://***@127.0.0.1:6379'],
    // ioredis reads a password from the query string too.
    [`redis://127.0.0.1:6379/0?password=${SECRET}`, 'redis://127.0.0.1:6379/0?password=***'],
    [`rediss://127.0.0.1:6380?db=1&password=${SECRET}&family=4`, 'rediss://127.0.0.1:6380?db=1&password=***&family=4'],
    // An '@' in the password: the URL parser splits at the last '@' before the host.
    [`redis://:ab@${SECRET}@127.0.0.1:6379`, 'redis://:***@127.0.0.1:6379'],
  ])('%s', (url, shown) => {
    expect(redactQueueUrl(url)).toBe(shown);
  });

  it('says nothing of a query-string password when Redis does not answer', async () => {
    const error = await bullmqQueue(`redis://127.0.0.1:1/0?password=${SECRET}`).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(error?.message).toMatch(/Redis does not answer/);
    expect(error?.message).not.toContain(SECRET);
  });

  it('says nothing of the password of a URL that is not a Redis URL', async () => {
    const res = await cli('worker', '--queue', `http://127.0.0.1:6379/?password=${SECRET}`);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/is not a Redis URL/);
    expect(res.stderr).not.toContain(SECRET);
  });
});
