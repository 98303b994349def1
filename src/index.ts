/**
 * rakuten-pipeline: the machine-learning life cycle for Rakuten France product classification,
 * as composable typed stages over pluggable storage.
 *
 * @packageDocumentation
 */
export type {
  BaseDocument,
  DocumentCollection,
  DocumentStore,
  FieldCondition,
  Filter,
  FindOptions,
  ImageFilter,
  ImageInfo,
  ImageMetadata,
  ImageStore,
  JsonValue,
  PutImageOptions,
  PutOutcome,
  Scalar,
  ScalarKeys,
  Store,
  StoreDriver,
  WriteResult,
} from './stores/types.js';
export { DEFAULT_STORE_DIR, openStore, registerStoreDriver, resolveStoreUri } from './stores/registry.js';
export { embeddedDriver, FileImageStore, openEmbeddedStore, SqliteDocumentStore } from './stores/embedded/index.js';
export {
  DEFAULT_MONGO_DB,
  GridFsImageStore,
  MongoDocumentStore,
  mongoDriver,
  openMongoStore,
  redact,
} from './stores/mongodb/index.js';
export { COLLECTIONS, RAW_IMAGE_PREFIX } from './collections.js';
export type { ProgressEvent, ProgressListener, StageRunOptions } from './progress.js';
export { ChallengeDataLoader, LoadError, type DataLoader, type LoadOptions } from './stages/load/loader.js';
export { LABEL_FILE_NAMES, resolveLayout, type ChallengeLayout } from './stages/load/layout.js';
export { CsvSyntaxError } from './stages/load/csv.js';
export { formatEntry } from './stages/load/quarantine.js';
export type {
  ImageCounts,
  LabelRow,
  LoadRun,
  LoadSplit,
  ProductRow,
  QuarantineAction,
  QuarantineEntry,
  QuarantineReason,
  RowCounts,
  RunFile,
  RunStatus,
} from './stages/load/types.js';
export { getDataStatus, type DataStatus, type SplitImageStatus } from './stages/status.js';
export {
  DEMO_PRDTYPECODES,
  generateDemoCatalogue,
  type DemoCatalogueOptions,
  type DemoCatalogueSummary,
  type DemoFaults,
  type DemoInjectedFaults,
} from './demo/generate-catalogue.js';
