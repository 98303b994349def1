import { randomBytes } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { finished } from 'node:stream/promises';

/**
 * Checks that `file` can be written: it is not a folder, and its folder exists (unless
 * `createFolder`, for writers that create it). Meant to run before long work, so that a typo
 * fails at once; `label` starts the message (`--output`).
 *
 * @throws Error `<label>: <file> is a folder` or `<label>: folder <dir> does not exist`.
 */
export async function checkOutputFile(file: string, label: string, options: { createFolder?: boolean } = {}): Promise<void> {
  const target = path.resolve(file);
  if ((await stat(target).catch(() => null))?.isDirectory()) throw new Error(`${label}: ${file} is a folder; give a file path`);
  if (options.createFolder) return;
  const dir = path.dirname(target);
  const folder = await stat(dir).catch(() => null);
  if (!folder?.isDirectory()) throw new Error(`${label}: folder ${dir} does not exist`);
}

/** The temporary file beside `file` its new content is written to. */
function tempPathFor(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
}

/**
 * Writes `data` to `file` all or nothing: into a temporary file in the same folder, then renamed
 * over `file` (atomic on one file system). A failed write leaves any previous `file` untouched.
 */
export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  const temp = tempPathFor(file);
  try {
    await writeFile(temp, data, { flag: 'wx' });
    await rename(temp, file);
  } catch (e) {
    await rm(temp, { force: true });
    throw e;
  }
}

/** A file being written through a stream; see {@link atomicWriteStream}. */
export interface AtomicWrite {
  /** Where to write the content. */
  readonly stream: WriteStream;
  /** Ends the stream and renames the temporary file over the target. */
  commit(): Promise<void>;
  /** Ends the stream and deletes the temporary file; the target stays as it was. */
  abort(): Promise<void>;
}

/**
 * A write stream whose content replaces `file` only on {@link AtomicWrite.commit}: until then it
 * goes to a temporary file in the same folder, so that a run failing half-way (a bad row, Ctrl-C)
 * never leaves `file` truncated. Open errors (a missing folder) surface from `commit`/`abort`
 * and from writes, never as an uncaught stream error.
 */
export function atomicWriteStream(file: string): AtomicWrite {
  const temp = tempPathFor(file);
  const stream = createWriteStream(temp, { flags: 'wx' });
  let error: Error | undefined;
  // Kept for commit(): an unhandled 'error' event would crash the process with a stack.
  stream.on('error', (e) => (error ??= e));
  const end = async () => {
    if (!stream.writableFinished && !stream.destroyed) stream.end();
    await finished(stream).catch((e: Error) => (error ??= e));
  };
  return {
    stream,
    async commit() {
      await end();
      if (error) {
        await rm(temp, { force: true });
        throw error;
      }
      await rename(temp, file);
    },
    async abort() {
      await end();
      await rm(temp, { force: true });
    },
  };
}
