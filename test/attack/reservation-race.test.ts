// Two trainings finishing at about the same time, after an earlier training was killed while
// registering (its reservation `v1` and its files are left). Both clean up abandoned
// reservations first. The first to get there deletes v1's files and claim, then — v1 being free
// again — claims v1 itself and writes its weights under `models/v1/`. The second had already
// listed v1 as abandoned; it now deletes everything under `models/v1/`: the live registration's
// weights. The registered v1 (possibly the champion) can no longer be loaded.
import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { COLLECTIONS } from '../../src/collections.js';
import { ModelRegistry, type ModelReservation } from '../../src/models/registry.js';
import type { ModelFactory, ProductClassifier } from '../../src/models/types.js';
import { storeBackends, useStore } from '../support/stores.js';
import { hookStore } from './hooks.js';

function stubModel(seed: number): ProductClassifier {
  const weights = new Uint8Array(64).map((_, i) => (i * 7 + seed) & 0xff);
  const model: ProductClassifier = {
    kind: 'stub', classes: [10, 40], params: {}, history: [],
    predict: async (inputs) => inputs.map(() => new Float32Array([0.5, 0.5])),
    save: async () => ({ kind: 'stub', manifest: { seed }, files: { 'w.bin': weights } }),
    dispose: () => undefined,
  };
  return model;
}
const factory = { specificationVersion: 'v1', kind: 'stub', train: () => Promise.reject(new Error('n/a')), load: async () => stubModel(0) } as unknown as ModelFactory;
const meta = {
  backend: 'cpu', trainingSeconds: 1, dataDistribution: { train: {}, val: {} },
  validation: { weightedF1: 0.5, textOnlyWeightedF1: 0.5, withImageWeightedF1: null, withImageTextOnlyWeightedF1: null, accuracy: 0.5, perClassF1: {}, count: 1 },
  preprocessing: {}, prepareRun: null,
};

for (const backend of storeBackends()) {
  describe.skipIf(backend.skip)(`reservation clean-up on ${backend.name}`, () => {
    const ctx = useStore(backend);

    it("never deletes the weight files of a registration that is still live", async () => {
      // A training killed while registering v1: its claim and one file are left behind.
      const deadPid = spawnSync('true').pid ?? 999_999;
      const claim: ModelReservation = {
        _id: 'v1', type: 'reservation', version: 1, owner: { host: hostname(), pid: deadPid }, token: 'dead', createdAt: new Date().toISOString(),
      };
      await ctx.store.documents.collection<ModelReservation>(COLLECTIONS.modelMetadata).insertIfAbsent(claim);
      await ctx.store.images.put('models/v1/dead/w.bin', new Uint8Array([1, 2, 3]));

      const a = new ModelRegistry(ctx.store, [factory]);
      let registeredByA: number | undefined;
      // Training B has found v1 abandoned; just before it lists v1's files, training A registers.
      const hooked = hookStore(ctx.store, {
        async beforeList(filter) {
          if (registeredByA !== undefined || !filter?.prefix?.startsWith('models/v1/')) return;
          registeredByA = (await a.register(stubModel(1), meta)).version;
        },
      });
      const b = new ModelRegistry(hooked, [factory]);
      const vb = await b.register(stubModel(2), meta);
      expect(registeredByA).toBe(1);
      expect(vb.version).toBe(2);

      // A's version is registered: its weights must be loadable.
      const va = await a.require(1);
      await expect(new ModelRegistry(ctx.store, [factory]).load(va)).resolves.toBeDefined();
    });
  });
}
