import { loadSharp } from '../../util/sharp.js';
import { readdir } from 'node:fs/promises';
import { DEFAULT_MAX_INPUT_PIXELS, explainPixelLimit } from '../preprocess/image.js';
import { parseId, type RowId } from './ids.js';

/** File name pattern of the challenge images. */
const IMAGE_NAME = /^image_(\d+)_product_(\d+)\.jpe?g$/i;

/** The challenge file name of a product's image. */
export function imageFileName(imageid: RowId, productid: RowId): string {
  return `image_${imageid}_product_${productid}.jpg`;
}

/** Image files of a folder, by `imageid:productid`, plus names that do not follow the pattern. */
export interface ImageFolderIndex {
  /** File name by `imageid:productid`. */
  files: Map<string, string>;
  /** Entries whose names are not `image_<imageid>_product_<productid>.jpg`. */
  unexpected: string[];
}

/** Join key of an image with its row: the exact id texts (ids beyond 2^53 are strings). */
export function imageJoinKey(imageid: RowId, productid: RowId): string {
  return `${imageid}:${productid}`;
}

/** Lists an image folder once, so each row's lookup is a map access rather than a stat call. */
export async function indexImageFolder(dir: string): Promise<ImageFolderIndex | undefined> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const files = new Map<string, string>();
  const unexpected: string[] = [];
  for (const name of names) {
    const m = IMAGE_NAME.exec(name);
    // parseId, as for the CSV's ids: the same canonical text on both sides of the join.
    const imageid = m?.[1] ? parseId(m[1], 'imageid') : undefined;
    const productid = m?.[2] ? parseId(m[2], 'productid') : undefined;
    if (imageid?.ok && productid?.ok) files.set(imageJoinKey(imageid.id, productid.id), name);
    else unexpected.push(name);
  }
  return { files, unexpected };
}

/** Dimensions of a decodable image. */
export interface ImageCheck {
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
  /** Decoder format, e.g. `jpeg`. */
  format: string;
}

/**
 * Checks that bytes are a complete image: sharp must read the header, and a JPEG must end with
 * its end-of-image marker (a truncated file passes the header check alone). Full pixel decoding
 * is left to the preprocessor, which reports what still fails there.
 *
 * @param maxPixels - Largest width x height accepted, read from the header (default `DEFAULT_MAX_INPUT_PIXELS`).
 * @throws `ImageTooLargeError` when the header announces more pixels; an `Error` saying why otherwise.
 */
export async function checkImage(bytes: Buffer, maxPixels = DEFAULT_MAX_INPUT_PIXELS): Promise<ImageCheck> {
  const meta = await (await loadSharp())(bytes, { limitInputPixels: maxPixels })
    .metadata()
    .catch(async (e: unknown) => {
      throw await explainPixelLimit(e, bytes, maxPixels);
    });
  if (!meta.width || !meta.height || !meta.format) throw new Error('no image dimensions');
  // In case the header read does not apply the limit itself (it does in sharp 0.34).
  if (meta.width * meta.height > maxPixels) throw await explainPixelLimit(new Error('Input image exceeds pixel limit'), bytes, maxPixels);
  if (meta.format === 'jpeg' && !hasJpegEnd(bytes)) throw new Error('truncated JPEG (no end-of-image marker)');
  return { width: meta.width, height: meta.height, format: meta.format };
}

function hasJpegEnd(bytes: Buffer): boolean {
  // Some encoders pad after EOI; look for FF D9 in the last bytes.
  const from = Math.max(0, bytes.length - 64);
  for (let i = bytes.length - 2; i >= from; i--) if (bytes[i] === 0xff && bytes[i + 1] === 0xd9) return true;
  return false;
}
