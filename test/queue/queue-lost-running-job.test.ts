import { rm } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { JobConflictError, JobManager } from '../../src/http/jobs/manager.js';
import type { JobExecutor } from '../../src/http/jobs/executor.js';
import type { JobQueue, QueuedJobStatus } from '../../src/http/jobs/queue.js';
import { openEmbeddedStore } from '../../src/stores/embedded/index.js';
import type { Store } from '../../src/stores/types.js';
import { tempDir } from '../support/data.js';
import { sleep } from '../http/support.js';

// Redis restarted empty (no persistence, FLUSHALL, a failover to an empty replica) while a
// worker runs a job: the queue no longer knows the job, but its worker is alive and heartbeating.

/** A queue that has lost every job (`missing`), with nothing else to do. */
function amnesicQueue(): JobQueue {
  const status: QueuedJobStatus = { state: 'missing' };
  return {
    url: 'redis://lost',
    enqueue: async () => undefined,
    remove: async () => false,
    status: async () => status,
    spread: async () => [],
    upsertSchedule: async (s) => ({ ...s, next: null }),
    listSchedules: async () => [],
    removeSchedule: async () => false,
    workers: async () => 1,
    close: async () => undefined,
  };
}

describe('a running job the queue lost', () => {
  let store: Store | undefined;
  let dir = '';
  afterEach(async () => {
    await store?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('is not failed by a reader while its worker heartbeats, keeps its slot, and ends as its worker says', async () => {
    dir = await tempDir('rp-queue-lost-');
    store = await openEmbeddedStore(dir);
    const queue = amnesicQueue();
    const staleAfterMs = 1_500;
    const executor: JobExecutor = {
      async execute(_kind, _params, { signal }) {
        for (let i = 0; i < 40; i++) {
          signal?.throwIfAborted();
          await sleep(100);
        }
        return { done: true };
      },
    };
    const server = new JobManager(store.documents, { executor, queue, staleAfterMs });
    const worker = new JobManager(store.documents, { executor, queue, staleAfterMs });
    await Promise.all([server.init(), worker.init()]);
    try {
      const job = await server.start('evaluate', {});
      const running = worker.runQueued(job._id, 1);
      // Past staleAfterMs since it was created; its worker wrote a heartbeat within it.
      await sleep(2_500);
      expect((await server.get(job._id))?.state).toBe('running');
      await expect(server.start('evaluate', {})).rejects.toBeInstanceOf(JobConflictError);
      await expect(running).resolves.toEqual({ done: true });
      expect(await server.get(job._id)).toMatchObject({ state: 'succeeded', error: null });
    } finally {
      await Promise.all([server.close(), worker.close()]);
    }
  }, 20_000);
});
