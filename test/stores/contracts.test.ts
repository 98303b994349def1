import { dropMemoryStore, memoryDriver, testStoreDriver } from '../../src/testing/index.js';
import { storeBackends, type StoreHarness } from '../support/stores.js';

// The suites shipped in rakuten-pipeline/testing, run on every built-in driver exactly as a
// plugin author runs them on theirs.
for (const backend of storeBackends()) {
  const harnesses = new Map<string, StoreHarness>();
  const harness = (uri: string): StoreHarness => {
    const found = harnesses.get(uri);
    if (!found) throw new Error(`no harness for ${uri}`);
    return found;
  };
  testStoreDriver(backend.driver, {
    name: backend.name,
    ...(backend.skip ? { skip: backend.skip } : {}),
    async uri() {
      const created = await backend.create();
      harnesses.set(created.uri, created);
      return created.uri;
    },
    async cleanup(uri) {
      await harness(uri).dispose();
      harnesses.delete(uri);
    },
    corrupt: (uri, key, sha256) => harness(uri).corrupt(key, sha256),
  });
}

let n = 0;
testStoreDriver(memoryDriver, {
  uri: () => `memory://contract-${process.pid}-${n++}`,
  cleanup: (uri) => void dropMemoryStore(uri),
});
