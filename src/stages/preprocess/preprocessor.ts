import { DEFAULT_MAX_INPUT_PIXELS, prepareImage, prepareImagePixels, type ImagePrepOptions, type PreparedImage, type PreparedPixels } from './image.js';
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
 * through {@link Preprocessor.prepare}, so there is no train/serve skew. Its options are
 * recorded with each prepare run and each model.
 */
export class Preprocessor {
  /** The text half, usable alone. */
  readonly text: TextPreprocessor;
  /** Image options in effect. */
  readonly imageOptions: Required<ImagePrepOptions>;

  /** Creates a preprocessor. */
  constructor(
    /** Options it was created with (recorded with runs and models). */
    readonly options: PreprocessorOptions = {},
  ) {
    this.text = new TextPreprocessor(options.text);
    this.imageOptions = {
      size: options.image?.size ?? 64,
      tolerance: options.image?.tolerance ?? 24,
      maxInputPixels: options.image?.maxInputPixels ?? DEFAULT_MAX_INPUT_PIXELS,
    };
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
