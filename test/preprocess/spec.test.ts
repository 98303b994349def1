import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { PREPROCESSING_SPEC_VERSION, type PreprocessingSpec } from '../../src/models/preprocessing-spec.js';
import { completePreprocessingSpec, defaultPreprocessingSpec, Preprocessor } from '../../src/stages/preprocess/preprocessor.js';
import {
  collapseWhitespace,
  DEFAULT_TEXT_STEP_NAMES,
  lowerCase,
  registerTextStep,
  stripTags,
  textStep,
  textStepNames,
  type TextStep,
} from '../../src/stages/preprocess/text.js';

const PRODUCT = {
  designation: 'Lampe de CHEVET &amp; Veilleuse LED',
  description: '<p>Une lampe <b>très</b> douce pour les enfants, ﬁnition bois. Réf SKU-12345.</p>',
};

describe('preprocessing spec', () => {
  it('describes the default preprocessing as plain JSON', () => {
    const spec = new Preprocessor().spec;
    expect(spec).toEqual({
      version: PREPROCESSING_SPEC_VERSION,
      text: { steps: [...DEFAULT_TEXT_STEP_NAMES], minTokenLength: 2, removeStopWords: true, stem: true, maxDescriptionChars: 5000 },
      image: { size: 64, tolerance: 24, maxInputPixels: 40_000_000 },
    });
    expect(JSON.parse(JSON.stringify(spec))).toEqual(spec);
    expect(defaultPreprocessingSpec()).toEqual(spec);
  });

  it('round-trips through JSON: the rebuilt preprocessor has the same spec and cleans identically', async () => {
    const original = new Preprocessor({
      text: { steps: [stripTags, 'lowerCase', collapseWhitespace], minTokenLength: 3, removeStopWords: false, stem: false, maxDescriptionChars: 40 },
      image: { size: 32, tolerance: 10, maxInputPixels: 1_000_000 },
    });
    const spec: PreprocessingSpec = JSON.parse(JSON.stringify(original.spec));
    expect(spec.text.steps).toEqual(['stripTags', 'lowerCase', 'collapseWhitespace']);
    const rebuilt = Preprocessor.fromSpec(spec);
    expect(rebuilt.spec).toEqual(original.spec);
    expect(rebuilt.text.prepare(PRODUCT)).toEqual(original.text.prepare(PRODUCT));
    expect(rebuilt.text.prepare(PRODUCT)).not.toEqual(new Preprocessor().text.prepare(PRODUCT));
    expect(rebuilt.imageOptions).toEqual({ size: 32, tolerance: 10, maxInputPixels: 1_000_000 });
    const jpeg = await sharp({ create: { width: 80, height: 60, channels: 3, background: { r: 200, g: 30, b: 30 } } }).jpeg().toBuffer();
    expect((await rebuilt.prepareImagePixels(jpeg)).pixels).toEqual((await original.prepareImagePixels(jpeg)).pixels);
  });

  it('fills records written before specs with the defaults, and refuses newer or malformed ones', () => {
    const defaults = defaultPreprocessingSpec();
    expect(completePreprocessingSpec({})).toEqual(defaults);
    expect(completePreprocessingSpec(undefined)).toEqual(defaults);
    expect(completePreprocessingSpec({ image: { size: 32, tolerance: 24 } })).toEqual({ ...defaults, image: { ...defaults.image, size: 32 } });
    expect(Preprocessor.fromSpec({ image: { size: 32 }, text: { stem: undefined } }).spec).toEqual({ ...defaults, image: { ...defaults.image, size: 32 } });
    expect(() => completePreprocessingSpec({ version: 2 })).toThrow(/version 2 is newer than this library reads \(1\)/);
    expect(() => completePreprocessingSpec({ text: { stem: 'yes' as unknown as boolean } })).toThrow(/text\.stem must be a boolean, got "yes"/);
    expect(() => completePreprocessingSpec({ text: { steps: 'lowerCase' as unknown as string[] } })).toThrow(/text\.steps must be an array/);
    expect(() => completePreprocessingSpec({ image: { size: 4 } })).toThrow(/image\.size must be an integer from 8 to 1024/);
  });

  it('names an unknown step and the known ones', () => {
    expect(() => Preprocessor.fromSpec({ version: 1, text: { steps: ['lowerCase', 'stripEmojis'] } })).toThrow(
      /Unknown text step "stripEmojis"; known steps: decodeEntities, stripTags, normaliseUnicode, lowerCase, collapseWhitespace.*registerTextStep/,
    );
    expect(() => new Preprocessor({ text: { steps: ['nope'] } })).toThrow(/Unknown text step "nope"/);
  });

  it('records and rebuilds custom steps registered by name; an unregistered function has no spec', () => {
    const stripSkus: TextStep = (text) => text.replace(/\bSKU-\d+\b/gi, ' ');
    const steps = [...DEFAULT_TEXT_STEP_NAMES.slice(0, -1), stripSkus, 'collapseWhitespace'];
    const unnamed = new Preprocessor({ text: { steps } });
    expect(() => unnamed.spec).toThrow(/Text step 5 of 6 \(function stripSkus\) is not registered: give it a name with registerTextStep/);

    registerTextStep('test.stripSkus', stripSkus);
    registerTextStep('test.stripSkus', stripSkus); // same function again: fine
    expect(textStepNames()).toContain('test.stripSkus');
    expect(textStep('test.stripSkus')).toBe(stripSkus);
    const spec = new Preprocessor({ text: { steps } }).spec;
    expect(spec.text.steps.at(-2)).toBe('test.stripSkus');
    const rebuilt = Preprocessor.fromSpec(JSON.parse(JSON.stringify(spec)));
    expect(rebuilt.text.prepare(PRODUCT).description).not.toMatch(/sku/);
    expect(rebuilt.text.prepare(PRODUCT)).toEqual(unnamed.text.prepare(PRODUCT));

    expect(() => registerTextStep('lowerCase', (t) => t)).toThrow(/built-in text step "lowerCase" is already registered/);
    expect(() => registerTextStep('test.stripSkus', (t) => t)).toThrow(/already registered with another function/);
    expect(() => registerTextStep('test.other', lowerCase)).toThrow(/already registered as text step "lowerCase"/);
    expect(() => registerTextStep('1bad name', (t) => t)).toThrow(TypeError);
  });
});
