/**
 * `rakuten-pipeline/testing`: kits for plugin authors. Contract suites (vitest) that a store driver
 * or a model factory must pass, and the reference plugins to read and to test with: the in-memory
 * store driver and a tiny deterministic mock model.
 *
 * Importing this entry imports `vitest`, an optional peer dependency: use it from test files only.
 * The root entry (`rakuten-pipeline`) never imports it. It uses the root entry's own classes and
 * memory stores (the errors a driver throws are the ones the suites check). vitest runs test
 * files as ES modules, which load the ESM build; the CommonJS build serves type resolution in
 * CommonJS projects (vitest refuses `require`).
 *
 * @module rakuten-pipeline/testing
 */
export { testStoreDriver } from './store-driver.js';
export { testDocumentStore } from './document-store.js';
export { testImageStore } from './image-store.js';
export type { StoreDriverTestOptions } from './store-context.js';
export { testModelFactory, type ModelFactoryTestOptions } from './model-factory.js';
export { syntheticProducts, type SyntheticProductsOptions } from './synthetic.js';
// The reference plugins, from the root entry (the same objects, not copies).
export { dropMemoryStore, memoryDriver, MOCK_MODEL_KIND, mockModel, openMemoryStore } from './root.js';
