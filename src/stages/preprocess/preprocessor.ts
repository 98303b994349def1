import {
  DEFAULT_BACKGROUND_TOLERANCE,
  DEFAULT_IMAGE_SIZE,
  DEFAULT_MAX_INPUT_PIXELS,
  prepareImage,
  prepareImagePixels,
  type ImagePrepOptions,
  type PreparedImage,
  type PreparedPixels,
} from './image.js';
import {
  PREPROCESSING_SPEC_VERSION,
  type PreprocessingSpec,
  type RecordedPreprocessing,
} from '../../models/preprocessing-spec.js';
import { NUMERIC_OPTIONS, validateNumbers } from '../../options.js';
import { TextPreprocessor, type PreparedText, type ProductText, type TextPreprocessorOptions } from './text.js';

/** Options of {@link Preprocessor}. */
export interface PreprocessorOptions {
  /** Text steps and token options. */
  text?: TextPreprocessorOptions;
  /** Image size, border tolerance and pixel limit. */
  image?: ImagePrepOptions;
}

/** A product as the preprocessor receives it, in training or online. */
export interface ProductInput extends ProductText {
  /** Original image bytes (JPEG or PNG), when there is one. */
  image?: Uint8Array | null;
}

/** A preprocessed product. */
export interface PreparedProduct {
  /** Text fields and tokens. */
  text: PreparedText;
  /** Normalised image, or `null` when the product has none. */
  image: PreparedImage | null;
}

/**
 * The one preprocessing function of the pipeline: training data and online prediction both go
 * through {@link Preprocessor.prepare}, so there is no train/serve skew. Its {@link Preprocessor.spec}
 * is recorded with each prepare run and each model version, and every consumer of a model
 * rebuilds the preprocessing from it with {@link Preprocessor.fromSpec}.
 *
 * @example
 * ```ts
 * const preprocessor = new Preprocessor({ text: { stem: false, minTokenLength: 3 }, image: { size: 32 } });
 * const json = JSON.stringify(preprocessor.spec); // stored with the model version
 * const same = Preprocessor.fromSpec(JSON.parse(json)); // cleans exactly as `preprocessor`
 * ```
 */
export class Preprocessor {
  /** The text half, usable alone. */
  readonly text: TextPreprocessor;
  /** Image options in effect. */
  readonly imageOptions: Required<ImagePrepOptions>;

  /** Creates a preprocessor. */
  constructor(
    /** Options it was created with. */
    readonly options: PreprocessorOptions = {},
  ) {
    validateNumbers('Preprocessor', { 'image.size': options.image?.size }, { 'image.size': NUMERIC_OPTIONS.imageSize });
    this.text = new TextPreprocessor(options.text);
    this.imageOptions = {
      size: options.image?.size ?? DEFAULT_IMAGE_SIZE,
      tolerance: options.image?.tolerance ?? DEFAULT_BACKGROUND_TOLERANCE,
      maxInputPixels: options.image?.maxInputPixels ?? DEFAULT_MAX_INPUT_PIXELS,
    };
  }

  /**
   * Rebuilds the preprocessing a spec describes: a full {@link PreprocessingSpec}, or a record
   * written before specs existed, whose missing fields take the defaults.
   *
   * @throws Error when the spec names an unknown text step (the message lists the known ones: a
   *   custom step must be registered with `registerTextStep` first), is of a newer format version,
   *   or holds a value of the wrong type or range.
   */
  static fromSpec(spec: RecordedPreprocessing | PreprocessingSpec): Preprocessor {
    const full = completePreprocessingSpec(spec);
    return new Preprocessor({ text: { ...full.text, steps: full.text.steps }, image: { ...full.image } });
  }

  /**
   * Its options as data, to record and rebuild with {@link Preprocessor.fromSpec} (a fresh copy).
   *
   * @throws Error when a text step is a function that was never registered under a name.
   */
  get spec(): PreprocessingSpec {
    const { size, tolerance, maxInputPixels } = this.imageOptions;
    return { version: PREPROCESSING_SPEC_VERSION, text: this.text.spec, image: { size, tolerance, maxInputPixels } };
  }

  /** Preprocesses the image alone (throws `UndecodableImageError` on bad bytes). */
  prepareImage(bytes: Uint8Array): Promise<PreparedImage> {
    return prepareImage(bytes, this.imageOptions);
  }

