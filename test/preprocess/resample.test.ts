import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { jpegDimensions } from '../../src/stages/preprocess/image.js';
import { resampleRgb } from '../../src/stages/preprocess/resample.js';
import { mulberry32 } from '../../src/util/random.js';

/** A smooth RGB picture with a few edges, `width` x `height`. */
function picture(width: number, height: number): Buffer {
  const px = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = (y * width + x) * 3;
      const disc = (x - width * 0.4) ** 2 + (y - height * 0.5) ** 2 < (width * 0.2) ** 2;
      px[p] = disc ? 20 : Math.round(128 + 100 * Math.sin(x / 9));
      px[p + 1] = disc ? 30 : Math.round(128 + 100 * Math.cos(y / 7));
      px[p + 2] = (x * 3 + y) & 255;
    }
  }
  return px;
}

describe('resampleRgb', () => {
  // Mean difference in levels: libvips enlarges through an affine interpolator, hence more there
  // (only pictures smaller than the output are enlarged).
  it.each([
    [100, 100, { left: 10, top: 5, width: 80, height: 90 }, 58, 64, 2.5],
    [160, 120, { left: 0, top: 0, width: 160, height: 120 }, 64, 48, 2.5],
    [40, 40, { left: 2, top: 2, width: 36, height: 30 }, 64, 53, 4],
  ])('matches sharp lanczos3 on a %i x %i picture', async (width, height, box, outWidth, outHeight, meanLevels) => {
    const px = picture(width, height);
    const ours = resampleRgb(px, width, box, outWidth, outHeight);
    const theirs = await sharp(px, { raw: { width, height, channels: 3 } })
      .extract(box)
      .resize(outWidth, outHeight, { fit: 'fill', kernel: 'lanczos3' })
      .raw()
      .toBuffer();
    expect(ours.length).toBe(theirs.length);
    let sum = 0;
    for (let i = 0; i < ours.length; i++) sum += Math.abs((ours[i] as number) - (theirs[i] as number));
    expect(sum / ours.length).toBeLessThan(meanLevels);
  });

  it('keeps a flat picture flat and the identity exact', () => {
    const flat = Buffer.alloc(50 * 40 * 3, 200);
    expect(resampleRgb(flat, 50, { left: 0, top: 0, width: 50, height: 40 }, 20, 16).every((v) => v === 200)).toBe(true);
    const rand = mulberry32(5);
    const noise = Buffer.from(Array.from({ length: 30 * 20 * 3 }, () => Math.floor(rand() * 256)));
    expect(resampleRgb(noise, 30, { left: 0, top: 0, width: 30, height: 20 }, 30, 20).equals(noise)).toBe(true);
  });
});

describe('jpegDimensions', () => {
  it('reads baseline and progressive JPEG frames, and nothing else', async () => {
    const raw = { raw: { width: 37, height: 23, channels: 3 as const } };
    const px = picture(37, 23);
    expect(jpegDimensions(await sharp(px, raw).jpeg().toBuffer())).toEqual({ width: 37, height: 23 });
    expect(jpegDimensions(await sharp(px, raw).jpeg({ progressive: true }).withMetadata().toBuffer())).toEqual({ width: 37, height: 23 });
    expect(jpegDimensions(await sharp(px, raw).png().toBuffer())).toBeUndefined();
    expect(jpegDimensions(Buffer.from([0xff, 0xd8, 0xff, 0xda, 0, 2]))).toBeUndefined();
    expect(jpegDimensions(Buffer.from([0xff, 0xd8, 0x00]))).toBeUndefined();
  });
});
