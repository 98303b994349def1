import { loadSharp } from '../../util/sharp.js';
import { DEFAULTS } from '../../options.js';

/** Options of {@link prepareImage}. */
export interface ImagePrepOptions {
  /** Side of the square output in pixels (default 64). */
  size?: number;
  /** Max per-channel difference from the background colour still counted as background (default 24). */
  tolerance?: number;
  /**
   * Largest image accepted, in pixels (width x height read from its header before any decoding;
   * default {@link DEFAULT_MAX_INPUT_PIXELS}). Recorded in the preprocessing spec, so serving
   * refuses what preparing refused.
   */
  maxInputPixels?: number;
}

/** A rectangle in pixels of the original image. */
export interface Box {
  /** Column of the leftmost pixel. */
  left: number;
  /** Row of the topmost pixel. */
  top: number;
  /** Width in pixels (at least 1). */
  width: number;
  /** Height in pixels (at least 1). */
  height: number;
}

/** Result of {@link prepareImage}. */
export interface PreparedImage {
  /** PNG bytes, `size` x `size`, 8-bit RGB, no metadata. */
  png: Buffer;
  /** Raw RGB bytes of the same pixels (`size * size * 3`, row-major), for models; not meant to be stored. */
  pixels: Buffer;
  /** Side of the output in pixels. */
  size: number;
  /** Width of the decoded original. */
  originalWidth: number;
  /** Height of the decoded original. */
  originalHeight: number;
  /** Content box found in the original (the whole image when there is no uniform border). */
  box: Box;
  /** Perceptual hash of the output (64-bit difference hash, 16 hex chars): equal or close for near-identical pictures. */
  contentHash: string;
}

/** The pixels part of a {@link PreparedImage}. */
export type PreparedPixels = Omit<PreparedImage, 'png' | 'contentHash'>;

/** Decoded 8-bit RGB pixels, as returned by {@link decodeRgb}. */
export interface RgbImage {
  /** Row-major RGB bytes (`width * height * 3`). */
  pixels: Buffer;
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
}

