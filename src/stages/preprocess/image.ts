import { crc32, deflateSync } from 'node:zlib';
import { loadSharp } from '../../util/sharp.js';
import { resampleRgb } from './resample.js';
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

/**
 * Version of the pixels {@link prepareImage} makes (2: box found on the picture shrunk on load).
 * The prepare stage stores it beside each prepared image and prepares again an image stored by
 * another version, so a store never mixes pictures of two methods.
 */
export const IMAGE_METHOD_VERSION = 2;

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
 * @param resize - Output dimensions, when smaller than the original: a JPEG is then decoded at 1/2,
 *   1/4 or 1/8 scale by libjpeg (sharp's shrink-on-load) and resized the rest of the way (Lanczos 3),
 *   several times cheaper than a full decode.
 * @throws {@link ImageTooLargeError} when the header announces more pixels; {@link UndecodableImageError} when the bytes cannot be decoded.
 */
export async function decodeRgb(
  bytes: Uint8Array,
  maxInputPixels = DEFAULT_MAX_INPUT_PIXELS,
  resize?: { readonly width: number; readonly height: number },
): Promise<RgbImage> {
  if (bytes.byteLength === 0) throw new UndecodableImageError('cannot decode image: no bytes');
  try {
    // limitInputPixels is checked against the header before libvips decodes anything.
    let pipeline = (await loadSharp())(bytes, { failOn: 'warning', limitInputPixels: maxInputPixels });
    if (resize) pipeline = pipeline.resize(resize.width, resize.height, { fit: 'fill', kernel: 'lanczos3' });
    const { data, info } = await pipeline
      .flatten({ background: WHITE })
      .toColourspace('srgb')
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3 || data.length !== info.width * info.height * 3) {
      throw new Error(`unexpected decoded layout (${info.channels} channels)`);
    }
    return { pixels: data, width: info.width, height: info.height };
  } catch (error) {
    throw await asDecodeError(error, bytes, maxInputPixels);
  }
}

/** A decoder's error as an {@link ImageTooLargeError} (pixel limit) or an {@link UndecodableImageError}. */
async function asDecodeError(error: unknown, bytes: Uint8Array, maxInputPixels: number): Promise<UndecodableImageError> {
  if (error instanceof UndecodableImageError) return error;
  const explained = await explainPixelLimit(error, bytes, maxInputPixels);
  if (explained instanceof ImageTooLargeError) return explained;
  const why = error instanceof Error ? error.message : String(error);
  return new UndecodableImageError(`cannot decode image: ${why}`, { cause: error });
}

/** Width and height of an image, read from its header alone. */
interface ImageHeader {
  width: number;
  height: number;
  /** Whether it is a JPEG (decoded shrunk on load when it is resized). */
  jpeg: boolean;
}

/**
 * Width and height from a JPEG's start-of-frame segment, `undefined` when the bytes are not a JPEG
 * or the segment is not found before the image data. A few lines of marker walking spare the
 * stage a sharp call per picture (~0.5 ms on the event loop before any decoding).
 */
export function jpegDimensions(bytes: Uint8Array): { width: number; height: number } | undefined {
  if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8) return undefined;
  let i = 2;
  while (i + 3 < bytes.length) {
    if (bytes[i] !== 0xff) return undefined;
    const marker = bytes[i + 1] as number;
    if (marker === 0xff) {
      i++; // fill byte
      continue;
    }
    if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      i += 2; // no length
      continue;
    }
    if (marker === 0xda || marker === 0xd9) return undefined; // image data (or the end) before any frame
    const length = ((bytes[i + 2] as number) << 8) | (bytes[i + 3] as number);
    // Start of frame: every SOFn but DHT (C4), JPG (C8) and DAC (CC).
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      if (i + 8 >= bytes.length || length < 7) return undefined;
      const height = ((bytes[i + 5] as number) << 8) | (bytes[i + 6] as number);
      const width = ((bytes[i + 7] as number) << 8) | (bytes[i + 8] as number);
      return width > 0 && height > 0 ? { width, height } : undefined;
    }
    i += 2 + length;
  }
  return undefined;
}

/**
 * Reads the dimensions from the header (no pixel is decoded) and refuses an image above
 * `maxInputPixels` there, before any decoding. A JPEG's are read here; other formats' by sharp.
 *
 * @throws {@link ImageTooLargeError} or {@link UndecodableImageError}.
 */
