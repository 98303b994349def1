import { describe, expect, it } from 'vitest';
import { naiveBayesModel } from '../../src/models/naive-bayes.js';
import { ModelRegistry } from '../../src/models/registry.js';
import { textImageModel } from '../../src/models/text-image-model.js';
import type { ModelFactory } from '../../src/models/types.js';
import { openMemoryStore } from '../../src/stores/memory/index.js';
import { mockModel, testModelFactory } from '../../src/testing/index.js';

// The suite shipped in rakuten-pipeline/testing, run on every model of the package.
testModelFactory(naiveBayesModel);
testModelFactory(mockModel);
// Small and quick: fixed image features (no MobileNet), a small image head.
testModelFactory(textImageModel, {
  params: { minEpochs: 1, ftDim: 8, imageBackbone: 'fixed', imageMinExamples: 20, imageHidden: 16, imageEpochs: 3 },
});

describe('ModelRegistry', () => {
  const factory = (specificationVersion: unknown): ModelFactory =>
    ({ ...mockModel, kind: 'plugin-y', specificationVersion }) as unknown as ModelFactory;

  it('refuses a factory with a missing or unknown specificationVersion, naming its kind and the supported version', () => {
    const store = openMemoryStore('memory://factory-contract-registry');
    expect(() => new ModelRegistry(store, [mockModel, factory(undefined)])).toThrow(
      /model factory "plugin-y" declares no specificationVersion; rakuten-pipeline \S+ supports ModelFactory specification 'v1' only/,
    );
    expect(() => new ModelRegistry(store, [factory('v0')])).toThrow(/model factory "plugin-y" implements ModelFactory specification "v0"; .* 'v1' only/);
    expect(() => new ModelRegistry(store, [mockModel, naiveBayesModel, textImageModel])).not.toThrow();
  });
});

// The MobileNet backbone through the same suite (small pictures and input side: quick), so its
// stored vectors are checked against the pixels it would read.
testModelFactory(textImageModel, {
  name: 'text-image-v1 (MobileNet features)',
  trainingSize: 60,
  params: { minEpochs: 1, ftDim: 8, imageBackbone: 'mobilenet', imageSize: 32, imageMinExamples: 20, imageHidden: 16, imageEpochs: 3 },
});
