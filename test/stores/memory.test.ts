import { describe, expect, it } from 'vitest';
import { StoreNotFoundError } from '../../src/stores/errors.js';
import { dropMemoryStore, memoryDriver, openMemoryStore } from '../../src/stores/memory/index.js';
import { openStore, registerStoreDriver } from '../../src/stores/registry.js';
import type { BaseDocument, StoreDriver } from '../../src/stores/types.js';

interface Doc extends BaseDocument {
  n: number | string | boolean | null;
}

let n = 0;
const fresh = (): string => `memory://memory-test-${n++}`;

describe('memory store (semantics beyond the contract)', () => {
  it('is opened by openStore for memory:// URIs, and shared by name within the process until dropped', async () => {
    const uri = fresh();
    const a = await openStore(uri);
    expect(a.driver).toBe('memory');
    expect(a.uri).toBe(uri);
    const b = await openStore(uri);
    await a.documents.collection<Doc>('c').upsertMany([{ _id: 'x', n: 1 }]);
    expect(await b.documents.collection<Doc>('c').get('x')).toEqual({ _id: 'x', n: 1 });
    await a.close();
    await expect(a.documents.collection<Doc>('c').count()).rejects.toThrow(/closed/);
    await expect(a.images.get('k')).rejects.toThrow(/closed/);
    expect(await b.documents.collection<Doc>('c').count()).toBe(1); // one store closed, the data stays
    await b.close();
    expect(await (await openStore(uri, { create: false })).documents.collection<Doc>('c').count()).toBe(1);
    expect(dropMemoryStore(uri)).toBe(true);
    expect(dropMemoryStore(uri)).toBe(false);
    await expect(openStore(uri, { create: false })).rejects.toBeInstanceOf(StoreNotFoundError);
    expect(await (await openStore(uri)).documents.listCollections()).toEqual([]);
    dropMemoryStore(uri);
  });

  it('refuses URIs without a name or of another scheme', async () => {
    await expect(memoryDriver.open('memory://')).rejects.toThrow(/without a name/);
    expect(() => openMemoryStore('file:///tmp/x')).toThrow(/Not a memory store URI/);
    expect(memoryDriver.accepts('memory://a')).toBe(true);
    expect(memoryDriver.accepts('/tmp/memory')).toBe(false);
  });

  it('hands out copies: changing what was written or read changes nothing stored', async () => {
    const uri = fresh();
    const store = openMemoryStore(uri);
    const doc: Doc = { _id: 'x', n: 1 };
    await store.documents.collection<Doc>('c').upsertMany([doc]);
    doc.n = 2;
    const read = await store.documents.collection<Doc>('c').get('x');
    if (read) read.n = 3;
    expect(await store.documents.collection<Doc>('c').get('x')).toEqual({ _id: 'x', n: 1 });
    const bytes = Buffer.from('abc');
    await store.images.put('k', bytes, { metadata: { a: 1 } });
    bytes[0] = 0;
    const got = await store.images.get('k');
    if (got) got[1] = 0;
    expect((await store.images.get('k'))?.toString()).toBe('abc');
    dropMemoryStore(uri);
  });

  it('sorts mixed types as MongoDB does (null, numbers, strings, booleans), ties in insertion order', async () => {
    const uri = fresh();
    const c = openMemoryStore(uri).documents.collection<Doc>('c');
    await c.upsertMany([
      { _id: 'a', n: 'b' },
      { _id: 'b', n: true },
      { _id: 'c', n: 2 },
      { _id: 'd', n: null },
      { _id: 'e', n: 'a' },
      { _id: 'f', n: 2 },
    ]);
    const ids = async (direction: 1 | -1): Promise<string> => {
      let out = '';
      for await (const d of c.find({}, { sort: { field: 'n', direction } })) out += d._id;
      return out;
    };
    expect(await ids(1)).toBe('dcfeab');
    expect(await ids(-1)).toBe('baecfd');
    dropMemoryStore(uri);
  });

  it('refuses a unique index over documents that already collide, and a batch that would collide changes nothing', async () => {
    const uri = fresh();
    const c = openMemoryStore(uri).documents.collection<Doc>('c');
    await c.upsertMany([
      { _id: 'a', n: 1 },
      { _id: 'b', n: 1 },
    ]);
    await expect(c.ensureIndex(['n'], { unique: true })).rejects.toThrow(/Duplicate key/);
    await c.deleteMany({ _id: 'b' });
    await c.ensureIndex(['n'], { unique: true });
    await expect(
      c.upsertMany([
        { _id: 'c', n: 2 },
        { _id: 'd', n: 1 },
      ]),
    ).rejects.toThrow(/Duplicate key/);
    expect(await c.count()).toBe(1);
    await c.upsertMany([
      { _id: 'a', n: 5 },
      { _id: 'd', n: 1 },
    ]); // a moves away from 1 in the same call
    await c.upsertMany([
      { _id: 'e', n: null },
      { _id: 'f', n: null },
    ]); // null is not constrained
    expect(await c.count()).toBe(4);
    dropMemoryStore(uri);
  });
});

describe('registerStoreDriver', () => {
  const driver = (specificationVersion: unknown): StoreDriver =>
    ({ ...memoryDriver, name: 'plugin-x', specificationVersion }) as unknown as StoreDriver;

  it('refuses a driver with a missing or unknown specificationVersion, naming it and the supported version', () => {
    expect(() => registerStoreDriver(driver(undefined))).toThrow(
      /store driver "plugin-x" declares no specificationVersion; rakuten-pipeline \S+ supports StoreDriver specification 'v1' only/,
    );
    expect(() => registerStoreDriver(driver('v2'))).toThrow(/store driver "plugin-x" implements StoreDriver specification "v2"; .* 'v1' only/);
  });
});
