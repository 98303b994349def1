import { sha256Hex } from '../hash.js';
import { assertFieldName, matchesConditions, metadataConditions } from '../query.js';
import type { ImageFilter, ImageInfo, ImageMetadata, ImageStore, PutImageOptions, PutOutcome } from '../types.js';

/** One stored image: a private copy of its bytes and what `stat` reports. */
interface StoredImage {
  readonly bytes: Buffer;
  readonly info: ImageInfo;
  /** JSON of the metadata, compared to tell an unchanged put. */
  readonly metadataJson: string;
}

/** Where a memory store's images live: shared by every store opened on the same name. */
export type ImagesData = Map<string, StoredImage>;

/** A copy the caller may change without touching the store. */
function copyInfo(info: ImageInfo): ImageInfo {
  return { ...info, metadata: { ...info.metadata } };
}

/**
 * Images held in a `Map` by key; see `openMemoryStore`. Bytes are copied in on `put` and out on
 * `get`, so nothing outside the store can alter them: the SHA-256 is recorded and reported, but
 * `get` never finds it changed and never throws `IntegrityError`.
 */
export class MemoryImageStore implements ImageStore {
  /**
   * @param images - The images of the store's name.
   * @param assertOpen - Throws once the store is closed.
   */
  constructor(
    private readonly images: ImagesData,
    private readonly assertOpen: () => void,
  ) {}

  async put(key: string, bytes: Uint8Array, options: PutImageOptions = {}): Promise<PutOutcome> {
    this.assertOpen();
    if (key === '') throw new TypeError('Image key must not be empty');
    const sha256 = sha256Hex(bytes);
    const metadataJson = JSON.stringify(options.metadata ?? {});
    const contentType = options.contentType ?? 'image/jpeg';
    const old = this.images.get(key);
    if (old && old.info.sha256 === sha256 && old.metadataJson === metadataJson && old.info.contentType === contentType) return 'unchanged';
    const info: ImageInfo = {
      key,
      size: bytes.byteLength,
      sha256,
      contentType,
      metadata: JSON.parse(metadataJson) as ImageMetadata,
      storedAt: new Date().toISOString(),
    };
    this.images.set(key, { bytes: Buffer.from(bytes), info, metadataJson });
    return old ? 'updated' : 'inserted';
  }

  async get(key: string): Promise<Buffer | undefined> {
    this.assertOpen();
    const stored = this.images.get(key);
    return stored ? Buffer.from(stored.bytes) : undefined;
  }

  async stat(key: string): Promise<ImageInfo | undefined> {
    this.assertOpen();
    const stored = this.images.get(key);
    return stored ? copyInfo(stored.info) : undefined;
  }

  /** The matching images' info, ordered by key (UTF-16 code units). */
  private select(filter: ImageFilter = {}): ImageInfo[] {
    this.assertOpen();
    const conditions = metadataConditions(filter.metadata);
    const prefix = filter.prefix ?? '';
    const out: ImageInfo[] = [];
    for (const [key, stored] of this.images) {
      if (key.startsWith(prefix) && matchesConditions(stored.info.metadata, conditions)) out.push(stored.info);
    }
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async *list(filter?: ImageFilter): AsyncIterable<ImageInfo> {
    // A snapshot taken when iteration starts, like the document store's find.
    for (const info of this.select(filter)) yield copyInfo(info);
  }

  async count(filter?: ImageFilter): Promise<number> {
    return this.select(filter).length;
  }

  async delete(key: string): Promise<boolean> {
    this.assertOpen();
    return this.images.delete(key);
  }

  async ensureMetadataIndex(fields: readonly string[]): Promise<void> {
    this.assertOpen();
    // Nothing to build (filters scan the Map); the names are checked as the other stores do.
    for (const field of fields) assertFieldName(field);
  }
}
