import { rm } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { JobManager } from '../../src/http/jobs/manager.js';
import type { JobExecutor } from '../../src/http/jobs/executor.js';
import type { JobRecord } from '../../src/http/jobs/types.js';
import { openEmbeddedStore } from '../../src/stores/embedded/index.js';
import type { DocumentCollection, DocumentStore, Store } from '../../src/stores/types.js';
import type { AdmissionDoc } from '../../src/http/jobs/admission.js';
import { hookStore } from '../attack/hooks.js';
import { tempDir } from '../support/data.js';
import { sleep } from './support.js';

// The job manager's bookkeeping under a store that completes concurrent writes out of order,
// as MongoDB does when they go out on different pooled connections.

describe('JobManager', () => {
  let store: Store | undefined;
  let dir = '';
  afterEach(async () => {
    await store?.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** A fresh store whose jobs collection has slow writes of running records, and that collection. */
  async function slowRunningWrites(): Promise<{ docs: DocumentStore; jobs: DocumentCollection<JobRecord> }> {
    dir = await tempDir('rp-jobs-');
    store = await openEmbeddedStore(dir);
    const hooked = hookStore(store, {
      async beforeUpsert(name, docs) {
        if (name === 'api_jobs' && docs.some((d) => (d as JobRecord).state === 'running')) await sleep(80);
      },
    });
    return { docs: hooked.documents, jobs: store.documents.collection<JobRecord>('api_jobs') };
  }

  it('stores the final state last, even when an earlier progress write completes later', async () => {
    const { docs, jobs } = await slowRunningWrites();
    const executor: JobExecutor = {
      async execute(_kind, _params, { onProgress }) {
        onProgress?.({ stage: 'predict', phase: 'test', done: 1, total: 1, unit: 'products' });
        return { count: 1 };
      },
    };
    const manager = new JobManager(docs, { executor, persistEveryMs: 0 });
    await manager.init();
    try {
      const job = await manager.start('predict', {});
      await manager.settled(job._id);
      await sleep(200);
      const stored = await jobs.get(job._id);
      expect(stored).toMatchObject({ state: 'succeeded', result: { count: 1 }, progress: { done: 1 } });
      expect((await manager.get(job._id))?.state).toBe('succeeded');
    } finally {
      await manager.close();
    }
  });

  it('keeps a cancellation request and the cancelled state in that order', async () => {
    const { docs, jobs } = await slowRunningWrites();
    const executor: JobExecutor = {
      execute: (_kind, _params, { signal }) =>
        new Promise((_resolve, reject) => signal?.addEventListener('abort', () => reject(signal.reason as Error), { once: true })),
    };
    const manager = new JobManager(docs, { executor });
    await manager.init();
    try {
      const job = await manager.start('train', {});
      const cancelling = await manager.cancel(job._id);
      expect(cancelling).toMatchObject({ state: 'running', cancelRequested: true });
      await manager.settled(job._id);
      await sleep(200);
      expect(await jobs.get(job._id)).toMatchObject({ state: 'cancelled', cancelRequested: true, error: { message: 'cancelled by request' } });
    } finally {
      await manager.close();
    }
  });

  it('reports a job whose server went silent as interrupted, and one whose server is alive as running', async () => {
    dir = await tempDir('rp-jobs-');
    store = await openEmbeddedStore(dir);
    const jobs = store.documents.collection<JobRecord>('api_jobs');
    const at = (msAgo: number) => new Date(Date.now() - msAgo).toISOString();
    const orphan = (id: string, heartbeatMsAgo: number): JobRecord => ({
      _id: id, kind: 'train', state: 'running', params: {}, createdAt: at(heartbeatMsAgo + 1000), startedAt: at(heartbeatMsAgo + 1000),
      finishedAt: null, progress: null, result: null, error: null, cancelRequested: false, owner: 'elsewhere:1:x', heartbeatAt: at(heartbeatMsAgo),
    });
    await jobs.upsertMany([orphan('alive', 1_000), orphan('dead', 120_000)]);
    // Both hold admission slots, as jobs started by a server do.
    const slots = store.documents.collection<AdmissionDoc>('job_admission');
    await slots.upsertMany([{ _id: 'jobs', revision: 1, jobs: ['alive', 'dead'].map((id) => ({ id, kind: 'train' as const, admittedAt: at(120_000) })) }]);
    const executor: JobExecutor = { execute: async () => null };
    const manager = new JobManager(store.documents, { executor, staleAfterMs: 60_000 });
    try {
      expect((await manager.get('alive'))?.state).toBe('running');
      const dead = await manager.get('dead');
      expect(dead).toMatchObject({ state: 'failed', error: { message: expect.stringMatching(/interrupted/) } });
      expect((await jobs.get('dead'))?.state).toBe('failed');
      // A live job elsewhere still blocks a conflicting one here; the dead one did not.
      await expect(manager.start('train', {})).rejects.toThrow(/train job alive is running/);
      expect((await manager.list()).map((j) => [j._id, j.state])).toEqual(expect.arrayContaining([['alive', 'running'], ['dead', 'failed']]));
      // Waiting in a queue this manager does not use: not its to judge, however old.
      await jobs.upsertMany([{ ...orphan('waiting', 120_000), state: 'queued', startedAt: null, owner: 'queue redis://127.0.0.1:6379' }]);
      expect((await manager.get('waiting'))?.state).toBe('queued');
    } finally {
      await manager.close();
    }
  });

  it('starts exactly one of two conflicting jobs started at once by two servers on one store', async () => {
    dir = await tempDir('rp-jobs-');
    store = await openEmbeddedStore(dir);
    const hang: JobExecutor = {
      execute: (_kind, _params, { signal }) =>
        new Promise((_resolve, reject) => signal?.addEventListener('abort', () => reject(signal.reason as Error), { once: true })),
    };
    const a = new JobManager(store.documents, { executor: hang });
    const b = new JobManager(store.documents, { executor: hang });
    await Promise.all([a.init(), b.init()]);
    try {
      for (const [x, y] of [['train', 'train'], ['prepare', 'train'], ['load', 'predict']] as const) {
        const outcomes = await Promise.allSettled([a.start(x, { dataDir: '' } as never), b.start(y, { dataDir: '' } as never)]);
        expect(outcomes.filter((o) => o.status === 'fulfilled'), `${x} + ${y}`).toHaveLength(1);
        expect(outcomes.find((o) => o.status === 'rejected')).toMatchObject({ reason: { name: 'JobConflictError' } });
        for (const m of [a, b]) for (const j of m.running) await m.cancel(j._id);
        for (const m of [a, b]) await Promise.all(m.running.map((j) => m.settled(j._id)));
      }
      // Jobs that do not conflict both start.
      const both = await Promise.allSettled([a.start('load', { dataDir: '' }), b.start('train', {})]);
      expect(both.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled']);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('admits a conflicting job as soon as the one before it reads as finished, even while its slot is being released', async () => {
    dir = await tempDir('rp-jobs-');
    store = await openEmbeddedStore(dir);
    // Releases (a compare-and-set that removes a job) are slow, as on a busy store.
    const slots = store.documents.collection<AdmissionDoc>('job_admission');
    const docs = hookStore(store, {
      async beforeCompareAndSet(name, id, next) {
        const before = name === 'job_admission' ? await slots.get(id) : undefined;
        if (before && (next as AdmissionDoc).jobs.length < before.jobs.length) await sleep(300);
      },
    }).documents;
    const manager = new JobManager(docs, { executor: { execute: async () => ({ ok: true }) } });
    await manager.init();
    try {
      const first = await manager.start('train', {});
      let seen = await manager.get(first._id);
      while (seen?.state !== 'succeeded') seen = (await sleep(5), await manager.get(first._id));
      // A client that saw it succeed starts the next one at once.
      const second = await manager.start('evaluate', {});
      await manager.settled(second._id);
      expect((await manager.get(second._id))?.state).toBe('succeeded');
    } finally {
      await manager.close();
    }
  });
});
