/**
 * The preprocessing spec: what a prepare run did to the raw products, as plain JSON, so that it
 * can be saved with every model version and rebuilt wherever the model is served
 * (`Preprocessor.fromSpec`). It lives at the bottom of the dependency graph (no imports): the
 * model registry records it without knowing the stages that implement it.
 *
 * @module
 */

/** Version of the spec format written by this library. */
export const PREPROCESSING_SPEC_VERSION = 1;

/** Text half of a {@link PreprocessingSpec}. */
export interface TextPreprocessingSpec {
  /**
   * Cleaning steps by name, applied in order to each field: built-ins (`decodeEntities`,
   * `stripTags`, `normaliseUnicode`, `lowerCase`, `collapseWhitespace`) or names given to
   * `registerTextStep`.
   */
  steps: string[];
  /** Tokens shorter than this are dropped. */
  minTokenLength: number;
  /** Whether the stop words of the detected language are dropped. */
  removeStopWords: boolean;
  /** Whether tokens are stemmed. */
  stem: boolean;
  /** Descriptions are cut at this many characters after cleaning. */
  maxDescriptionChars: number;
}

/** Image half of a {@link PreprocessingSpec}. */
export interface ImagePreprocessingSpec {
  /** Side of the square output in pixels. */
  size: number;
  /** Max per-channel difference from the border colour still trimmed as background. */
  tolerance: number;
  /** Largest image accepted, in pixels (an image refused in training is refused in serving). */
  maxInputPixels: number;
}

/** Complete, serialisable description of a preprocessing (JSON: no functions). */
export interface PreprocessingSpec {
  /** Format version ({@link PREPROCESSING_SPEC_VERSION}). */
  version: number;
  /** Text cleaning and tokens. */
  text: TextPreprocessingSpec;
  /** Image normalisation. */
  image: ImagePreprocessingSpec;
}

/**
 * Preprocessing as a stored record holds it: a full {@link PreprocessingSpec}, or — written before
 * specs existed — only some fields (model versions recorded `{ image: { size, tolerance } }`) or
 * none. Missing fields mean the defaults.
 */
export interface RecordedPreprocessing {
  /** Format version; absent in records written before specs. */
  version?: number;
  /** Text options recorded, if any. */
  text?: Partial<TextPreprocessingSpec>;
  /** Image options recorded, if any. */
  image?: Partial<ImagePreprocessingSpec>;
}
