import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Db, Document, Filter, GridFSFile } from 'mongodb';
import { GridFSBucket, MongoRuntimeError } from 'mongodb';
import { IntegrityError } from '../errors.js';
import { sha256Hex } from '../hash.js';
import { assertFieldName, metadataConditions } from '../query.js';
import type { ImageFilter, ImageInfo, ImageMetadata, ImageStore, PutImageOptions, PutOutcome } from '../types.js';

/** Fields the store keeps in each GridFS file's `metadata` next to the caller's. */
interface StoredMetadata {
  sha256: string;
  contentType: string;
  user: ImageMetadata;
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Images in GridFS (`<bucket>.files` / `<bucket>.chunks`), one file per key, named by the key.
 * The caller's metadata lives under `metadata.user`, indexed on request.
 * A replacement is uploaded in full before the old file is deleted, so a crash never loses the
 * last good image; a leftover older file is removed by the next put of the same key.
 *
 * @example
 * ```ts
 * import { openMongoStore } from 'rakuten-pipeline/stores/mongodb';
 *
 * const store = await openMongoStore('mongodb://user:password@db/rakuten_db'); // store.images is a GridFsImageStore
 * await store.images.put('raw/train/example.jpg', jpegBytes, { metadata: { productid: '42' } });
 * const info = await store.images.stat('raw/train/example.jpg'); // size, sha256, metadata
 * await store.close();
 * ```
 */
export class GridFsImageStore implements ImageStore {
  private readonly bucket: GridFSBucket;
  private readonly files;
  private indexed: Promise<void> | undefined;

  /** Opens the bucket named `bucketName` (default `fs`) in `db`. */
  constructor(
    db: Db,
    private readonly bucketName = 'fs',
  ) {
    this.bucket = new GridFSBucket(db, { bucketName });
    this.files = db.collection<GridFSFile>(`${bucketName}.files`);
  }

  private ensureBaseIndexes(): Promise<void> {
    this.indexed ??= this.files
      .createIndexes([{ key: { filename: 1, uploadDate: -1 } }, { key: { 'metadata.sha256': 1 } }])
      .then(() => undefined);
    return this.indexed;
  }

  /** All stored versions of `key`, newest first. */
  private versions(key: string): Promise<GridFSFile[]> {
    return this.files.find({ filename: key }).sort({ uploadDate: -1, _id: -1 }).toArray();
  }

  async put(key: string, bytes: Uint8Array, options: PutImageOptions = {}): Promise<PutOutcome> {
    if (key === '') throw new TypeError('Image key must not be empty');
    await this.ensureBaseIndexes();
    const meta: StoredMetadata = {
      sha256: sha256Hex(bytes),
      contentType: options.contentType ?? 'image/jpeg',
      user: options.metadata ?? {},
    };
    const old = await this.versions(key);
    const current = old[0];
    if (current && old.length === 1 && sameMetadata(current.metadata as StoredMetadata | undefined, meta)) return 'unchanged';
    const upload = this.bucket.openUploadStream(key, { metadata: meta });
    await pipeline(Readable.from([Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)]), upload);
    // Keep only the newest version as listed now, not the versions read before the upload: two
    // writers of one key (two loads at once) then converge on one file instead of leaving both.
    const versions = await this.versions(key);
    for (const file of versions.slice(1)) await this.bucket.delete(file._id).catch(ignoreFileNotFound);
    return current ? 'updated' : 'inserted';
  }

  async get(key: string): Promise<Buffer | undefined> {
    const [file] = await this.versions(key);
    if (!file) return undefined;
    const parts: Buffer[] = [];
    for await (const chunk of this.bucket.openDownloadStream(file._id)) parts.push(chunk as Buffer);
    const bytes = Buffer.concat(parts);
    const expected = (file.metadata as Partial<StoredMetadata> | undefined)?.sha256;
    // Files written by this store always carry their hash; altered chunks no longer match it.
    if (expected) {
      const actual = sha256Hex(bytes);
      if (actual !== expected) throw new IntegrityError(key, expected, actual);
    }
    return bytes;
  }

  async stat(key: string): Promise<ImageInfo | undefined> {
    const [file] = await this.versions(key);
    return file ? toInfo(file) : undefined;
  }

  private query(filter: ImageFilter = {}): Filter<GridFSFile> {
    const q: Record<string, unknown> = {};
    if (filter.prefix) q['filename'] = { $regex: `^${escapeRegex(filter.prefix)}` };
    for (const c of metadataConditions(filter.metadata)) q[`metadata.user.${c.field}`] = c.values[0];
    return q as Filter<GridFSFile>;
  }

  async *list(filter?: ImageFilter): AsyncIterable<ImageInfo> {
    const cursor = this.files.find(this.query(filter)).sort({ filename: 1, uploadDate: -1 });
    let previous: string | undefined;
    try {
      for await (const file of cursor) {
        if (file.filename === previous) continue; // an older version left by an interrupted put
        previous = file.filename;
        yield toInfo(file);
      }
    } finally {
      await cursor.close();
    }
  }

  async count(filter?: ImageFilter): Promise<number> {
    const rows = await this.files
      .aggregate<Document>([{ $match: this.query(filter) }, { $group: { _id: '$filename' } }, { $count: 'n' }])
      .toArray();
    return (rows[0]?.['n'] as number | undefined) ?? 0;
  }

  async delete(key: string): Promise<boolean> {
    const old = await this.versions(key);
    for (const file of old) await this.bucket.delete(file._id).catch(ignoreFileNotFound);
    return old.length > 0;
  }

  async ensureMetadataIndex(fields: readonly string[]): Promise<void> {
    await this.ensureBaseIndexes();
    for (const field of fields) {
      assertFieldName(field);
      await this.files.createIndex({ [`metadata.user.${field}`]: 1 });
    }
  }
}

/** Another writer deleted the same superseded version first: the goal is reached. */
function ignoreFileNotFound(error: unknown): void {
  if (error instanceof MongoRuntimeError && /FileNotFound|File not found/i.test(error.message)) return;
  throw error;
}

function sameMetadata(a: StoredMetadata | undefined, b: StoredMetadata): boolean {
  return a !== undefined && a.sha256 === b.sha256 && a.contentType === b.contentType && JSON.stringify(a.user) === JSON.stringify(b.user);
}

function toInfo(file: GridFSFile): ImageInfo {
  const meta = (file.metadata ?? {}) as Partial<StoredMetadata>;
  return {
    key: file.filename,
    size: file.length,
    sha256: meta.sha256 ?? '',
    contentType: meta.contentType ?? 'application/octet-stream',
    metadata: meta.user ?? {},
    storedAt: file.uploadDate.toISOString(),
  };
}
