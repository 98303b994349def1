import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import {
  differenceHash,
  encodePng,
  findContentBox,
  hammingDistance,
  prepareImage,
  UndecodableImageError,
  type Box,
} from '../../src/stages/preprocess/image.js';
import { mulberry32 } from '../../src/util/random.js';

type Rgb = readonly [number, number, number];
const WHITE: Rgb = [255, 255, 255];
const RED: Rgb = [200, 30, 40];

const rng = mulberry32;

/** A width x height RGB canvas filled with `bg`, with `paint(x, y)` drawn inside `rect` (relative coordinates). */
function canvas(width: number, height: number, rect: Box, paint: (x: number, y: number) => Rgb, bg: Rgb = WHITE): Buffer {
  const px = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const inside = x >= rect.left && x < rect.left + rect.width && y >= rect.top && y < rect.top + rect.height;
      const [r, g, b] = inside ? paint(x - rect.left, y - rect.top) : bg;
      const p = (y * width + x) * 3;
      px[p] = r;
      px[p + 1] = g;
      px[p + 2] = b;
    }
  }
  return px;
}

function jpeg(px: Buffer, width: number, height: number, quality = 90): Promise<Buffer> {
  return sharp(px, { raw: { width, height, channels: 3 } }).jpeg({ quality }).toBuffer();
}

/** RGB of pixel (x, y) in raw size x size RGB pixels. */
function at(pixels: Uint8Array, size: number, x: number, y: number): Rgb {
  const p = (y * size + x) * 3;
  return [pixels[p] as number, pixels[p + 1] as number, pixels[p + 2] as number];
}

function near(actual: Rgb, expected: Rgb, tolerance: number): boolean {
  return actual.every((v, i) => Math.abs(v - (expected[i] as number)) <= tolerance);
}

/**
 * A JPEG's box is found on the picture shrunk on load (1/2, 1/4 or 1/8, resized to at least 1.5
 * output sides): it is right within one pixel of that picture, plus one for the resize's ringing.
 */
function firstLookSlack(width: number, height: number, size = 64): number {
  const longest = Math.max(width, height);
  const look = [8, 4, 2].map((s) => Math.floor(longest / (s + 1))).find((side) => side >= 1.5 * size) ?? longest;
  return Math.ceil(longest / look) + 1;
}

function expectBoxNear(actual: Box, expected: Box, slack = 2): void {
  expect(Math.abs(actual.left - expected.left), `left ${actual.left}`).toBeLessThanOrEqual(slack);
  expect(Math.abs(actual.top - expected.top), `top ${actual.top}`).toBeLessThanOrEqual(slack);
  expect(Math.abs(actual.width - expected.width), `width ${actual.width}`).toBeLessThanOrEqual(slack);
  expect(Math.abs(actual.height - expected.height), `height ${actual.height}`).toBeLessThanOrEqual(slack);
}

/** Rows and columns of the output holding at least one non-white pixel. */
function inkExtent(pixels: Uint8Array, size: number): { rows: number; cols: number } {
  const rows = new Set<number>();
  const cols = new Set<number>();
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      if (!near(at(pixels, size, x, y), WHITE, 40)) {
        rows.add(y);
        cols.add(x);
      }
    }
  }
  return { rows: rows.size, cols: cols.size };
}

/** A textured picture (smooth colour waves and a dark disc) that a difference hash can tell apart. */
function textureA(w: number, h: number): (x: number, y: number) => Rgb {
  return (x, y) => {
    const disc = (x - w * 0.35) ** 2 + (y - h * 0.6) ** 2 < (Math.min(w, h) * 0.2) ** 2;
    if (disc) return [20, 20, 60];
    const v = 128 + 100 * Math.sin((x / w) * 3 * Math.PI) * Math.cos((y / h) * 2 * Math.PI);
    return [Math.round(v), Math.round(255 - v), 90];
  };
}

function textureB(w: number, h: number): (x: number, y: number) => Rgb {
  return (x, y) => {
    const stripe = Math.floor((x + 2 * y) / (w / 5)) % 2 === 0;
    const v = Math.round(60 + 150 * (y / h));
    return stripe ? [v, v, 230] : [230, 220 - v / 2, 40];
  };
}

