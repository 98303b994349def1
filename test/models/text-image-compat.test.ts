import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { textImageModel } from '../../src/models/text-image-model.js';
import type { ModelArtifact } from '../../src/models/types.js';
import type { JsonValue } from '../../src/stores/types.js';
import { weightedF1Scorer } from '../../src/stages/evaluate/score.js';
import { syntheticProducts } from '../../src/testing/synthetic.js';

/**
 * A model saved (format 1) by the implementation before the streaming vectoriser and the
 * threaded learners (main at a366e6c), with its epoch seconds zeroed. Regenerate it only when
 * training is meant to change results.
 */
function fixture(): ModelArtifact {
  const raw = JSON.parse(readFileSync(new URL('./fixtures/text-image-v1-format1.json', import.meta.url), 'utf8')) as {
    kind: string;
    manifest: JsonValue;
    files: Record<string, string>;
  };
  const files = Object.fromEntries(Object.entries(raw.files).map(([k, v]) => [k, new Uint8Array(Buffer.from(v, 'base64'))]));
  return { kind: raw.kind, manifest: raw.manifest, files };
}

const train = syntheticProducts({ count: 150, imageSize: 0, seed: 3 });
const val = syntheticProducts({ count: 60, imageSize: 0, seed: 4 });

describe('text-image-v1 saved by an earlier version', () => {
  it('loads and saves back bit-exactly', async () => {
    const saved = fixture();
    const model = await textImageModel.load(saved);
    expect(model.featureCount).toBe(2368);
    const again = await model.save();
    expect(again.manifest).toEqual(saved.manifest);
    for (const [name, bytes] of Object.entries(saved.files)) expect(again.files[name], name).toEqual(bytes);
    const p = await model.predict(val.inputs.slice(0, 3));
    expect(p[0]?.length).toBe(3);
  });

  it('is what this version trains from the same data and seed, bit for bit', async () => {
    const model = await textImageModel.train(train.inputs, train.labels, {
      seed: 5,
      params: { image: false },
      validation: { ...val, score: weightedF1Scorer(val.labels) },
    });
    const artifact = await model.save();
    for (const h of (artifact.manifest as { history: { seconds: number }[] }).history) h.seconds = 0;
    const saved = fixture();
    expect(artifact.manifest).toEqual(saved.manifest);
    expect(Object.keys(artifact.files).sort()).toEqual(Object.keys(saved.files).sort());
    for (const [name, bytes] of Object.entries(saved.files)) expect(artifact.files[name], name).toEqual(bytes);
  });
});
