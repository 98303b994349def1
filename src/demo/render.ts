/**
 * Pictures of the synthetic catalogue: seeded drawing and JPEG encoding of one image. Shared by
 * the generator (images rendered on the calling thread) and its worker threads
 * (`image-worker.ts`), so the bytes of a picture do not depend on where it was rendered.
 *
 * @module
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { mulberry32 } from '../util/random.js';
import { PRDTYPECODES } from '../stages/load/classes.js';

/** A function returning uniform numbers in [0, 1). */
export type Rng = () => number;

/** Mix integers into one 32-bit seed (murmur3 finaliser steps), for independent sub-streams. */
export function mixSeed(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const p of parts) {
    h = Math.imul(h ^ (p >>> 0), 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
    // Numbers above 2^32 (ids) also contribute their high part.
    const hi = Math.floor(p / 4294967296);
    if (hi !== 0) h = Math.imul(h ^ hi, 0x27d4eb2f);
  }
  return h >>> 0;
}

/** Sub-stream tags. */
export const STREAM = { plan: 1, faults: 2, text: 3, image: 4, testText: 5 } as const;

/** Uniform integer in [lo, hi]. */
export function intBetween(r: Rng, lo: number, hi: number): number {
  return lo + Math.floor(r() * (hi - lo + 1));
}

/** One picture to write. Plain data: it is posted to worker threads. */
export interface ImageJob {
  /** Path relative to outDir with `/` separators. */
  file: string;
  code: number;
  imageid: number;
  corrupt: 'none' | 'truncated' | 'random';
}

function hslToRgb(h: number, s: number, l: number): [number, number, number] {
  const k = (n: number): number => (n + h / 30) % 12;
  const a = s * Math.min(l, 1 - l);
  const f = (n: number): number => Math.round(255 * (l - a * Math.max(-1, Math.min(k(n) - 3, Math.min(9 - k(n), 1)))));
  return [f(0), f(8), f(4)];
}

/** Raw RGB pixels of one product picture: white margins, class-dependent shape and colour, noise. */
function drawPixels(size: number, code: number, r: Rng): Buffer {
  const ci = Math.max(0, PRDTYPECODES.indexOf(code));
  const px = Buffer.alloc(size * size * 3, 255);
  // Same bytes as clamping each channel with Math.min/max (all values are integers), but the
  // typed array clamps for free: drawing is half of a picture's CPU time.
  const out = new Uint8ClampedArray(px.buffer, px.byteOffset, px.length);
  const margin = (): number => Math.round(size * (0.1 + 0.15 * r()));
  const x0 = margin();
  const x1 = size - margin();
  const y0 = margin();
  const y1 = size - margin();
  const hue = (ci * 137.508 + (r() - 0.5) * 12 + 360) % 360;
  const [cr, cg, cb] = hslToRgb(hue, 0.55 + 0.25 * r(), 0.35 + 0.2 * r());
  const [ar, ag, ab] = hslToRgb((hue + 180) % 360, 0.6, 0.5);
  const shape = ci % 3; // 0 rectangle, 1 ellipse, 2 stripes
  const vertical = Math.floor(ci / 3) % 2 === 0;
  const stripe = Math.max(2, Math.round(size * (0.02 + 0.01 * (ci % 4))));
  const cx = (x0 + x1 - 1) / 2;
  const cy = (y0 + y1 - 1) / 2;
  const rx = (x1 - x0) / 2;
  const ry = (y1 - y0) / 2;
  // Accent block (complementary colour) in a class-dependent corner of the shape.
  const accW = Math.round((x1 - x0) * 0.25);
  const accH = Math.round((y1 - y0) * 0.25);
  const accX = ci % 2 === 0 ? Math.round(cx - accW / 2) : Math.round(cx - rx * 0.5);
  const accY = ci % 4 < 2 ? Math.round(cy - accH / 2) : Math.round(cy + ry * 0.1);
  const lr = 255 - ((255 - cr) >> 2);
  const lg = 255 - ((255 - cg) >> 2);
  const lb = 255 - ((255 - cb) >> 2);
  // Light stripes of vertical stripe pictures, per column (the row test is per row).
  const lightColumn = new Uint8Array(size);
  if (shape === 2 && vertical) for (let x = x0; x < x1; x++) lightColumn[x] = Math.floor((x - x0) / stripe) % 2;
  let s = Math.floor(r() * 4294967296) >>> 0;
  for (let y = y0; y < y1; y++) {
    let xa = x0;
    let xb = x1;
    if (shape === 1) {
      const dy = (y - cy) / ry;
      const half = rx * Math.sqrt(Math.max(0, 1 - dy * dy));
      xa = Math.max(x0, Math.round(cx - half));
      xb = Math.min(x1, Math.round(cx + half) + 1);
    }
    const inAccY = y >= accY && y < accY + accH;
    const lightRow = shape === 2 && !vertical && Math.floor((y - y0) / stripe) % 2 === 1;
    let o = (y * size + xa) * 3;
    for (let x = xa; x < xb; x++, o += 3) {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      const noise = ((s >>> 24) & 31) - 16;
      if (inAccY && x >= accX && x < accX + accW) {
        out[o] = ar + noise;
        out[o + 1] = ag + noise;
        out[o + 2] = ab + noise;
      } else if (lightRow || lightColumn[x] === 1) {
        out[o] = lr + noise;
        out[o + 1] = lg + noise;
        out[o + 2] = lb + noise;
      } else {
        out[o] = cr + noise;
        out[o + 1] = cg + noise;
        out[o + 2] = cb + noise;
      }
    }
  }
  return px;
}

/** The bytes of one picture (a JPEG, or the requested corrupt file), from its own seeded stream. */
export async function renderImage(job: ImageJob, size: number, seed: number): Promise<Buffer> {
  const r = mulberry32(mixSeed(seed, STREAM.image, job.imageid));
  if (job.corrupt === 'random') {
    const bytes = Buffer.alloc(intBetween(r, 1500, 6000));
    for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(r() * 256);
    bytes[0] = 0x00; // never a JPEG start-of-image marker
    return bytes;
  }
  // No Huffman-table optimisation: it is a second pass over the coefficients that doubles the
  // encoding time for files ~9% smaller.
  const jpeg = await sharp(drawPixels(size, job.code, r), { raw: { width: size, height: size, channels: 3 } })
    .jpeg({ quality: 85, mozjpeg: false, optimiseCoding: false })
    .toBuffer();
  return job.corrupt === 'truncated' ? jpeg.subarray(0, Math.floor(jpeg.length * 0.4)) : jpeg;
}

/** Renders one picture and writes it under `outDir`. */
export async function writeImage(job: ImageJob, outDir: string, size: number, seed: number): Promise<void> {
  await writeFile(path.join(outDir, job.file), await renderImage(job, size, seed));
}
