import { constants, lstatSync, realpathSync, statSync, type Stats } from 'node:fs';
import { lstat, open, realpath } from 'node:fs/promises';
import path from 'node:path';
import { escapeControls } from './escape.js';
import { formatBytes } from './limits.js';

/** Why a file of a data folder was refused. */
export type RefusedFileReason = 'image_not_regular_file' | 'image_outside_data_folder' | 'image_too_large';

/** Outcome of {@link readBoundedFile}: the bytes, or why the file was not read. */
export type BoundedRead = { ok: true; bytes: Buffer } | { ok: false; reason: RefusedFileReason; message: string };

/** Whether `target` is `root` or below it (both absolute and already resolved). */
export function isWithin(root: string, target: string): boolean {
  return target === root || target.startsWith(root.endsWith(path.sep) ? root : root + path.sep);
}

function kind(s: Stats): string {
  if (s.isDirectory()) return 'a directory';
  if (s.isFIFO()) return 'a FIFO';
  if (s.isCharacterDevice()) return 'a character device';
  if (s.isBlockDevice()) return 'a block device';
  if (s.isSocket()) return 'a socket';
  return 'not a regular file';
}

// O_NONBLOCK: opening a FIFO for reading must not wait for a writer. It has no effect on regular
// files, and the type is then checked on the open descriptor (no race with a rename).
const READ_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0);

/**
 * Reads a file of a data folder with bounds: it must be a regular file (a FIFO, a device such as
 * a symlink to /dev/zero, or a directory is refused without reading), a symlink must resolve to a
 * path inside `root` (the data folder's real path), and it must hold at most `maxBytes` bytes,
 * checked with fstat before reading and enforced while reading (at most `maxBytes + 1` bytes are
 * read, in case the file grows). `label` names the file in messages.
 */
export async function readBoundedFile(file: string, root: string, maxBytes: number, label: string): Promise<BoundedRead> {
  const name = escapeControls(label);
  let target = file;
  if ((await lstat(file)).isSymbolicLink()) {
    target = await realpath(file);
    if (!isWithin(root, target)) {
      return { ok: false, reason: 'image_outside_data_folder', message: `${name} is a symlink to ${escapeControls(target)}, outside the data folder` };
    }
  }
  const handle = await open(target, READ_FLAGS);
  try {
    const info = await handle.stat();
    if (!info.isFile()) return { ok: false, reason: 'image_not_regular_file', message: `${name} is ${kind(info)}, not a regular file` };
    const tooLarge = (size: string): BoundedRead => ({
      ok: false,
      reason: 'image_too_large',
      message: `${name} is ${size}, above the limit of ${formatBytes(maxBytes)} (maxImageFileBytes)`,
    });
    if (info.size > maxBytes) return tooLarge(formatBytes(info.size));
    // fstat's size is a hint (the file may change): read to EOF, never more than maxBytes + 1.
    let buffer = Buffer.allocUnsafe(info.size + 1);
    let length = 0;
    for (;;) {
      if (length === buffer.length) {
        if (length > maxBytes) return tooLarge(`larger than ${formatBytes(maxBytes)} (it grew while read)`);
        const bigger = Buffer.allocUnsafe(Math.min(maxBytes + 1, length * 2));
        buffer.copy(bigger, 0, 0, length);
        buffer = bigger;
      }
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    if (length > maxBytes) return tooLarge(`larger than ${formatBytes(maxBytes)} (it grew while read)`);
    return { ok: true, bytes: buffer.subarray(0, length) };
  } finally {
    await handle.close();
  }
}

/**
 * Checks a CSV file of a data folder before it is parsed: a regular file, and, when it is a
 * symlink, one resolving inside `root` (the folder's real path). Throws a clear error otherwise.
 * A missing file is left to the caller.
 */
export function checkDataFile(file: string, root: string): void {
  const link = lstatSync(file, { throwIfNoEntry: false });
  if (!link) return;
  const shown = escapeControls(file);
  if (link.isSymbolicLink()) {
    const target = realpathSync(file);
    if (!isWithin(root, target)) throw new Error(`${shown} is a symlink to ${escapeControls(target)}, outside the data folder: refused`);
  }
  const info = statSync(file);
  if (!info.isFile()) throw new Error(`${shown} is ${kind(info)}, not a regular file: refused`);
}
