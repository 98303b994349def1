import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { mobileNetDirectory } from '../../src/models/mobilenet-features.js';

interface NsfwModelModule {
  MobileNetV2Model: { modelJson: () => Promise<unknown>; weightBundles: (() => Promise<unknown>)[] };
}

const defaultExport = (module: unknown): unknown => (typeof module === 'object' && module !== null && 'default' in module ? (module as { default: unknown }).default : module);

describe('shipped MobileNetV2 weights', () => {
  // The package ships weights/ (scripts/extract-weights.mjs) instead of depending on nsfwjs: the
  // model must read exactly what it read from nsfwjs before, byte for byte.
  it('are the bytes and topology of the nsfwjs model they were extracted from', async () => {
    const dir = mobileNetDirectory();
    const shipped = JSON.parse(await readFile(path.join(dir, 'model.json'), 'utf8')) as {
      modelTopology: unknown;
      weightsManifest: { paths: string[]; weights: unknown[] }[];
    };
    const bytes = Buffer.concat(await Promise.all(shipped.weightsManifest.flatMap((g) => g.paths).map((file) => readFile(path.join(dir, file)))));

    const nsfw = (await import('nsfwjs/models/mobilenet_v2')) as unknown as NsfwModelModule;
    const source = defaultExport(await nsfw.MobileNetV2Model.modelJson()) as { modelTopology: unknown; weightsManifest: { weights: unknown[] }[] };
    const sourceBytes = Buffer.concat(
      await Promise.all(nsfw.MobileNetV2Model.weightBundles.map(async (bundle) => Buffer.from(defaultExport(await bundle()) as string, 'base64'))),
    );

    // Compared as JSON: a quantisation `min` of -0 is written as 0, which dequantises to the same values.
    const asJson = (value: unknown): unknown => JSON.parse(JSON.stringify(value));
    expect(shipped.modelTopology).toEqual(asJson(source.modelTopology));
    expect(shipped.weightsManifest.flatMap((g) => g.weights)).toEqual(asJson(source.weightsManifest.flatMap((g) => g.weights)));
    expect(bytes.length).toBe(sourceBytes.length);
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(createHash('sha256').update(sourceBytes).digest('hex'));
    const sums = await readFile(path.join(dir, 'SHA256SUMS'), 'utf8');
    expect(sums).toContain(createHash('sha256').update(bytes).digest('hex'));
  });
});
