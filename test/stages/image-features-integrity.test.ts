import { describe, expect, it } from 'vitest';
import { COLLECTIONS } from '../../src/collections.js';
import { builtInImageExtractor } from '../../src/models/image-extractors.js';
import { decodePreparedPng, type ImageFeatureDocument, storedImageFeatures } from '../../src/stages/image-features.js';
import { encodePng } from '../../src/stages/preprocess/image.js';
import { openMemoryStore } from '../../src/stores/memory/index.js';

function picture(seed: number): Buffer {
  const side = 16;
  const pixels = Buffer.alloc(side * side * 3);
  for (let i = 0; i < pixels.length; i++) pixels[i] = (i * (seed + 3) + seed * 31) & 255;
  return encodePng(pixels, side, side);
}

describe('image_features integrity (review)', () => {
  const extractor = builtInImageExtractor('fixed', 16);

  it('keys a stored vector by its document id, not by the sha256 field inside it', async () => {
    const store = openMemoryStore(`memory://review-features-${Date.now()}-b`);
    const a = picture(3);
    const b = picture(4);
    await store.images.put('prep/16/train/a.png', a, { contentType: 'image/png' });
    await store.images.put('prep/16/train/b.png', b, { contentType: 'image/png' });
    const shaA = (await store.images.stat('prep/16/train/a.png'))!.sha256;
    const shaB = (await store.images.stat('prep/16/train/b.png'))!.sha256;
    const [va, vb] = await extractor.compute([await decodePreparedPng(a), await decodePreparedPng(b)]);
    const features = store.documents.collection<ImageFeatureDocument>(COLLECTIONS.imageFeatures);
    // B's correct document, then a damaged (or hostile) document at A's address claiming to be B's.
    await features.upsertMany([
      { _id: `${extractor.id}:${shaB}`, extractor: extractor.id, sha256: shaB, vector: Buffer.from(vb!.buffer).toString('base64') },
      { _id: `${extractor.id}:${shaA}`, extractor: extractor.id, sha256: shaB, vector: Buffer.from(va!.buffer).toString('base64') },
    ]);
    const { vectors } = await storedImageFeatures(
      store,
      [
        { key: 'prep/16/train/a.png', sha256: shaA },
        { key: 'prep/16/train/b.png', sha256: shaB },
      ],
      extractor,
    );
    expect(Array.from(vectors.get(shaB)!)).toEqual(Array.from(vb!));
    expect(Array.from(vectors.get(shaA)!)).toEqual(Array.from(va!));
  });

  it('never stores a vector under a sha256 its bytes do not have (picture rewritten between listing and reading)', async () => {
    const store = openMemoryStore(`memory://review-features-${Date.now()}-a`);
    const key = 'prep/16/test/a.png';
    const before = picture(1);
    await store.images.put(key, before, { contentType: 'image/png', metadata: { size: 16 } });
    const listed = (await store.images.stat(key))!;
    // A concurrent prepare (another tolerance, a new image method) rewrites the same key.
    const after = picture(2);
    await store.images.put(key, after, { contentType: 'image/png', metadata: { size: 16 } });
    await storedImageFeatures(store, [{ key, sha256: listed.sha256 }], extractor);
    const doc = await store.documents.collection<ImageFeatureDocument>(COLLECTIONS.imageFeatures).get(`${extractor.id}:${listed.sha256}`);
    if (doc) {
      // Whatever is stored under the old picture's address must be the old picture's vector.
      const [expected] = await extractor.compute([await decodePreparedPng(before)]);
      expect(Buffer.from(doc.vector, 'base64')).toEqual(Buffer.from(expected!.buffer));
    }
    // The address of the bytes that were read holds their vector, so a later run reuses it correctly.
    const current = (await store.images.stat(key))!;
    const [now] = await extractor.compute([await decodePreparedPng(after)]);
    const { vectors } = await storedImageFeatures(store, [{ key, sha256: current.sha256 }], extractor);
    expect(Array.from(vectors.get(current.sha256)!)).toEqual(Array.from(now!));
  });

});
