import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { ImageInfo, StoreDriver } from '../stores/types.js';
import { IntegrityError } from './root.js';
import { all, DEFAULT_STORE_TEST_TIMEOUT, type StoreDriverTestOptions, suiteName, useDriverStore } from './store-context.js';

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/**
 * Registers the `ImageStore` contract suite (vitest) for the stores `driver` opens: exact byte
 * round trips with size, SHA-256, content type and metadata, `IntegrityError` on altered bytes
 * (when `options.corrupt` is given), empty images, idempotent puts and replacements, independent
 * keys with identical bytes, listing in key order by prefix and metadata, more images than one
 * page, persistence across reopening. Call it at the top level of a test file, or inside a
 * `describe`.
 *
 * @param driver - The driver under test.
 * @param options - Where each test opens its store, how to clean up and to corrupt a stored image.
 */
export function testImageStore(driver: StoreDriver, options: StoreDriverTestOptions): void {
  const timeout = options.timeout ?? DEFAULT_STORE_TEST_TIMEOUT;
  const test = (name: string, fn: () => Promise<void>): void => {
    it(name, fn, timeout);
  };
  const corrupt = options.corrupt?.bind(options);
  describe.skipIf(options.skip !== undefined)(`ImageStore contract: ${suiteName(driver, options)}`, () => {
    const ctx = useDriverStore(driver, options);

    test('round-trips bytes exactly, with size, hash, type and metadata', async () => {
      const bytes = randomBytes(300_001);
      expect(await ctx.store.images.put('raw/a.jpg', bytes, { metadata: { productid: 12, split: 'train', ok: true, none: null } })).toBe(
        'inserted',
      );
      expect((await ctx.store.images.get('raw/a.jpg'))?.equals(bytes)).toBe(true);
      const info = await ctx.store.images.stat('raw/a.jpg');
      expect(info).toMatchObject({
        key: 'raw/a.jpg',
        size: 300_001,
        sha256: sha(bytes),
        contentType: 'image/jpeg',
        metadata: { productid: 12, split: 'train', ok: true, none: null },
      });
      expect(Number.isNaN(Date.parse(info?.storedAt ?? ''))).toBe(false);
      expect(await ctx.store.images.get('missing')).toBeUndefined();
      expect(await ctx.store.images.stat('missing')).toBeUndefined();
    });

    it.skipIf(corrupt === undefined)('refuses to return bytes altered after they were stored, naming the key', async () => {
      const bytes = randomBytes(70_000);
      await ctx.store.images.put('models/v1/weights.bin', bytes);
      await corrupt?.(ctx.uri, 'models/v1/weights.bin', sha(bytes));
      const read = ctx.store.images.get('models/v1/weights.bin');
      await expect(read).rejects.toBeInstanceOf(IntegrityError);
      await expect(ctx.store.images.get('models/v1/weights.bin')).rejects.toThrow(/models\/v1\/weights\.bin is corrupt/);
    }, timeout);

    test('stores an empty image and a custom content type', async () => {
      await ctx.store.images.put('empty.png', new Uint8Array(0), { contentType: 'image/png' });
      expect((await ctx.store.images.get('empty.png'))?.length).toBe(0);
      expect((await ctx.store.images.stat('empty.png'))?.contentType).toBe('image/png');
    });

    test('is idempotent and replaces changed bytes or metadata', async () => {
      const a = randomBytes(1000);
      const b = randomBytes(2000);
      expect(await ctx.store.images.put('k', a, { metadata: { v: 1 } })).toBe('inserted');
      expect(await ctx.store.images.put('k', a, { metadata: { v: 1 } })).toBe('unchanged');
      expect(await ctx.store.images.put('k', a, { metadata: { v: 2 } })).toBe('updated');
      expect((await ctx.store.images.stat('k'))?.metadata).toEqual({ v: 2 });
      expect(await ctx.store.images.put('k', b, { metadata: { v: 2 } })).toBe('updated');
      expect((await ctx.store.images.get('k'))?.equals(b)).toBe(true);
      expect(await ctx.store.images.count()).toBe(1);
    });

    test('keeps identical bytes under two keys independent', async () => {
      const a = randomBytes(500);
      await ctx.store.images.put('one', a);
      await ctx.store.images.put('two', a);
      expect(await ctx.store.images.delete('one')).toBe(true);
      expect(await ctx.store.images.delete('one')).toBe(false);
      expect((await ctx.store.images.get('two'))?.equals(a)).toBe(true);
      expect(await ctx.store.images.get('one')).toBeUndefined();
    });

    test('lists by key order, prefix and metadata, and counts the same', async () => {
      await ctx.store.images.ensureMetadataIndex(['split', 'productid']);
      await ctx.store.images.ensureMetadataIndex(['split']);
      for (const [key, split, productid] of [
        ['raw/test/c', 'test', 3],
        ['raw/train/b', 'train', 2],
        ['raw/train/a', 'train', 1],
        ['prep/train/a', 'train', 1],
        ['raw/train/with%_chars', 'train', 4],
      ] as const) {
        await ctx.store.images.put(key, Buffer.from(key), { metadata: { split, productid } });
      }
      const keys = (it: ImageInfo[]) => it.map((i) => i.key);
      expect(keys(await all(ctx.store.images.list()))).toEqual([
        'prep/train/a',
        'raw/test/c',
        'raw/train/a',
        'raw/train/b',
        'raw/train/with%_chars',
      ]);
      expect(keys(await all(ctx.store.images.list({ prefix: 'raw/train/' })))).toEqual([
        'raw/train/a',
        'raw/train/b',
        'raw/train/with%_chars',
      ]);
      expect(keys(await all(ctx.store.images.list({ prefix: 'raw/train/w' })))).toEqual(['raw/train/with%_chars']);
      expect(keys(await all(ctx.store.images.list({ prefix: 'raw/', metadata: { split: 'train', productid: 1 } })))).toEqual([
        'raw/train/a',
      ]);
      expect(await ctx.store.images.count({ metadata: { split: 'train' } })).toBe(4);
      expect(await ctx.store.images.count({ prefix: 'raw/' })).toBe(4);
      expect(await ctx.store.images.count({ prefix: 'nothing/' })).toBe(0);
    });

    test('lists more images than one page', async () => {
      for (let i = 0; i < 1100; i++) await ctx.store.images.put(`p/${String(i).padStart(5, '0')}`, Buffer.from([i % 256]));
      const listed = await all(ctx.store.images.list({ prefix: 'p/' }));
      expect(listed.length).toBe(1100);
      expect(new Set(listed.map((i) => i.key)).size).toBe(1100);
    });

    test('keeps images across reopening', async () => {
      const a = randomBytes(4096);
      await ctx.store.images.put('persist', a, { metadata: { x: 'y' } });
      await ctx.reopen();
      expect((await ctx.store.images.get('persist'))?.equals(a)).toBe(true);
      expect((await ctx.store.images.stat('persist'))?.metadata).toEqual({ x: 'y' });
    });
  });
}
