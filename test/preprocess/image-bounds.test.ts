// Decompression bombs (hostile cases #14 and #39): refused from the header, before decoding.
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_INPUT_PIXELS, ImageTooLargeError, prepareImage, UndecodableImageError } from '../../src/stages/preprocess/image.js';
import { Preprocessor } from '../../src/stages/preprocess/preprocessor.js';
import { pngBomb } from '../support/hostile.js';

describe('image pixel limit', () => {
  it('refuses a 31 KB PNG of 16000 x 16000 pixels fast, without decoding it', async () => {
    const bomb = pngBomb(16000);
    expect(bomb.length).toBeLessThan(40_000);
    const rss = process.memoryUsage.rss();
    const t0 = performance.now();
    const error = await prepareImage(bomb).catch((e: unknown) => e);
    expect(performance.now() - t0).toBeLessThan(1_000);
    expect(process.memoryUsage.rss() - rss).toBeLessThan(100 * 1024 * 1024);
    expect(error).toBeInstanceOf(ImageTooLargeError);
    expect(error).toBeInstanceOf(UndecodableImageError);
    expect((error as Error).message).toBe(
      'image is 16000 x 16000 = 256,000,000 pixels, above the limit of 40,000,000 pixels (maxInputPixels); refused without decoding',
    );
    expect(DEFAULT_MAX_INPUT_PIXELS).toBe(40_000_000);
  });

  it('is configurable through the preprocessor, and the default fits 500 x 500 photos widely', async () => {
    const jpeg = await sharp({ create: { width: 500, height: 500, channels: 3, background: { r: 200, g: 10, b: 10 } } }).jpeg().toBuffer();
    expect((await new Preprocessor().prepareImage(jpeg)).originalWidth).toBe(500);
    const strict = new Preprocessor({ image: { maxInputPixels: 100_000 } });
    await expect(strict.prepareImage(jpeg)).rejects.toThrow(/500 x 500 = 250,000 pixels, above the limit of 100,000 pixels/);
    await expect(strict.prepareImagePixels(jpeg)).rejects.toBeInstanceOf(ImageTooLargeError);
  });
});

describe('large pictures that are not JPEGs', () => {
  it('are resized by sharp before the JS crop: a 6000 x 6000 PNG takes well under the seconds a whole-picture JS resize took', async () => {
    // One colour: no background border, so the box is the whole picture (the review's repro). The
    // JS Lanczos over all of it took over 3 s here (niced, loaded machine); sharp's resize first, 0.8 s.
    const side = 6000;
    const png = await sharp({ create: { width: side, height: side, channels: 3, background: { r: 30, g: 120, b: 200 } } }).png().toBuffer();
    const t0 = performance.now();
    const prepared = await prepareImage(png, { size: 64 });
    const ms = performance.now() - t0;
    expect(prepared.box).toEqual({ left: 0, top: 0, width: side, height: side });
    expect(Math.abs((prepared.pixels[0] as number) - 30) + Math.abs((prepared.pixels[1] as number) - 120)).toBeLessThan(4);
    expect(ms, `prepared in ${Math.round(ms)} ms`).toBeLessThan(2_000);
  });
});
