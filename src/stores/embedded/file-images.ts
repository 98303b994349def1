import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { IntegrityError } from '../errors.js';
import { sha256Hex } from '../hash.js';
import { assertFieldName, metadataConditions } from '../query.js';
import type { ImageFilter, ImageInfo, ImageMetadata, ImageStore, PutImageOptions, PutOutcome } from '../types.js';
import type { SqliteConnection } from './sqlite-connection.js';
import { whereSql } from './sqlite-documents.js';

interface ImageRow {
  key: string;
  sha256: string;
  size: number;
  content_type: string;
  metadata: string;
  stored_at: string;
}

const PAGE = 1000;

/**
 * Images as content-addressed files (`blobs/ab/abcdef...`) plus one SQLite row per key.
 * A blob is written to a temporary file, fsynced and renamed before its row is committed, so a
 * crash leaves either the old image or the new one, never a torn file.
 */
export class FileImageStore implements ImageStore {
  private readonly blobDir: string;
  /** Blobs being written by a put in flight, which a concurrent delete must not remove. */
  private readonly pending = new Map<string, number>();

  /** @internal Built by {@link openEmbeddedStore}, on its connection and folder. */
  constructor(
    private readonly db: SqliteConnection,
    root: string,
  ) {
    this.blobDir = path.join(root, 'blobs');
    db.exec(`CREATE TABLE IF NOT EXISTS images (
      key TEXT PRIMARY KEY, sha256 TEXT NOT NULL, size INTEGER NOT NULL,
      content_type TEXT NOT NULL, metadata TEXT NOT NULL, stored_at TEXT NOT NULL)`);
    db.exec(`CREATE INDEX IF NOT EXISTS "idx:images:sha256" ON images (sha256)`);
  }

  private blobPath(sha: string): string {
    return path.join(this.blobDir, sha.slice(0, 2), sha);
  }

  private async writeBlob(sha: string, bytes: Uint8Array): Promise<void> {
    const target = this.blobPath(sha);
    await mkdir(path.dirname(target), { recursive: true });
    const tmp = `${target}.${randomBytes(6).toString('hex')}.tmp`;
    const handle = await open(tmp, 'w');
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, target);
  }

  private row(key: string): ImageRow | undefined {
    return this.db.prepare('SELECT * FROM images WHERE key = ?').get(key) as ImageRow | undefined;
  }

  async put(key: string, bytes: Uint8Array, options: PutImageOptions = {}): Promise<PutOutcome> {
    if (key === '') throw new TypeError('Image key must not be empty');
    const sha = sha256Hex(bytes);
    const metadata = JSON.stringify(options.metadata ?? {});
    const contentType = options.contentType ?? 'image/jpeg';
    const old = this.row(key);
    if (old && old.sha256 === sha && old.metadata === metadata && old.content_type === contentType) return 'unchanged';
    this.pending.set(sha, (this.pending.get(sha) ?? 0) + 1);
    try {
      if (!old || old.sha256 !== sha) await this.writeBlob(sha, bytes);
      this.upsertRow(key, sha, bytes.byteLength, contentType, metadata);
    } finally {
      const n = (this.pending.get(sha) ?? 1) - 1;
      if (n > 0) this.pending.set(sha, n);
      else this.pending.delete(sha);
    }
    if (old && old.sha256 !== sha) await this.dropBlobIfUnused(old.sha256);
    return old ? 'updated' : 'inserted';
  }

  private upsertRow(key: string, sha: string, size: number, contentType: string, metadata: string): void {
    this.db
      .prepare(
        `INSERT INTO images (key, sha256, size, content_type, metadata, stored_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT(key) DO UPDATE SET sha256 = excluded.sha256, size = excluded.size,
           content_type = excluded.content_type, metadata = excluded.metadata, stored_at = excluded.stored_at`,
      )
      .run(key, sha, size, contentType, metadata, new Date().toISOString());
  }

  private async dropBlobIfUnused(sha: string): Promise<void> {
    if (this.pending.has(sha)) return;
    const used = this.db.prepare('SELECT 1 FROM images WHERE sha256 = ? LIMIT 1').get(sha);
    if (!used) await rm(this.blobPath(sha), { force: true });
  }

  async get(key: string): Promise<Buffer | undefined> {
    const row = this.row(key);
    if (!row) return undefined;
    const bytes = await readFile(this.blobPath(row.sha256));
    // Content-addressed: a blob whose bytes no longer hash to its name was altered on disk.
    const actual = sha256Hex(bytes);
    if (actual !== row.sha256) throw new IntegrityError(key, row.sha256, actual);
    return bytes;
  }

  async stat(key: string): Promise<ImageInfo | undefined> {
    const row = this.row(key);
    return row ? toInfo(row) : undefined;
  }

  private where(filter: ImageFilter = {}): { sql: string; params: unknown[] } {
    const meta = whereSql(metadataConditions(filter.metadata), 'metadata');
    if (filter.prefix === undefined) return meta;
    // substr comparison instead of LIKE: keys may hold % and _.
    return { sql: `substr(key, 1, ?) = ? AND ${meta.sql}`, params: [filter.prefix.length, filter.prefix, ...meta.params] };
  }

  async *list(filter?: ImageFilter): AsyncIterable<ImageInfo> {
    const where = this.where(filter);
    const stmt = this.db.prepare(`SELECT * FROM images WHERE key > ? AND ${where.sql} ORDER BY key LIMIT ${PAGE}`);
    let after = '';
    for (;;) {
      const rows = stmt.all(after, ...where.params) as ImageRow[];
      for (const row of rows) yield toInfo(row);
      const last = rows.at(-1);
      if (rows.length < PAGE || !last) return;
      after = last.key;
    }
  }

  async count(filter?: ImageFilter): Promise<number> {
    const where = this.where(filter);
    return this.db.prepare(`SELECT count(*) FROM images WHERE ${where.sql}`).pluck().get(...where.params) as number;
  }

  async delete(key: string): Promise<boolean> {
    const row = this.row(key);
    if (!row) return false;
    this.db.prepare('DELETE FROM images WHERE key = ?').run(key);
    await this.dropBlobIfUnused(row.sha256);
    return true;
  }

  async ensureMetadataIndex(fields: readonly string[]): Promise<void> {
    for (const field of fields) {
      assertFieldName(field);
      this.db.exec(`CREATE INDEX IF NOT EXISTS "idx:images:${field}" ON images (json_extract(metadata, '$.${field}'))`);
    }
  }
}

function toInfo(row: ImageRow): ImageInfo {
  return {
    key: row.key,
    size: row.size,
    sha256: row.sha256,
    contentType: row.content_type,
    metadata: JSON.parse(row.metadata) as ImageMetadata,
    storedAt: row.stored_at,
  };
}
