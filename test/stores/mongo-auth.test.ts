import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MongoClient, MongoServerError } from 'mongodb';
import { openStore } from '../../src/stores/registry.js';
import { emulatorUnavailable, startMongoEmulator, type MongoEmulator } from '../support/mongo-emulator.js';
import { all } from '../support/stores.js';

// Production MongoDB always requires authentication: the emulator's auth mode (--user/--password)
// must accept the driver's SCRAM handshake and refuse what mongod refuses, with mongod's errors.
const USER = 'rakuten';
// Characters that need percent-encoding in a URI, to check the store's redaction too.
const PASSWORD = 'p@ss:w/rd% 42';
const BAD_PASSWORD = 'not-the-password';

const skip = await emulatorUnavailable('MongoDB auth tests');

let emulator: MongoEmulator | undefined;
beforeAll(async () => {
  if (!skip) emulator = await startMongoEmulator({ user: USER, password: PASSWORD });
});
afterAll(() => emulator?.stop());

const uri = (user: string, password: string | undefined, db = 'authdb') => {
  const credentials = password === undefined ? '' : `${encodeURIComponent(user)}:${encodeURIComponent(password)}@`;
  return `mongodb://${credentials}127.0.0.1:${emulator?.port}/${db}?directConnection=true`;
};

/** Runs `fn` on a connected client for `target`, closing it whatever happens. */
async function withClient<T>(target: string, fn: (client: MongoClient) => Promise<T>): Promise<T> {
  const client = new MongoClient(target, { serverSelectionTimeoutMS: 5_000 });
  try {
    await client.connect();
    return await fn(client);
  } finally {
    await client.close();
  }
}

/** What the first command of a client for `target` fails with. */
async function failure(target: string): Promise<MongoServerError> {
  const error = await withClient(target, (c) => c.db('authdb').collection('items').findOne({})).then(
    () => new Error('expected the command to fail'),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(MongoServerError);
  return error as MongoServerError;
}

describe.skipIf(skip)('Mongo emulator with authentication', () => {
  it('accepts the user (SCRAM-SHA-256, authSource = the URI database): insert and read back', async () => {
    await withClient(uri(USER, PASSWORD), async (client) => {
      const items = client.db('authdb').collection<{ _id: string; n: number }>('items');
      await items.insertOne({ _id: 'a', n: 1 });
      expect(await items.findOne({ _id: 'a' })).toEqual({ _id: 'a', n: 1 });
      const status = await client.db('authdb').command({ connectionStatus: 1 });
      expect(status['authInfo'].authenticatedUsers).toEqual([{ user: USER, db: 'authdb' }]);
    });
  });

  it('accepts the user on admin (uriWithCredentials) and with SCRAM-SHA-1', async () => {
    expect(emulator?.uriWithCredentials).toBe(
      `mongodb://${USER}:${encodeURIComponent(PASSWORD)}@127.0.0.1:${emulator?.port}/?directConnection=true`,
    );
    await withClient(emulator?.uriWithCredentials ?? '', async (client) => {
      const status = await client.db('authdb').command({ connectionStatus: 1 });
      expect(status['authInfo'].authenticatedUsers).toEqual([{ user: USER, db: 'admin' }]);
      expect(await client.db('authdb').collection('items').countDocuments()).toBeGreaterThanOrEqual(0);
    });
    const sha1 = `${uri(USER, PASSWORD)}&authMechanism=SCRAM-SHA-1`;
    await withClient(sha1, (c) => c.db('authdb').collection('items').countDocuments());
  });

  it('advertises the mechanisms of a known user only, as mongod does', async () => {
    await withClient(uri(USER, undefined), async (client) => {
      const known = await client.db('admin').command({ hello: 1, saslSupportedMechs: `admin.${USER}` });
      expect(known['saslSupportedMechs']).toEqual(['SCRAM-SHA-1', 'SCRAM-SHA-256']);
      const unknown = await client.db('admin').command({ hello: 1, saslSupportedMechs: 'admin.nobody' });
      expect(unknown['saslSupportedMechs']).toBeUndefined();
    });
  });

  it('refuses a wrong password with 18 AuthenticationFailed', async () => {
    const error = await failure(uri(USER, BAD_PASSWORD));
    expect(error).toMatchObject({ code: 18, codeName: 'AuthenticationFailed', message: 'Authentication failed.' });
  });

  it('refuses an unknown user with the same error', async () => {
    const error = await failure(uri('nobody', PASSWORD));
    expect(error).toMatchObject({ code: 18, codeName: 'AuthenticationFailed', message: 'Authentication failed.' });
  });

  it('without credentials: ping and hello work, find and insert fail with 13 Unauthorized', async () => {
    const error = await failure(uri(USER, undefined));
    expect(error).toMatchObject({ code: 13, codeName: 'Unauthorized' });
    expect(error.message).toBe('Command find requires authentication');
    await withClient(uri(USER, undefined), async (client) => {
      expect((await client.db('authdb').command({ ping: 1 }))['ok']).toBe(1);
      await expect(client.db('authdb').collection('items').insertOne({ n: 2 })).rejects.toMatchObject({ code: 13 });
    });
  });

  it('keeps authentication per connection: an authenticated client does not open the door to others', async () => {
    await withClient(uri(USER, PASSWORD), async (authenticated) => {
      await authenticated.db('authdb').collection('items').findOne({});
      expect((await failure(uri(USER, undefined))).code).toBe(13);
    });
  });

  it("the project's store opens with credentials: documents and GridFS images, password hidden", async () => {
    const store = await openStore(uri(USER, PASSWORD, 'auth_store'));
    try {
      expect(store.driver).toBe('mongodb');
      expect(store.uri).not.toContain(encodeURIComponent(PASSWORD));
      expect(store.uri).toBe(`mongodb://${USER}:***@127.0.0.1:${emulator?.port}/auth_store?directConnection=true`);
      const docs = store.documents.collection<{ _id: string; label: string }>('products');
      await docs.upsertMany([
        { _id: 'p1', label: 'one' },
        { _id: 'p2', label: 'two' },
      ]);
      expect(await docs.get('p2')).toEqual({ _id: 'p2', label: 'two' });
      expect(await all(docs.find({}, { sort: { field: '_id' } }))).toHaveLength(2);
      const bytes = Buffer.from('not really a jpeg, but bytes all the same');
      expect(await store.images.put('raw/train/p1.jpg', bytes, { metadata: { productId: 'p1' } })).toBe('inserted');
      expect(await store.images.get('raw/train/p1.jpg')).toEqual(bytes);
      expect((await store.images.stat('raw/train/p1.jpg'))?.metadata).toEqual({ productId: 'p1' });
    } finally {
      await store.close();
    }
  });

  it("the project's store refuses a wrong password without printing it", async () => {
    const error = await openStore(uri(USER, BAD_PASSWORD, 'auth_store')).then(
      async (store) => {
        await store.close();
        return new Error('expected openStore to fail');
      },
      (e: unknown) => e as Error,
    );
    expect(error.message).toContain('Authentication failed.');
    expect(error.message).not.toContain(BAD_PASSWORD);
  });
});
