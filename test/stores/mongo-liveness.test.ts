import { afterEach, describe, expect, it } from 'vitest';
import { createServer } from '../../src/http/server.js';
import { openMongoStore } from '../../src/stores/mongodb/index.js';
import type { Store } from '../../src/stores/types.js';
import { emulatorUnavailable, startMongoEmulator, type MongoEmulator } from '../support/mongo-emulator.js';
import { sleep } from '../http/support.js';

// A frozen server (SIGSTOP: the TCP port still accepts, nothing answers) is the failure a
// killed one is not: without timeouts every call waits for ever. Each test freezes an emulator
// of its own (a frozen and thawed emulator may not survive its dropped connections), never the
// suite's shared one.
const skip = await emulatorUnavailable('MongoDB liveness tests');

let emulator: MongoEmulator | undefined;
let store: Store | undefined;
async function start(): Promise<MongoEmulator> {
  emulator = await startMongoEmulator();
  return emulator;
}
afterEach(async () => {
  thaw();
  await store?.close().catch(() => undefined);
  store = undefined;
  await emulator?.stop();
  emulator = undefined;
});

const uri = (db: string, query = '') => `mongodb://127.0.0.1:${emulator?.port}/${db}?directConnection=true${query}`;
/** Stops the emulator and waits for the stop to take effect (signals are delivered asynchronously). */
const freeze = async () => {
  if (emulator) process.kill(emulator.pid, 'SIGSTOP');
  await sleep(200);
};
const thaw = () => {
  if (emulator) process.kill(emulator.pid, 'SIGCONT');
};

/** Milliseconds `promise` took to reject, and its error. */
async function rejection(promise: Promise<unknown>): Promise<{ ms: number; error: Error }> {
  const t0 = Date.now();
  try {
    await promise;
  } catch (error) {
    return { ms: Date.now() - t0, error: error as Error };
  }
  throw new Error('expected a rejection');
}

describe.skipIf(skip)('MongoDB store on a frozen server', () => {
  it('fails a store operation within 30 s with the default timeouts (#25)', async () => {
    await start();
    store = await openMongoStore(uri('liveness_default'));
    const docs = store.documents.collection<{ _id: string; n: number }>('items');
    await docs.upsertMany([{ _id: 'a', n: 1 }]);
    await freeze();
    const { ms, error } = await rejection(docs.count());
    expect(ms).toBeLessThan(30_000);
    expect(error.message).toMatch(/timed out|timeout/i);
  }, 45_000);

  it('takes timeouts from the URI, per round trip: a slow reader keeps its cursor, a frozen server fails mid-cursor', async () => {
    await start();
    store = await openMongoStore(uri('liveness_uri', '&socketTimeoutMS=1000&connectTimeoutMS=1000'));
    const docs = store.documents.collection<{ _id: string; n: number }>('items');
    await docs.upsertMany(Array.from({ length: 600 }, (_, n) => ({ _id: `d${String(n).padStart(4, '0')}`, n })));
    // Pauses longer than socketTimeoutMS between batches: no request is waiting, so no timeout.
    let read = 0;
    for await (const _doc of docs.find({}, { sort: { field: '_id' } })) {
      if (read++ % 200 === 0) await sleep(1_500);
    }
    expect(read).toBe(600);
    // Frozen after the first batch: the next getMore fails in seconds.
    const reading = (async () => {
      let n = 0;
      for await (const _doc of docs.find({}, { sort: { field: '_id' } })) if (n++ === 0) await freeze();
    })();
    const { ms } = await rejection(reading);
    expect(ms).toBeLessThan(10_000);
  }, 45_000);
});

describe.skipIf(skip)('/health on MongoDB', () => {
  it('reports a frozen store within 3 s and its return within 3 s (#31)', async () => {
    await start();
    const app = await createServer({ storeUri: uri('liveness_health'), logger: false, auth: false, jobs: 'inline' });
    try {
      const base = await app.listen({ port: 0, host: '127.0.0.1' });
      const health = async () => (await fetch(`${base}/health`, { signal: AbortSignal.timeout(10_000) })).status;
      const within = async (ms: number, status: number) => {
        const deadline = Date.now() + ms;
        for (;;) {
          if ((await health()) === status) return true;
          if (Date.now() > deadline) return false;
          await sleep(100);
        }
      };
      expect(await health()).toBe(200);
      await freeze();
      expect(await within(3_000, 503)).toBe(true);
      thaw();
      expect(await within(3_000, 200)).toBe(true);
    } finally {
      thaw();
      await app.close();
    }
  }, 60_000);
});
