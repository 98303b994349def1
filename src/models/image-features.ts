/**
 * Fixed image features of the built-in model, computed from the preprocessor's small RGB
 * picture (64 x 64 by default): a colour histogram, a coarse thumbnail, gradient-orientation
 * histograms (HOG-like) and a few global statistics. No learning, no download; about 0.1 ms
 * per image.
 *
 * @module
 */

/** Hue bins of the colour histogram. */
const HUE_BINS = 8;
/** Saturation and value bins of the colour histogram. */
const SV_BINS = 3;
/** Side of the thumbnail, in cells. */
const THUMB = 6;
/** Side of the gradient grid, in cells. */
const GRID = 4;
/** Orientation bins per gradient cell. */
const ORIENTATIONS = 8;
/** Global statistics. */
const STATS = 10;

/** Length of the vector {@link imageFeatures} returns. */
export const IMAGE_FEATURE_SIZE = HUE_BINS * SV_BINS * SV_BINS + 2 + THUMB * THUMB * 3 + GRID * GRID * ORIENTATIONS + ORIENTATIONS + STATS;

/** Channel values of at least this on every channel count as white background. */
const WHITE = 235;

/**
 * Computes the fixed feature vector of a square RGB picture.
 *
 * @param pixels - Row-major RGB bytes, `size * size * 3`.
 * @param size - Side in pixels (at least 8).
 */
export function imageFeatures(pixels: Uint8Array, size: number): Float32Array {
  if (pixels.length !== size * size * 3 || size < 8) throw new RangeError(`expected ${size}x${size} RGB pixels, got ${pixels.length} bytes`);
  const out = new Float32Array(IMAGE_FEATURE_SIZE);
  const n = size * size;
  // Colour histogram of the non-background pixels (HSV), plus white and grey shares.
  const hist = out.subarray(0, HUE_BINS * SV_BINS * SV_BINS + 2);
  const grey = new Float32Array(n);
  let white = 0;
  let content = 0;
  let sum = [0, 0, 0];
  let sq = [0, 0, 0];
  for (let p = 0; p < n; p++) {
    const r = pixels[3 * p] as number;
    const g = pixels[3 * p + 1] as number;
    const b = pixels[3 * p + 2] as number;
    grey[p] = (0.299 * r + 0.587 * g + 0.114 * b) / 255;
    sum = [sum[0]! + r, sum[1]! + g, sum[2]! + b];
    sq = [sq[0]! + r * r, sq[1]! + g * g, sq[2]! + b * b];
    if (r >= WHITE && g >= WHITE && b >= WHITE) {
      white++;
      continue;
    }
    content++;
    const max = Math.max(r, g, b);
    const min = Math.min(r, g, b);
    const v = max / 255;
    const s = max === 0 ? 0 : (max - min) / max;
    if (s < 0.15) {
      hist[HUE_BINS * SV_BINS * SV_BINS + 1] = (hist[HUE_BINS * SV_BINS * SV_BINS + 1] as number) + 1;
      continue;
    }
    let h: number;
    if (max === r) h = ((g - b) / (max - min) + 6) % 6;
    else if (max === g) h = (b - r) / (max - min) + 2;
    else h = (r - g) / (max - min) + 4;
    const hb = Math.min(HUE_BINS - 1, Math.floor((h / 6) * HUE_BINS));
    const sb = Math.min(SV_BINS - 1, Math.floor(s * SV_BINS));
    const vb = Math.min(SV_BINS - 1, Math.floor(v * SV_BINS));
    const bin = (hb * SV_BINS + sb) * SV_BINS + vb;
    hist[bin] = (hist[bin] as number) + 1;
  }
  hist[HUE_BINS * SV_BINS * SV_BINS] = white;
  for (let i = 0; i < hist.length; i++) hist[i] = Math.sqrt((hist[i] as number) / n);
  let offset = hist.length;

  // Thumbnail: mean RGB of THUMB x THUMB cells.
  for (let cy = 0; cy < THUMB; cy++) {
    for (let cx = 0; cx < THUMB; cx++) {
      const y0 = Math.floor((cy * size) / THUMB);
      const y1 = Math.floor(((cy + 1) * size) / THUMB);
      const x0 = Math.floor((cx * size) / THUMB);
      const x1 = Math.floor(((cx + 1) * size) / THUMB);
      let r = 0;
      let g = 0;
      let b = 0;
      for (let y = y0; y < y1; y++) {
        for (let x = x0; x < x1; x++) {
          const p = 3 * (y * size + x);
          r += pixels[p] as number;
          g += pixels[p + 1] as number;
          b += pixels[p + 2] as number;
        }
      }
      const count = (y1 - y0) * (x1 - x0) * 255;
      out[offset++] = r / count;
      out[offset++] = g / count;
      out[offset++] = b / count;
    }
  }

  // Gradient orientations (unsigned, magnitude-weighted) per cell, each cell L2-normalised, plus the whole image.
  const cells = out.subarray(offset, offset + GRID * GRID * ORIENTATIONS);
  const global = out.subarray(offset + GRID * GRID * ORIENTATIONS, offset + GRID * GRID * ORIENTATIONS + ORIENTATIONS);
  let edgeSum = 0;
  let strong = 0;
  for (let y = 1; y < size - 1; y++) {
    for (let x = 1; x < size - 1; x++) {
      const p = y * size + x;
      const gx = (grey[p + 1] as number) - (grey[p - 1] as number);
      const gy = (grey[p + size] as number) - (grey[p - size] as number);
      const mag = Math.sqrt(gx * gx + gy * gy);
      if (mag === 0) continue;
      edgeSum += mag;
      if (mag > 0.1) strong++;
      let angle = Math.atan2(gy, gx);
      if (angle < 0) angle += Math.PI;
      const o = Math.min(ORIENTATIONS - 1, Math.floor((angle / Math.PI) * ORIENTATIONS));
      const cell = Math.min(GRID - 1, Math.floor((y * GRID) / size)) * GRID + Math.min(GRID - 1, Math.floor((x * GRID) / size));
      cells[cell * ORIENTATIONS + o] = (cells[cell * ORIENTATIONS + o] as number) + mag;
      global[o] = (global[o] as number) + mag;
    }
  }
  for (let c = 0; c < GRID * GRID; c++) normalise(cells.subarray(c * ORIENTATIONS, (c + 1) * ORIENTATIONS));
  normalise(global);
  offset += GRID * GRID * ORIENTATIONS + ORIENTATIONS;

  // Global statistics.
  const stats = out.subarray(offset, offset + STATS);
  for (let c = 0; c < 3; c++) {
    const mean = (sum[c] as number) / n;
    stats[c] = mean / 255;
    stats[3 + c] = Math.sqrt(Math.max(0, (sq[c] as number) / n - mean * mean)) / 255;
  }
  stats[6] = white / n;
  stats[7] = content / n;
  stats[8] = edgeSum / n;
  stats[9] = strong / n;
  return out;
}

function normalise(v: Float32Array): void {
  let norm = 0;
  for (const x of v) norm += x * x;
  if (norm === 0) return;
  const scale = 1 / Math.sqrt(norm);
  for (let i = 0; i < v.length; i++) v[i] = (v[i] as number) * scale;
}