/** Thrown when bytes cannot be decoded as an image (unknown format, corrupt or truncated data); the message says why. */
export class UndecodableImageError extends Error {
  /** Creates the error; `cause` is the decoder's error, if any. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'UndecodableImageError';
  }
}

/**
 * Thrown when an image's header announces more pixels than allowed: it is refused before
 * decoding, so a 31 KB PNG announcing 16000 x 16000 pixels costs no memory or CPU.
 */
export class ImageTooLargeError extends UndecodableImageError {
  /** The limit in pixels. */
  readonly maxPixels: number;
  /** Creates the error. */
  constructor(message: string, maxPixels: number, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ImageTooLargeError';
    this.maxPixels = maxPixels;
  }
}

/**
 * Default largest decoded image: 40 megapixels (about 120 MB of RGB). The challenge images are
 * 500 x 500 (0.25 MP); sharp's own default (268 MP) lets a 31 KB PNG decode to gigabytes.
 */
export const DEFAULT_MAX_INPUT_PIXELS = 40_000_000;

/**
 * Rethrows sharp's pixel-limit error as an {@link ImageTooLargeError} naming the size and the
 * limit (the header is read once more for the dimensions, only on this path); other errors pass.
 */
export async function explainPixelLimit(error: unknown, bytes: Uint8Array, maxPixels: number): Promise<unknown> {
  if (!(error instanceof Error) || !/pixel limit/i.test(error.message)) return error;
  const meta = await (await loadSharp())(bytes, { limitInputPixels: false }).metadata().catch(() => undefined);
  const size = meta?.width && meta.height ? `${meta.width} x ${meta.height} = ${(meta.width * meta.height).toLocaleString('en-US')} pixels` : 'more pixels';
  return new ImageTooLargeError(
    `image is ${size}, above the limit of ${maxPixels.toLocaleString('en-US')} pixels (maxInputPixels); refused without decoding`,
    maxPixels,
    { cause: error },
  );
}

/** Default output side of {@link prepareImage}. */
export const DEFAULT_IMAGE_SIZE = DEFAULTS.imageSize;
/** Default background tolerance of {@link prepareImage}. */
export const DEFAULT_BACKGROUND_TOLERANCE = 24;

const WHITE = { r: 255, g: 255, b: 255, alpha: 1 } as const;

/**
 * Decodes any image sharp reads (JPEG, PNG, WebP, greyscale, CMYK, with or without alpha) to 8-bit
 * sRGB, alpha flattened onto white. Decoding is strict (sharp's `failOn: 'warning'`): truncated data,
 * and corrupt data the decoder notices, are rejected rather than decoded to grey or garbled pixels
 * (with `failOn: 'truncated'`, two thirds of challenge JPEGs with 20 flipped bytes still decode);
 * all 2,001 sample challenge images pass.
 *
 * @param maxInputPixels - Largest width x height accepted (default {@link DEFAULT_MAX_INPUT_PIXELS}).
 * @throws {@link ImageTooLargeError} when the header announces more pixels; {@link UndecodableImageError} when the bytes cannot be decoded.
 */
export async function decodeRgb(bytes: Uint8Array, maxInputPixels = DEFAULT_MAX_INPUT_PIXELS): Promise<RgbImage> {
  if (bytes.byteLength === 0) throw new UndecodableImageError('cannot decode image: no bytes');
  try {
    // limitInputPixels is checked against the header before libvips decodes anything.
    const { data, info } = await (await loadSharp())(bytes, { failOn: 'warning', limitInputPixels: maxInputPixels })
      .flatten({ background: WHITE })
      .toColourspace('srgb')
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3 || data.length !== info.width * info.height * 3) {
      throw new Error(`unexpected decoded layout (${info.channels} channels)`);
    }
    return { pixels: data, width: info.width, height: info.height };
  } catch (error) {
    const explained = await explainPixelLimit(error, bytes, maxInputPixels);
    if (explained instanceof ImageTooLargeError) throw explained;
    const why = error instanceof Error ? error.message : String(error);
    throw new UndecodableImageError(`cannot decode image: ${why}`, { cause: error });
  }
}

/**
 * Finds the content inside a uniform border. The background colour is the top-left pixel; rows are
 * scanned from the top and bottom, then columns (between those rows) from the left and right,
 * stopping at the first line holding at least 2 pixels that differ from the background by more than
 * `tolerance` on some channel (one stray pixel is taken as noise). A blank image, or one whose
 * content never reaches 2 pixels in a column, keeps its whole extent on that axis.
 *
 * @param pixels - Row-major interleaved 8-bit pixels.
 * @param channels - Bytes per pixel, all compared.
 */
export function findContentBox(pixels: Uint8Array, width: number, height: number, channels: number, tolerance: number): Box {
  const whole: Box = { left: 0, top: 0, width, height };
  if (width <= 0 || height <= 0 || channels <= 0 || pixels.length < width * height * channels) return whole;
  const hasContent = channels === 3 ? rgbRunScanner(pixels, tolerance) : runScanner(pixels, channels, tolerance);
  const stride = width * channels;
  let top = 0;
  while (top < height && !hasContent(top * stride, channels, width)) top++;
  if (top === height) return whole;
  let bottom = height - 1;
  while (bottom > top && !hasContent(bottom * stride, channels, width)) bottom--;
  const rows = bottom - top + 1;
  let left = 0;
  while (left < width && !hasContent(top * stride + left * channels, stride, rows)) left++;
  if (left === width) return { left: 0, top, width, height: rows };
  let right = width - 1;
  while (right > left && !hasContent(top * stride + right * channels, stride, rows)) right--;
  return { left, top, width: right - left + 1, height: rows };
}

/** Tells whether the `count` pixels from byte `start`, `step` bytes apart, include 2 off-background ones. */
type RunScanner = (start: number, step: number, count: number) => boolean;