async function readHeader(bytes: Uint8Array, maxInputPixels: number): Promise<ImageHeader> {
  if (bytes.byteLength === 0) throw new UndecodableImageError('cannot decode image: no bytes');
  const jpeg = jpegDimensions(bytes);
  let meta: { width?: number; height?: number; format?: string } = jpeg ? { ...jpeg, format: 'jpeg' } : {};
  try {
    // sharp 0.34 applies limitInputPixels to the header read too; checked here in case it does not.
    if (!jpeg) meta = await (await loadSharp())(bytes, { limitInputPixels: maxInputPixels }).metadata();
    if (meta.width && meta.height && meta.width * meta.height > maxInputPixels) throw new Error('Input image exceeds pixel limit');
  } catch (error) {
    throw await asDecodeError(error, bytes, maxInputPixels);
  }
  const { width, height } = meta;
  if (!width || !height) throw new UndecodableImageError('cannot decode image: no dimensions in its header');
  return { width, height, jpeg: meta.format === 'jpeg' };
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
export function cropToSquare(image: RgbImage, box: Box, size: number): Buffer {
  const scale = size / Math.max(box.width, box.height);
  const w = Math.min(size, Math.max(1, Math.round(box.width * scale)));
  const h = Math.min(size, Math.max(1, Math.round(box.height * scale)));
  const resized = resampleRgb(image.pixels, image.width, box, w, h);
  if (w === size && h === size) return resized;
  const out = Buffer.alloc(size * size * 3, 255);
  const x0 = (size - w) >> 1;
  const y0 = (size - h) >> 1;
  for (let y = 0; y < h; y++) resized.copy(out, ((y0 + y) * size + x0) * 3, y * w * 3, (y + 1) * w * 3);
  return out;
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** One PNG chunk: length, type, data, CRC-32 of type and data. */
function pngChunk(type: string, data: Uint8Array): Buffer {
  const chunk = Buffer.alloc(12 + data.length);
  chunk.writeUInt32BE(data.length, 0);
  chunk.write(type, 4, 'latin1');
  chunk.set(data, 8);
  chunk.writeUInt32BE(crc32(chunk.subarray(4, 8 + data.length)), 8 + data.length);
  return chunk;
}

/**
 * Encodes raw 8-bit RGB pixels as PNG (deterministic for the same pixels): each row Paeth-filtered,
 * deflated by node:zlib. Written here rather than with sharp because a sharp call costs about 1 ms
 * of fixed overhead, a quarter of the whole JPEG decode, for a 64 px picture that zlib deflates in
 * a tenth of that; Paeth rows are also a fifth smaller than sharp's unfiltered ones.
 */
export function encodePng(pixels: Uint8Array, width: number, height: number): Buffer {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1 || pixels.length < width * height * 3) {
    throw new RangeError(`encodePng: ${pixels.length} bytes are not ${width} x ${height} RGB pixels`);
  }
  const stride = width * 3;
  const filtered = Buffer.alloc((stride + 1) * height);
  for (let y = 0; y < height; y++) {
    const row = y * stride;
    const up = row - stride; // previous row; absent (0) on the first one
    let o = y * (stride + 1);
    filtered[o++] = 4; // Paeth
    for (let i = 0; i < stride; i++) {
      const a = i >= 3 ? (pixels[row + i - 3] as number) : 0;
      const b = y > 0 ? (pixels[up + i] as number) : 0;
      const c = y > 0 && i >= 3 ? (pixels[up + i - 3] as number) : 0;
      const pa = Math.abs(b - c);
      const pb = Math.abs(a - c);
      const pc = Math.abs(a + b - 2 * c);
      const predictor = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      filtered[o++] = ((pixels[row + i] as number) - predictor) & 0xff;
    }
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8-bit, truecolour RGB, deflate, adaptive filters, no interlace
  return Buffer.concat([
    PNG_SIGNATURE,
    pngChunk('IHDR', header),
    pngChunk('IDAT', deflateSync(filtered, { level: 6 })),
    pngChunk('IEND', new Uint8Array(0)),
  ]);
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
  return { ...prepared, png: encodePng(pixels, size, size), contentHash: differenceHash(pixels, size, size, 3) };
}

/** A first look at a JPEG spans at least this many output sides, so most content boxes still span the output. */
const MIN_FIRST_LOOK_SIDES = 1.5;
/** A second look aims at a content box this much larger than the output (its box was found on a coarser picture). */
const SECOND_LOOK_MARGIN = 1.1;
/** First look at a picture that is not a JPEG, in output sides (resized by sharp, no shrink on load). */
const OTHER_FIRST_LOOK_SIDES = 4;

/** A look at a picture: the longest side it is decoded at, and libjpeg's shrink on load (1 when none). */
interface Look {
  side: number;
  shrink: number;
}

/**
 * The smallest look at a JPEG of `longest` px whose side is at least `wanted`: sharp decodes a JPEG
 * at libjpeg's 1/2, 1/4 or 1/8 scale s when it is resized by at least s + 1 (it avoids libjpeg's
 * rounding at exactly s), then resizes it the rest of the way; otherwise it decodes it whole.
 */
function lookAt(longest: number, wanted: number): Look {
  for (const shrink of [8, 4, 2]) {
    const side = Math.floor(longest / (shrink + 1));
    if (side >= wanted) return { side, shrink };
  }
  return { side: longest, shrink: 1 };
}

/**
 * The pixels of {@link prepareImage} without the PNG and the hash, which only storage and
 * duplicate detection need: what online prediction uses (same pixels, less work).
 *
 * A JPEG is decoded shrunk on load (libjpeg's 1/2, 1/4 or 1/8 scale s; a 500 px picture is decoded
 * at 1/4 and resized to 100 px for a 64 px output) and its content box is found on that picture.
 * The largest such shrink is kept whose picture still has the box spanning the output size;
 * otherwise the picture is looked at again where it does (full resolution at most). The box is
 * cropped and resized (Lanczos 3) from the picture it was found on. Other formats are first resized
 * by sharp to four output sides (a second, finer look when the box is small there).
 */
export async function prepareImagePixels(bytes: Uint8Array, options: ImagePrepOptions = {}): Promise<PreparedPixels> {
  const size = options.size ?? DEFAULT_IMAGE_SIZE;
  const tolerance = options.tolerance ?? DEFAULT_BACKGROUND_TOLERANCE;
  const maxInputPixels = options.maxInputPixels ?? DEFAULT_MAX_INPUT_PIXELS;
  if (!Number.isInteger(size) || size < 1 || size > 4096) throw new RangeError(`size must be an integer in [1, 4096], got ${size}`);
  if (!(tolerance >= 0 && tolerance <= 255)) throw new RangeError(`tolerance must be in [0, 255], got ${tolerance}`);
  const original = await readHeader(bytes, maxInputPixels);
  const longest = Math.max(original.width, original.height);
  // Other formats have no shrink on load, but sharp still resizes them off the main thread: the JS
  // crop and Lanczos then work on a picture a few output sides across, not on a 6000 px one.
  const lookFor = (wanted: number): Look => (original.jpeg ? lookAt(longest, wanted) : { side: Math.min(longest, wanted), shrink: 1 });
  let look = lookFor(Math.ceil((original.jpeg ? MIN_FIRST_LOOK_SIDES : OTHER_FIRST_LOOK_SIDES) * size));
  for (;;) {
    const scale = look.side / longest;
    const image =
      look.side < longest
        ? await decodeRgb(bytes, maxInputPixels, { width: Math.max(1, Math.round(original.width * scale)), height: Math.max(1, Math.round(original.height * scale)) })
        : await decodeRgb(bytes, maxInputPixels);
    const found = findContentBox(image.pixels, image.width, image.height, 3, tolerance);
    const box = look.side < longest ? tightenEdges(image, found) : found;
    const boxSide = Math.max(box.width, box.height);
    // The box's side in libjpeg's shrunk picture, before sharp's resize to the look.
    const shrunkSide = (boxSide * longest) / (look.side * look.shrink);
    if (shrunkSide >= size || look.side >= longest) {
      const pixels = cropToSquare(image, box, size);
      return { pixels, size, originalWidth: original.width, originalHeight: original.height, box: scaleBox(box, image, original) };
    }
    // The product is small in its picture: look again where its box spans the output.
    look = lookFor(Math.ceil((look.side * size * SECOND_LOOK_MARGIN) / boxSide));
  }
}

/** Mean absolute difference from the background colour over `count` pixels from byte `start`, `step` bytes apart. */
function lineContrast(pixels: Uint8Array, start: number, step: number, count: number): number {
  const r = pixels[0] as number;
  const g = pixels[1] as number;
  const b = pixels[2] as number;
  let sum = 0;
  for (let i = 0, p = start; i < count; i++, p += step) {
    sum += Math.abs((pixels[p] as number) - r) + Math.abs((pixels[p + 1] as number) - g) + Math.abs((pixels[p + 2] as number) - b);
  }
  return sum / count;
}

/**
 * On a resized picture, a box edge often lies on a line the resize blended from a little content
 * and mostly background (a pink row under a red product): such a line, with less than half the
 * contrast of the line inside it, is dropped, so the crop does not carry a pale band.
 */
function tightenEdges(image: RgbImage, box: Box): Box {
  const { pixels, width } = image;
  const stride = width * 3;
  let { left, top, width: w, height: h } = box;
  const row = (y: number) => lineContrast(pixels, y * stride + left * 3, 3, w);
  const column = (x: number) => lineContrast(pixels, top * stride + x * 3, stride, h);
  if (h > 2 && row(top) < row(top + 1) / 2) {
    top++;
    h--;
  }
  if (h > 2 && row(top + h - 1) < row(top + h - 2) / 2) h--;
  if (w > 2 && column(left) < column(left + 1) / 2) {
    left++;
    w--;
  }
  if (w > 2 && column(left + w - 1) < column(left + w - 2) / 2) w--;
  return { left, top, width: w, height: h };
}

/** The pixels of the original that `box`, in `image` (the original resized), covers. */
function scaleBox(box: Box, image: RgbImage, original: ImageHeader): Box {
  if (image.width === original.width && image.height === original.height) return box;
  const sx = original.width / image.width;
  const sy = original.height / image.height;
  const left = Math.round(box.left * sx);
  const top = Math.round(box.top * sy);
  const right = Math.min(original.width, Math.round((box.left + box.width) * sx));
  const bottom = Math.min(original.height, Math.round((box.top + box.height) * sy));
  return { left, top, width: Math.max(1, right - left), height: Math.max(1, bottom - top) };
}
