import { readdir } from 'node:fs/promises';
import sharp from 'sharp';

/** File name pattern of the challenge images. */
const IMAGE_NAME = /^image_(\d+)_product_(\d+)\.jpe?g$/i;

/** The challenge file name of a product's image. */
export function imageFileName(imageid: number, productid: number): string {
  return `image_${imageid}_product_${productid}.jpg`;
}

/** Image files of a folder, by `imageid:productid`, plus names that do not follow the pattern. */
export interface ImageFolderIndex {
  /** File name by `imageid:productid`. */
  files: Map<string, string>;
  /** Entries whose names are not `image_<imageid>_product_<productid>.jpg`. */
  unexpected: string[];
}

/** Join key of an image with its row. */
export function imageJoinKey(imageid: number, productid: number): string {
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
    if (m?.[1] && m[2]) files.set(imageJoinKey(Number(m[1]), Number(m[2])), name);
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
 */
export async function checkImage(bytes: Buffer): Promise<ImageCheck> {
  const meta = await sharp(bytes).metadata();
  if (!meta.width || !meta.height || !meta.format) throw new Error('no image dimensions');
  if (meta.format === 'jpeg' && !hasJpegEnd(bytes)) throw new Error('truncated JPEG (no end-of-image marker)');
  return { width: meta.width, height: meta.height, format: meta.format };
}

function hasJpegEnd(bytes: Buffer): boolean {
  // Some encoders pad after EOI; look for FF D9 in the last bytes.
  const from = Math.max(0, bytes.length - 64);
  for (let i = bytes.length - 2; i >= from; i--) if (bytes[i] === 0xff && bytes[i + 1] === 0xd9) return true;
  return false;
}