describe('prepareImage', () => {
  it('crops a rectangle out of its white border, pads to a white square, keeps the size', async () => {
    // Tall red rectangle 120 x 200 at (140, 50) on a 400 x 300 white canvas.
    const rect = { left: 140, top: 50, width: 120, height: 200 };
    const bytes = await jpeg(canvas(400, 300, rect, () => RED), 400, 300);
    const out = await prepareImage(bytes);

    expect(out.originalWidth).toBe(400);
    expect(out.originalHeight).toBe(300);
    expect(out.size).toBe(64);
    expectBoxNear(out.box, rect, firstLookSlack(400, 300));

    const meta = await sharp(out.png).metadata();
    expect(meta).toMatchObject({ format: 'png', width: 64, height: 64, channels: 3 });
    const decoded = await sharp(out.png).raw().toBuffer();
    expect(decoded.equals(out.pixels)).toBe(true);
    expect(out.pixels.length).toBe(64 * 64 * 3);

    // Border gone: along the longer (vertical) side the rectangle touches the top and bottom edges.
    for (const y of [0, 63]) expect(near(at(out.pixels, 64, 32, y), RED, 40), `(32, ${y}) ${at(out.pixels, 64, 32, y)}`).toBe(true);
    expect(near(at(out.pixels, 64, 32, 32), RED, 20)).toBe(true);
    // Padding left and right is pure white.
    for (let y = 0; y < 64; y++) {
      expect(at(out.pixels, 64, 0, y)).toEqual(WHITE);
      expect(at(out.pixels, 64, 63, y)).toEqual(WHITE);
    }
  });

  it('pads a wide content to a square and keeps its aspect', async () => {
    const rect = { left: 60, top: 200, width: 300, height: 60 };
    const bytes = await jpeg(canvas(420, 500, rect, () => RED), 420, 500);
    const out = await prepareImage(bytes);
    expectBoxNear(out.box, rect, firstLookSlack(420, 500));
    const ink = inkExtent(out.pixels, 64);
    expect(ink.cols).toBe(64);
    expect(Math.abs(ink.rows - (64 * 60) / 300)).toBeLessThanOrEqual(2);
    for (const x of [0, 63]) expect(near(at(out.pixels, 64, x, 32), RED, 40)).toBe(true);
    for (let x = 0; x < 64; x++) {
      expect(at(out.pixels, 64, x, 0)).toEqual(WHITE);
      expect(at(out.pixels, 64, x, 63)).toEqual(WHITE);
    }
  });

  it('keeps the whole image when there is no uniform border', async () => {
    const rand = rng(7);
    const noise = (): Rgb => [Math.floor(rand() * 256), Math.floor(rand() * 256), Math.floor(rand() * 256)];
    const bytes = await jpeg(canvas(300, 200, { left: 0, top: 0, width: 300, height: 200 }, noise), 300, 200);
    const out = await prepareImage(bytes);
    expect(out.box).toEqual({ left: 0, top: 0, width: 300, height: 200 });
    expect(inkExtent(out.pixels, 64)).toEqual({ rows: 43, cols: 64 }); // 300 x 200 -> 64 x 43, padded
  });

  it('keeps the whole image of a blank picture', async () => {
    const bytes = await jpeg(Buffer.alloc(500 * 500 * 3, 255), 500, 500);
    const out = await prepareImage(bytes);
    expect(out.box).toEqual({ left: 0, top: 0, width: 500, height: 500 });
    expect(out.pixels.every((v) => v >= 250)).toBe(true);
    expect(out.contentHash).toBe('0000000000000000');
  });

  it.each([32, 128])('produces %i px squares', async (size) => {
    const rect = { left: 100, top: 100, width: 250, height: 300 };
    const bytes = await jpeg(canvas(500, 500, rect, textureA(250, 300)), 500, 500);
    const out = await prepareImage(bytes, { size });
    expect(out.size).toBe(size);
    expect(out.pixels.length).toBe(size * size * 3);
    expect(await sharp(out.png).metadata()).toMatchObject({ width: size, height: size, channels: 3 });
    expect(out.contentHash).toMatch(/^[0-9a-f]{16}$/);
  });

  it('reads PNG input, transparency included (flattened onto white)', async () => {
    const rect = { left: 30, top: 40, width: 100, height: 80 };
    const rgb = canvas(200, 160, rect, () => RED);
    const png = await sharp(rgb, { raw: { width: 200, height: 160, channels: 3 } }).png().toBuffer();
    const out = await prepareImage(png);
    expect(out.box).toEqual(rect);

    // RGBA: transparent black around an opaque red rectangle.
    const rgba = Buffer.alloc(200 * 160 * 4);
    for (let y = rect.top; y < rect.top + rect.height; y++) {
      for (let x = rect.left; x < rect.left + rect.width; x++) rgba.set([...RED, 255], (y * 200 + x) * 4);
    }
    const transparent = await sharp(rgba, { raw: { width: 200, height: 160, channels: 4 } }).png().toBuffer();
    const flat = await prepareImage(transparent);
    expect(flat.box).toEqual(rect);
    expect(at(flat.pixels, 64, 32, 0)).toEqual(WHITE);
    expect(at(flat.pixels, 64, 32, 32)).toEqual(RED);
  });

  it('reads greyscale input as RGB', async () => {
    const rect = { left: 50, top: 30, width: 120, height: 90 };
    const grey = Buffer.alloc(240 * 160, 255);
    for (let y = rect.top; y < rect.top + rect.height; y++) grey.fill(70, y * 240 + rect.left, y * 240 + rect.left + rect.width);
    const raw = { raw: { width: 240, height: 160, channels: 1 as const } };
    const greyJpeg = await sharp(grey, raw).toColourspace('b-w').jpeg().toBuffer();
    const greyPng = await sharp(grey, raw).toColourspace('b-w').png().toBuffer();
    expect((await sharp(greyJpeg).metadata()).channels).toBe(1);
    expect((await sharp(greyPng).metadata()).channels).toBe(1);
    for (const bytes of [greyJpeg, greyPng]) {
      const out = await prepareImage(bytes);
      expectBoxNear(out.box, rect, firstLookSlack(240, 160));
      expect(out.pixels.length).toBe(64 * 64 * 3);
      expect(near(at(out.pixels, 64, 32, 32), [70, 70, 70], 6)).toBe(true);
    }
  });

  it('rejects corrupt, truncated and empty bytes with UndecodableImageError', async () => {
    const rand = rng(3);
    const garbage = Buffer.from(Array.from({ length: 5000 }, () => Math.floor(rand() * 256)));
    const fakeJpeg = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), garbage]);
    const rect = { left: 40, top: 40, width: 300, height: 300 };
    const good = await jpeg(canvas(400, 400, rect, textureA(300, 300)), 400, 400);
    const truncated = good.subarray(0, Math.floor(good.length * 0.4));
    for (const bytes of [garbage, fakeJpeg, truncated, new Uint8Array(0)]) {
      const error = await prepareImage(bytes).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UndecodableImageError);
      expect((error as Error).message).toMatch(/^cannot decode image: .+/);
    }
    await expect(prepareImage(good)).resolves.toBeDefined();
  });

  it('rejects invalid options', async () => {
    const bytes = await jpeg(Buffer.alloc(10 * 10 * 3, 255), 10, 10);
    await expect(prepareImage(bytes, { size: 0 })).rejects.toThrow(RangeError);
    await expect(prepareImage(bytes, { tolerance: -1 })).rejects.toThrow(RangeError);
  });

  it('hashes near-identical pictures alike, different ones apart, deterministically', async () => {
    const w = 300;
    const h = 240;
    const picture = async (paint: (x: number, y: number) => Rgb, border: number, quality: number) =>
      prepareImage(await jpeg(canvas(w + 2 * border, h + 2 * border, { left: border, top: border, width: w, height: h }, paint), w + 2 * border, h + 2 * border, quality));
    const a = await picture(textureA(w, h), 40, 92);
    const aAgain = await picture(textureA(w, h), 100, 60);
    const b = await picture(textureB(w, h), 40, 92);

    expectBoxNear(aAgain.box, { left: 100, top: 100, width: w, height: h }, firstLookSlack(w + 200, h + 200));
    expect(hammingDistance(a.contentHash, aAgain.contentHash)).toBeLessThanOrEqual(4);
    expect(hammingDistance(a.contentHash, b.contentHash)).toBeGreaterThan(10);

    const bytes = await jpeg(canvas(w + 80, h + 80, { left: 40, top: 40, width: w, height: h }, textureA(w, h)), w + 80, h + 80, 92);
    const [x, y] = await Promise.all([prepareImage(bytes), prepareImage(bytes)]);
    expect(x.png.equals(y.png)).toBe(true);
    expect(x.pixels.equals(y.pixels)).toBe(true);
    expect(x.contentHash).toBe(y.contentHash);
    expect(x.png.equals(a.png)).toBe(true);
  });
});

