import { describe, expect, it } from 'vitest';
import { BlockCounts, TextVectorizer } from '../../src/models/text-features.js';
import type { ModelInput } from '../../src/models/types.js';
import { syntheticProducts } from '../../src/testing/synthetic.js';

const { inputs } = syntheticProducts({ count: 200, imageSize: 0, seed: 9 });
const long: ModelInput = {
  designation: 'une très longue désignation de produit pour piscine et jardin',
  description: 'description '.repeat(200),
  designationTokens: ['tres', 'longu', 'design', 'produit', 'piscin', 'jardin'],
  descriptionTokens: Array.from({ length: 400 }, (_, i) => `mot${i % 150}`),
  image: null,
};

describe('BlockCounts', () => {
  it('counts keys in first-seen order, through growth and clearing', () => {
    const counts = new BlockCounts();
    const keys = Array.from({ length: 1000 }, (_, i) => (Math.imul(i + 1, 0x9e3779b1) >>> 0));
    for (const key of keys) counts.add(key);
    for (const key of keys.slice(0, 10)) counts.add(key);
    expect(counts.size).toBe(1000);
    expect([...counts.keys.subarray(0, 1000)]).toEqual(keys);
    expect([...counts.counts.subarray(0, 12)]).toEqual([...Array(10).fill(2), 1, 1]);
    counts.clear();
    expect(counts.size).toBe(0);
    counts.add(keys[5] as number);
    counts.add(keys[5] as number);
    counts.add(7);
    expect([...counts.keys.subarray(0, counts.size)]).toEqual([keys[5], 7]);
    expect([...counts.counts.subarray(0, counts.size)]).toEqual([2, 1]);
  });
});

describe('TextVectorizer', () => {
  it('transformAll gives the rows of transform, packed in shared buffers', () => {
    const vectorizer = TextVectorizer.fit([...inputs, long]);
    const rows = vectorizer.transformAll([...inputs, long]);
    expect(rows).toHaveLength(inputs.length + 1);
    [...inputs, long].forEach((input, i) => {
      const one = vectorizer.transform(input);
      expect(rows[i]?.indices).toEqual(one.indices);
      expect(rows[i]?.values).toEqual(one.values);
    });
    // Rows are views: a few buffers, shared with worker threads without a copy.
    expect(rows[0]?.indices.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(rows[0]?.indices.buffer).toBe(rows[inputs.length]?.indices.buffer);
  });

  it('keeps the maxFeatures most frequent features (ties by key) and those in minDf products', () => {
    const all = TextVectorizer.fit(inputs);
    const frequent = TextVectorizer.fit(inputs, { minDf: 5 });
    const top = TextVectorizer.fit(inputs, { maxFeatures: 50 });
    expect(frequent.size).toBeLessThan(all.size);
    expect(top.size).toBe(50);
    const idf = (v: TextVectorizer) => new Map([...v.state().keys].map((k, i) => [k, v.state().idf[i] as number]));
    const allIdf = idf(all);
    // Same document frequencies, hence the same idf, for the features kept.
    for (const [key, value] of idf(frequent)) expect(allIdf.get(key)).toBe(value);
    const topIdf = [...idf(top).values()];
    const threshold = Math.max(...topIdf);
    // Every feature left out is at most as frequent as the rarest one kept (idf at least as high).
    const missing = [...allIdf].filter(([key]) => !idf(top).has(key)).map(([, v]) => v);
    expect(Math.min(...missing)).toBeGreaterThanOrEqual(threshold);
    expect([...top.state().keys]).toEqual([...top.state().keys].sort((a, b) => a - b));
  });
});