  /** The image's model pixels only (same as {@link Preprocessor.prepareImage}'s, without PNG and hash). */
  prepareImagePixels(bytes: Uint8Array): Promise<PreparedPixels> {
    return prepareImagePixels(bytes, this.imageOptions);
  }

  /** Preprocesses one product: text always, image when given. */
  async prepare(product: ProductInput): Promise<PreparedProduct> {
    const text = this.text.prepare(product);
    const image = product.image ? await this.prepareImage(product.image) : null;
    return { text, image };
  }
}

let defaults: PreprocessingSpec | undefined;

/** The spec of the default preprocessing. */
export function defaultPreprocessingSpec(): PreprocessingSpec {
  defaults ??= new Preprocessor().spec;
  return structuredClone(defaults);
}

function check(ok: boolean, field: string, value: unknown, expected: string): void {
  if (!ok) throw new TypeError(`preprocessing spec: ${field} must be ${expected}, got ${JSON.stringify(value)}`);
}

/** The fields of `value` that are not `undefined` (an explicit `undefined` means the default). */
function definedFields<T extends object>(value: T | undefined): Partial<T> {
  return Object.fromEntries(Object.entries(value ?? {}).filter(([, v]) => v !== undefined)) as Partial<T>;
}

const isInteger = (v: unknown, min: number): v is number => typeof v === 'number' && Number.isInteger(v) && v >= min;

/**
 * A recorded preprocessing with every missing field set to its default, checked and in canonical
 * key order (equal specs stringify equally). Step names are not resolved: a process can copy a
 * spec naming custom steps it has not registered.
 *
 * @throws Error when the format version is newer than {@link PREPROCESSING_SPEC_VERSION}.
 * @throws TypeError when a field has the wrong type or range.
 */
export function completePreprocessingSpec(recorded: RecordedPreprocessing | PreprocessingSpec | null | undefined): PreprocessingSpec {
  const base = defaultPreprocessingSpec();
  const r: RecordedPreprocessing = recorded ?? {};
  if (r.version !== undefined) {
    check(isInteger(r.version, 1), 'version', r.version, 'a positive integer');
    if (r.version > PREPROCESSING_SPEC_VERSION) {
      throw new Error(
        `preprocessing spec version ${r.version} is newer than this library reads (${PREPROCESSING_SPEC_VERSION}): upgrade rakuten-pipeline`,
      );
    }
  }
  const t = { ...base.text, ...definedFields(r.text) };
  const i = { ...base.image, ...definedFields(r.image) };
  check(Array.isArray(t.steps) && t.steps.every((s) => typeof s === 'string'), 'text.steps', t.steps, 'an array of step names');
  check(isInteger(t.minTokenLength, 0), 'text.minTokenLength', t.minTokenLength, 'an integer >= 0');
  check(typeof t.removeStopWords === 'boolean', 'text.removeStopWords', t.removeStopWords, 'a boolean');
  check(typeof t.stem === 'boolean', 'text.stem', t.stem, 'a boolean');
  check(isInteger(t.maxDescriptionChars, 1), 'text.maxDescriptionChars', t.maxDescriptionChars, 'an integer >= 1');
  const size = NUMERIC_OPTIONS.imageSize;
  check(isInteger(i.size, size.minimum ?? 1) && i.size <= (size.maximum ?? Infinity), 'image.size', i.size, `an integer from ${size.minimum} to ${size.maximum}`);
  check(typeof i.tolerance === 'number' && i.tolerance >= 0 && i.tolerance <= 255, 'image.tolerance', i.tolerance, 'a number from 0 to 255');
  check(isInteger(i.maxInputPixels, 1), 'image.maxInputPixels', i.maxInputPixels, 'an integer >= 1');
  return {
    version: PREPROCESSING_SPEC_VERSION,
    text: {
      steps: [...t.steps],
      minTokenLength: t.minTokenLength,
      removeStopWords: t.removeStopWords,
      stem: t.stem,
      maxDescriptionChars: t.maxDescriptionChars,
    },
    image: { size: i.size, tolerance: i.tolerance, maxInputPixels: i.maxInputPixels },
  };
}