describe('findContentBox', () => {
  it('ignores a single stray pixel, not a 2 x 2 speck', () => {
    const rect = { left: 10, top: 12, width: 20, height: 8 };
    const px = canvas(50, 40, rect, () => RED);
    expect(findContentBox(px, 50, 40, 3, 24)).toEqual(rect);
    px.set([0, 0, 0], (2 * 50 + 45) * 3); // one speck at (45, 2): noise
    expect(findContentBox(px, 50, 40, 3, 24)).toEqual(rect);
    for (const [x, y] of [[46, 2], [45, 3], [46, 3]] as const) px.set([0, 0, 0], (y * 50 + x) * 3); // now a 2 x 2 speck
    expect(findContentBox(px, 50, 40, 3, 24)).toEqual({ left: 10, top: 2, width: 37, height: 18 });
  });

  it('uses the top-left pixel as background, with the tolerance, for any channel count', () => {
    const grey = Buffer.alloc(30 * 20, 40);
    for (let y = 5; y < 15; y++) grey.fill(60, y * 30 + 8, y * 30 + 20);
    expect(findContentBox(grey, 30, 20, 1, 10)).toEqual({ left: 8, top: 5, width: 12, height: 10 });
    expect(findContentBox(grey, 30, 20, 1, 20)).toEqual({ left: 0, top: 0, width: 30, height: 20 });
  });

  it('scans a 500 px image quickly', () => {
    const px = canvas(500, 500, { left: 200, top: 200, width: 100, height: 100 }, () => RED);
    const t = performance.now();
    for (let i = 0; i < 20; i++) findContentBox(px, 500, 500, 3, 24);
    expect((performance.now() - t) / 20).toBeLessThan(20);
  });
});