/** {@link RunScanner} for any channel count; the background is the first pixel. */
function runScanner(pixels: Uint8Array, channels: number, tolerance: number): RunScanner {
  const lo = new Float64Array(channels);
  const hi = new Float64Array(channels);
  for (let c = 0; c < channels; c++) {
    lo[c] = (pixels[c] as number) - tolerance;
    hi[c] = (pixels[c] as number) + tolerance;
  }
  return (start, step, count) => {
    let hits = 0;
    for (let i = 0, p = start; i < count; i++, p += step) {
      for (let c = 0; c < channels; c++) {
        const v = pixels[p + c] as number;
        if (v < (lo[c] as number) || v > (hi[c] as number)) {
          if (++hits >= 2) return true;
          break;
        }
      }
    }
    return false;
  };
}

/** {@link RunScanner} unrolled for 3 channels (the hot path). */
function rgbRunScanner(pixels: Uint8Array, tolerance: number): RunScanner {
  const r = pixels[0] as number;
  const g = pixels[1] as number;
  const b = pixels[2] as number;
  const rLo = r - tolerance;
  const rHi = r + tolerance;
  const gLo = g - tolerance;
  const gHi = g + tolerance;
  const bLo = b - tolerance;
  const bHi = b + tolerance;
  return (start, step, count) => {
    let hits = 0;
    const end = start + count * step;
    for (let p = start; p < end; p += step) {
      const pr = pixels[p] as number;
      const pg = pixels[p + 1] as number;
      const pb = pixels[p + 2] as number;
      if (pr < rLo || pr > rHi || pg < gLo || pg > gHi || pb < bLo || pb > bHi) {
        if (++hits >= 2) return true;
      }
    }
    return false;
  };
}

/**
 * Crops `box` out of RGB pixels, resizes it (Lanczos 3, aspect kept) so its longer side is `size`,
 * and centres it on a white `size` x `size` square. Returns raw RGB bytes.
 */
export async function cropToSquare(image: RgbImage, box: Box, size: number): Promise<Buffer> {
  const { width, height } = image;
  const scale = size / Math.max(box.width, box.height);
  const w = Math.min(size, Math.max(1, Math.round(box.width * scale)));
  const h = Math.min(size, Math.max(1, Math.round(box.height * scale)));
  let pipeline = (await loadSharp())(image.pixels, { raw: { width, height, channels: 3 } });
  if (box.left !== 0 || box.top !== 0 || box.width !== width || box.height !== height) pipeline = pipeline.extract(box);
  // fit 'fill' to the exact aspect-kept size, then pad here: sharp's fit 'contain' embed costs ~1 ms more.
  const resized = await pipeline.resize(w, h, { fit: 'fill', kernel: 'lanczos3' }).raw().toBuffer();
  if (w === size && h === size) return resized;
  const out = Buffer.alloc(size * size * 3, 255);
  const x0 = (size - w) >> 1;
  const y0 = (size - h) >> 1;
  for (let y = 0; y < h; y++) resized.copy(out, ((y0 + y) * size + x0) * 3, y * w * 3, (y + 1) * w * 3);
  return out;
}

/** Encodes raw 8-bit RGB pixels as PNG with sharp (deterministic for the same pixels). */
export async function encodePng(pixels: Uint8Array, width: number, height: number): Promise<Buffer> {
  return (await loadSharp())(pixels, { raw: { width, height, channels: 3 } }).png({ compressionLevel: 6 }).toBuffer();
}

/**
 * 64-bit difference hash: the picture in grey (Rec. 601 luma), area-averaged down to 9 x 8 cells,
 * each bit set when a cell is brighter than its right neighbour; 16 lowercase hex chars, row-major,
 * most significant bit first. Near-identical pictures get equal or close hashes (see
 * {@link hammingDistance}).
 *
 * @param pixels - Row-major interleaved 8-bit pixels; the first 3 channels are read as RGB (1 or 2 channels as grey).
 */
