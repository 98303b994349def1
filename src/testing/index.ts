/**
 * `rakuten-pipeline/testing`: kits for plugin authors. Contract suites (vitest) that a store driver
 * or a model factory must pass, and the reference plugins to read and to test with: the in-memory
 * store driver and a tiny deterministic mock model.
 *
 * Importing this entry imports `vitest`, an optional peer dependency: use it from test files only.
 * The root entry (`rakuten-pipeline`) never imports it.
 *
 * @packageDocumentation
 */
export { testDocumentStore } from './document-store.js';
export { testImageStore } from './image-store.js';
export { testStoreDriver } from './store-driver.js';
export type { StoreDriverTestOptions } from './store-context.js';
export { dropMemoryStore, memoryDriver, openMemoryStore } from './root.js';
export { testModelFactory, type ModelFactoryTestOptions } from './model-factory.js';
export { syntheticProducts, type SyntheticProductsOptions } from './synthetic.js';
export { MOCK_MODEL_KIND, mockModel } from './root.js';
