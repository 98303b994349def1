import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { TextVectorizer } from '../../src/models/text-features.js';
import { NBSVM_WORKER_MIN_ENTRIES, nbSvmRunner, nbSvmWorkerPays } from '../../src/models/text-learner-runner.js';
import { syntheticProducts } from '../../src/testing/synthetic.js';

const { inputs, labels } = syntheticProducts({ count: 300, imageSize: 0, seed: 2, classes: [10, 40, 1280, 2583] });
const classes = [10, 40, 1280, 2583];
const vectorizer = TextVectorizer.fit(inputs);
const X = vectorizer.transformAll(inputs);
const y = Int32Array.from(labels, (l) => classes.indexOf(l));
const data = { X, y, features: vectorizer.size, classes: classes.length, options: { c: 1, alpha: 0.125, classWeights: null, seed: 3 } };

describe('nbSvmRunner', () => {
  it('trains in a worker thread exactly as on the calling thread', async () => {
    const here = nbSvmRunner(data, false);
    const there = nbSvmRunner(data, true);
    try {
      for (let pass = 0; pass < 4; pass++) {
        const [a, b] = await Promise.all([here.pass(), there.pass()]);
        expect(b.features).toBe(a.features);
        expect(b.weights).toEqual(a.weights);
      }
    } finally {
      await here.close();
      await there.close();
    }
    await expect(there.pass()).rejects.toThrow(/closed/);
  }, 60_000);

  it('goes on on the calling thread, with the same weights, when its worker fails', async () => {
    const here = nbSvmRunner(data, false);
    const broken = nbSvmRunner(data, true, new URL(`data:text/javascript,${encodeURIComponent('throw new Error("no entry")')}`));
    try {
      for (let pass = 0; pass < 3; pass++) expect((await broken.pass()).weights).toEqual((await here.pass()).weights);
    } finally {
      await here.close();
      await broken.close();
    }
  }, 60_000);

  it('uses a worker only for a large training matrix', () => {
    expect(nbSvmWorkerPays(X)).toBe(false);
    const big = { indices: new Int32Array(NBSVM_WORKER_MIN_ENTRIES), values: new Float32Array(NBSVM_WORKER_MIN_ENTRIES) };
    expect(nbSvmWorkerPays([big])).toBe(availableParallelism() > 1);
  });
});