describe('differenceHash and encodePng', () => {
  it('sets a bit where a cell is brighter than its right neighbour', () => {
    // Brightness falling left to right: every comparison is "brighter" -> all ones.
    const falling = Buffer.alloc(18 * 8 * 3);
    for (let y = 0; y < 8; y++) for (let x = 0; x < 18; x++) falling.fill(250 - x * 10, (y * 18 + x) * 3, (y * 18 + x + 1) * 3);
    expect(differenceHash(falling, 18, 8, 3)).toBe('ffffffffffffffff');
    expect(differenceHash(Buffer.alloc(9 * 8, 128), 9, 8, 1)).toBe('0000000000000000');
    expect(hammingDistance('ffffffffffffffff', '0000000000000000')).toBe(64);
    expect(hammingDistance('0f00000000000001', '0000000000000000')).toBe(5);
  });

  it('encodes PNGs that decode to the same pixels', async () => {
    const rand = rng(11);
    const px = Buffer.from(Array.from({ length: 37 * 23 * 3 }, () => Math.floor(rand() * 256)));
    const png = await encodePng(px, 37, 23);
    const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
    expect(info).toMatchObject({ width: 37, height: 23, channels: 3 });
    expect(data.equals(px)).toBe(true);
    expect((await encodePng(px, 37, 23)).equals(png)).toBe(true);
  });
});
