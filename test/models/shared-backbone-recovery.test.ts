import { expect, it, vi } from 'vitest';

// A backbone whose worker pool died (a worker crashed, ran out of memory): every compute rejects
// from then on, as MobileNetPool does once `failure` is set. The next load works.
const loads = vi.hoisted(() => ({ count: 0, closed: 0 }));
vi.mock('../../src/models/image-backbone.js', () => ({
  loadImageBackbone: async (size: number) => {
    const broken = loads.count++ === 0;
    return {
      backend: 'wasm',
      threads: 1,
      size,
      compute: async (images: readonly unknown[]) => {
        if (broken) throw new Error('MobileNet worker exited (code 1)');
        return images.map(() => new Float32Array(672));
      },
      close: async () => {
        loads.closed++;
      },
    };
  },
}));

it('a shared backbone that failed is loaded again, not kept for the life of the process', async () => {
  const { builtInImageExtractor } = await import('../../src/models/image-extractors.js');
  const extractor = builtInImageExtractor('mobilenet', 96);
  const image = { pixels: new Uint8Array(8 * 8 * 3), size: 8 };
  await expect(extractor.compute([image])).rejects.toThrow(/worker exited/);
  // A long-lived API server: the next training or evaluation must not fail for the same reason.
  await expect(extractor.compute([image])).resolves.toHaveLength(1);
  expect(loads.count).toBe(2);
  expect(loads.closed).toBe(1);
});