export function differenceHash(pixels: Uint8Array, width: number, height: number, channels: number): string {
  const cols = 9;
  const rows = 8;
  const sums = new Float64Array(cols * rows);
  const xs = axisWeights(width, cols);
  const ys = axisWeights(height, rows);
  for (let y = 0; y < height; y++) {
    for (const [cy, wy] of ys[y] as Array<[number, number]>) {
      const rowSum = cy * cols;
      let p = y * width * channels;
      for (let x = 0; x < width; x++, p += channels) {
        const r = pixels[p] as number;
        const grey = channels >= 3 ? 0.299 * r + 0.587 * (pixels[p + 1] as number) + 0.114 * (pixels[p + 2] as number) : r;
        for (const [cx, wx] of xs[x] as Array<[number, number]>) sums[rowSum + cx] = (sums[rowSum + cx] as number) + grey * wx * wy;
      }
    }
  }
  let hex = '';
  for (let cy = 0; cy < rows; cy++) {
    let byte = 0;
    for (let cx = 0; cx < cols - 1; cx++) {
      const i = cy * cols + cx;
      byte = (byte << 1) | ((sums[i] as number) > (sums[i + 1] as number) ? 1 : 0);
    }
    hex += byte.toString(16).padStart(2, '0');
  }
  return hex;
}

/** For each of `n` pixels, the cells it overlaps when `n` pixels are split into `cells` equal parts, with the overlap fraction. */
function axisWeights(n: number, cells: number): Array<Array<[number, number]>> {
  const out: Array<Array<[number, number]>> = [];
  for (let i = 0; i < n; i++) {
    const from = (i * cells) / n;
    const to = ((i + 1) * cells) / n;
    const parts: Array<[number, number]> = [];
    for (let c = Math.floor(from); c < to && c < cells; c++) {
      const overlap = Math.min(to, c + 1) - Math.max(from, c);
      if (overlap > 1e-12) parts.push([c, overlap]);
    }
    out.push(parts);
  }
  return out;
}

/** Number of differing bits between two hex hashes of equal length (e.g. two {@link PreparedImage.contentHash}). */
export function hammingDistance(a: string, b: string): number {
  if (a.length !== b.length) throw new RangeError(`hash lengths differ (${a.length} vs ${b.length})`);
  let bits = 0;
  for (let i = 0; i < a.length; i += 4) {
    let x = Number.parseInt(a.slice(i, i + 4), 16) ^ Number.parseInt(b.slice(i, i + 4), 16);
    while (x) {
      x &= x - 1;
      bits++;
    }
  }
  return bits;
}

/**
 * Prepares a product image for models and storage: decodes it to RGB, finds the product inside its
 * uniform (usually white) border with `findContentBox`, crops to it, pads to a white square
 * and resizes to `size` x `size`, then encodes a PNG and computes the `differenceHash`.
 * Deterministic: the same bytes give the same PNG and hash.
 *
 * @throws {@link UndecodableImageError} when the bytes are not a complete, decodable image.
 */
export async function prepareImage(bytes: Uint8Array, options: ImagePrepOptions = {}): Promise<PreparedImage> {
  const prepared = await prepareImagePixels(bytes, options);
  const { pixels, size } = prepared;
  return { ...prepared, png: await encodePng(pixels, size, size), contentHash: differenceHash(pixels, size, size, 3) };
}

/**
 * The pixels of {@link prepareImage} without the PNG and the hash, which only storage and
 * duplicate detection need: what online prediction uses (same pixels, less work).
 */
export async function prepareImagePixels(bytes: Uint8Array, options: ImagePrepOptions = {}): Promise<PreparedPixels> {
  const size = options.size ?? DEFAULT_IMAGE_SIZE;
  const tolerance = options.tolerance ?? DEFAULT_BACKGROUND_TOLERANCE;
  if (!Number.isInteger(size) || size < 1 || size > 4096) throw new RangeError(`size must be an integer in [1, 4096], got ${size}`);
  if (!(tolerance >= 0 && tolerance <= 255)) throw new RangeError(`tolerance must be in [0, 255], got ${tolerance}`);
  const image = await decodeRgb(bytes, options.maxInputPixels ?? DEFAULT_MAX_INPUT_PIXELS);
  const box = findContentBox(image.pixels, image.width, image.height, 3, tolerance);
  const pixels = await cropToSquare(image, box, size);
  return { pixels, size, originalWidth: image.width, originalHeight: image.height, box };
}
