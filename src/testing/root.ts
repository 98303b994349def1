/**
 * Everything the testing kit uses from the rest of the package, in one place.
 *
 * From the sources (this repository's tests) these are the modules themselves. In the build, tsup
 * replaces this module by the package's root entry (`rakuten-pipeline`), so that the kit and the
 * plugin under test share one copy of each class (`instanceof IntegrityError` holds for the
 * errors a driver throws) and of the memory stores. Every name here must therefore be exported,
 * unchanged, by `src/index.ts` (a test checks it).
 *
 * @module
 * @internal
 */
export { MOCK_MODEL_KIND, mockModel } from '../models/mock-model.js';
export { IntegrityError, StoreNotFoundError } from '../stores/errors.js';
export { dropMemoryStore, memoryDriver, openMemoryStore } from '../stores/memory/index.js';
export { weightedF1Scorer } from '../stages/evaluate/score.js';
