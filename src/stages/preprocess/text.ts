/**
 * Text steps of the Preprocessor: cleaning (entities, tags, Unicode, case, whitespace),
 * language choice, tokenisation, stop words and stemming. Pure and deterministic; the same
 * {@link TextPreprocessor} serves training and online prediction.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { decodeHTML } from 'entities';
import { createRequire } from 'node:module';
import type PorterStemmer from 'natural/lib/natural/stemmers/porter_stemmer.js';
import type { RegexpTokenizer } from 'natural/lib/natural/tokenizers/regexp_tokenizer.js';
import type { TextPreprocessingSpec } from '../../models/preprocessing-spec.js';

/** Languages the preprocessor tells apart (the catalogue is about 61% French, 23% English, 6% German). */
export type Language = 'fr' | 'en' | 'de';

/** One cleaning step: text in, text out. */
export type TextStep = (text: string) => string;

/**
 * Decodes HTML entities (`&eacute;`, `&#233;`, `&#xE9;`, `&amp;`...). Repeats while something
 * changes (at most 3 times) because some descriptions are encoded twice (`&amp;eacute;`).
 */
export const decodeEntities: TextStep = (text) => {
  let current = text;
  for (let i = 0; i < 3 && current.includes('&'); i++) {
    const next = decodeHTML(current);
    if (next === current) break;
    current = next;
  }
  return current;
};

const INVISIBLE_BLOCKS = /<(script|style|iframe)\b[^>]*>[\s\S]*?<\/\1\s*>|<!--[\s\S]*?-->/gi;
const TAG = /<\/?[a-z][^<>]*>/gi;

/**
 * Removes HTML: script/style/iframe blocks and comments entirely, every tag replaced by a space
 * so `a<br>b` never becomes `ab`. A `<` not followed by a tag name (`a < b`, `<3`) is kept.
 */
export const stripTags: TextStep = (text) => text.replace(INVISIBLE_BLOCKS, ' ').replace(TAG, ' ');

// Zero-width, soft hyphen, BOM and control characters (tabs and newlines become spaces later).
const INVISIBLE_CHARS = /[\u00ad\u200b-\u200f\u2028\u2029\u2060\ufeff\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g;

/** Unicode NFKC (ligatures, full-width forms, non-breaking spaces), invisible characters removed. */
export const normaliseUnicode: TextStep = (text) => text.normalize('NFKC').replace(INVISIBLE_CHARS, '');

/** Lower case. */
export const lowerCase: TextStep = (text) => text.toLowerCase();

/** Runs of whitespace (spaces, tabs, newlines) become one space; ends trimmed. */
export const collapseWhitespace: TextStep = (text) => text.replace(/\s+/g, ' ').trim();

/** The default cleaning, in order. Entities first, so that encoded tags (`&lt;br&gt;`) are stripped too. */
export const DEFAULT_TEXT_STEPS: readonly TextStep[] = [decodeEntities, stripTags, normaliseUnicode, lowerCase, collapseWhitespace];

/** Names of {@link DEFAULT_TEXT_STEPS}, as a preprocessing spec records them. */
export const DEFAULT_TEXT_STEP_NAMES: readonly string[] = ['decodeEntities', 'stripTags', 'normaliseUnicode', 'lowerCase', 'collapseWhitespace'];

// A spec names its steps (functions cannot be stored): name <-> function, built-ins first.
const STEP_BY_NAME = new Map<string, TextStep>();
const NAME_OF_STEP = new Map<TextStep, string>();
const BUILT_IN_STEPS = new Set<string>(DEFAULT_TEXT_STEP_NAMES);
DEFAULT_TEXT_STEPS.forEach((step, i) => {
  const name = DEFAULT_TEXT_STEP_NAMES[i] as string;
  STEP_BY_NAME.set(name, step);
  NAME_OF_STEP.set(step, name);
});
const STEP_NAME = /^[A-Za-z][\w.:-]{0,63}$/;

/**
 * Registers a custom cleaning step under a name, so that a {@link TextPreprocessor} using it can
 * be recorded in a preprocessing spec and rebuilt from it (`Preprocessor.fromSpec`). Register it
 * in every process that prepares, serves or evaluates with it, before use: a spec naming an
 * unregistered step is refused. Registering the same function under the same name again does
 * nothing; a built-in name or a name or function already registered otherwise is refused
 * (a name must mean one cleaning for every model recorded with it).
 *
 * @example
 * ```ts
 * registerTextStep('stripSkus', (text) => text.replace(/\bSKU[-\s]?\d+\b/gi, ' '));
 * const preprocessor = new Preprocessor({ text: { steps: [...DEFAULT_TEXT_STEP_NAMES, 'stripSkus'] } });
 * preprocessor.spec.text.steps; // [..., 'collapseWhitespace', 'stripSkus']
 * ```
 *
 * @throws TypeError when `name` is not 1–64 letters, digits, `_ . : -` starting with a letter, or `step` is not a function.
 * @throws Error when the name or the function is already registered otherwise.
 */
export function registerTextStep(name: string, step: TextStep): void {
  if (typeof name !== 'string' || !STEP_NAME.test(name)) {
    throw new TypeError(`registerTextStep: invalid step name ${JSON.stringify(name)} (1-64 letters, digits, _ . : -, starting with a letter)`);
  }
  if (typeof step !== 'function') throw new TypeError(`registerTextStep: step ${name} is not a function`);
  const existing = STEP_BY_NAME.get(name);
  if (existing === step) return;
  if (existing) {
    throw new Error(`registerTextStep: ${BUILT_IN_STEPS.has(name) ? 'built-in ' : ''}text step ${JSON.stringify(name)} is already registered with another function`);
  }
  const other = NAME_OF_STEP.get(step);
  if (other !== undefined) throw new Error(`registerTextStep: this function is already registered as text step ${JSON.stringify(other)}`);
  STEP_BY_NAME.set(name, step);
  NAME_OF_STEP.set(step, name);
}

/** Names of every registered text step (built-ins first, then in registration order). */
export function textStepNames(): string[] {
  return [...STEP_BY_NAME.keys()];
}

/**
 * The step registered under `name`.
 *
 * @throws Error naming the step and the known ones when there is none.
 */
export function textStep(name: string): TextStep {
  const step = STEP_BY_NAME.get(name);
  if (!step) {
    throw new Error(
      `Unknown text step ${JSON.stringify(name)}; known steps: ${textStepNames().join(', ')} ` +
        '(register a custom step with registerTextStep(name, fn) before building a preprocessor from a spec naming it)',
    );
  }
  return step;
}

/** The name `step` is registered under, `undefined` when it is not registered. */
export function textStepName(step: TextStep): string | undefined {
  return NAME_OF_STEP.get(step);
}

/** Joins the cleaned designation and description in {@link PreparedText.text}. */
export const FIELD_SEPARATOR = ' . ';

/** The language resources: natural's stemmers and tokeniser, stopword's lists. */
interface LanguageTools {
  stopWords: Record<Language, ReadonlySet<string>>;
  stemmers: Record<Language, typeof PorterStemmer>;
  tokenizer: RegexpTokenizer;
}

let tools: LanguageTools | undefined;

/**
 * Loaded on first use (synchronously: both packages are CommonJS), so that importing the package
 * does not pay for them (about a third of its import time) when no text is preprocessed.
 */
function languageTools(): LanguageTools {
  if (tools) return tools;
  const require = createRequire(import.meta.url);
  const { deu, eng, fra } = require('stopword') as typeof import('stopword');
  const natural = (path: string) => require(`natural/lib/natural/${path}`) as unknown;
  const { RegexpTokenizer: Tokenizer } = natural('tokenizers/regexp_tokenizer.js') as typeof import('natural/lib/natural/tokenizers/regexp_tokenizer.js');
  tools = {
    stopWords: { fr: new Set(fra), en: new Set(eng), de: new Set(deu) },
    stemmers: {
      fr: natural('stemmers/porter_stemmer_fr.js') as typeof PorterStemmer,
      en: natural('stemmers/porter_stemmer.js') as typeof PorterStemmer,
      de: natural('stemmers/porter_stemmer_de.js') as typeof PorterStemmer,
    },
    tokenizer: new Tokenizer({ pattern: /[^\p{L}\p{N}]+/u }),
  };
  return tools;
}
// Letters that only one of the three languages uses: a cheap extra vote for short titles.
const LETTER_HINTS: [Language, RegExp][] = [
  ['de', /[ßäöü]/],
  ['fr', /[éèêàçùûœ]/],
];

/**
 * Chooses the language of tokenised text: the language whose stop words occur most, plus one
 * vote for letters specific to French or German. Ties (e.g. no stop word at all) go to French,
 * the majority language of the catalogue.
 */
export function detectLanguage(tokens: readonly string[], text = ''): Language {
  const score: Record<Language, number> = { fr: 0, en: 0, de: 0 };
  const stop = languageTools().stopWords;
  for (const token of tokens) {
    if (stop.fr.has(token)) score.fr++;
    if (stop.en.has(token)) score.en++;
    if (stop.de.has(token)) score.de++;
  }
  for (const [language, hint] of LETTER_HINTS) if (hint.test(text)) score[language] += 1;
  let best: Language = 'fr';
  for (const language of ['en', 'de'] as const) if (score[language] > score[best]) best = language;
  return best;
}


/** Options of {@link TextPreprocessor}. */
export interface TextPreprocessorOptions {
  /**
   * Cleaning steps, applied in order to each field (default {@link DEFAULT_TEXT_STEPS}): functions
   * or names of registered steps. A function must be registered ({@link registerTextStep}) for the
   * preprocessor to have a spec, which preparing a pipeline needs.
   */
  steps?: readonly (TextStep | string)[];
  /** Tokens shorter than this are dropped (default 2). */
  minTokenLength?: number;
  /** Drop the stop words of the detected language (default true). */
  removeStopWords?: boolean;
  /** Stem tokens with natural's Porter stemmer of the detected language (default true). */
  stem?: boolean;
  /** Descriptions are cut at this many characters after cleaning, bounding latency (default 5,000). */
  maxDescriptionChars?: number;
}

/** A product's text after preprocessing. */
export interface PreparedText {
  /** Cleaned designation. */
  designation: string;
  /** Cleaned description (`''` when absent). */
  description: string;
  /** Both, joined with {@link FIELD_SEPARATOR} (just the designation when there is no description). */
  text: string;
  /** Detected language. */
  language: Language;
  /** Tokens of the designation: stop words removed, stemmed. */
  designationTokens: string[];
  /** Tokens of the description: stop words removed, stemmed. */
  descriptionTokens: string[];
  /** SHA-1 of `text`, `null` when the text is empty: identical listings share it. */
  textHash: string | null;
}

/** The raw text fields of a product. */
export interface ProductText {
  /** Title. */
  designation: string;
  /** HTML description, possibly empty. */
  description?: string | null;
}

const STEM_CACHE_LIMIT = 200_000;

/**
 * Turns a product's raw title and description into cleaned text and tokens. Deterministic and
 * fast (stems are cached: the vocabulary repeats a lot).
 */
export class TextPreprocessor {
  private readonly stepRefs: readonly (TextStep | string)[];
  private readonly steps: readonly TextStep[];
  private readonly minTokenLength: number;
  private readonly removeStopWords: boolean;
  private readonly stem: boolean;
  private readonly maxDescriptionChars: number;
  private readonly stems: Record<Language, Map<string, string>> = { fr: new Map(), en: new Map(), de: new Map() };

  /** Creates a text preprocessor. */
  constructor(options: TextPreprocessorOptions = {}) {
    this.stepRefs = [...(options.steps ?? DEFAULT_TEXT_STEPS)];
    this.steps = this.stepRefs.map((ref) => (typeof ref === 'string' ? textStep(ref) : ref));
    this.minTokenLength = options.minTokenLength ?? 2;
    this.removeStopWords = options.removeStopWords ?? true;
    this.stem = options.stem ?? true;
    this.maxDescriptionChars = options.maxDescriptionChars ?? 5_000;
  }

  /**
   * Its options as data, steps by name.
   *
   * @throws Error when a step is a function that was never registered (it could not be rebuilt).
   */
  get spec(): TextPreprocessingSpec {
    const steps = this.stepRefs.map((ref, i) => {
      if (typeof ref === 'string') return ref;
      const name = textStepName(ref);
      if (name === undefined) {
        throw new Error(
          `Text step ${i + 1} of ${this.stepRefs.length} (function ${ref.name || '<anonymous>'}) is not registered: ` +
            'give it a name with registerTextStep(name, fn) so that the preprocessing can be recorded and rebuilt',
        );
      }
      return name;
    });
    return {
      steps,
      minTokenLength: this.minTokenLength,
      removeStopWords: this.removeStopWords,
      stem: this.stem,
      maxDescriptionChars: this.maxDescriptionChars,
    };
  }

  /** Applies the cleaning steps to one field. */
  clean(text: string | null | undefined): string {
    let out = text ?? '';
    for (const step of this.steps) out = step(out);
    return out;
  }

  /** Splits cleaned text into tokens (letters and digits of any script). */
  tokenize(text: string): string[] {
    return text === '' ? [] : languageTools().tokenizer.tokenize(text);
  }

  /** Preprocesses one product's text. */
  prepare(product: ProductText): PreparedText {
    const designation = this.clean(product.designation);
    let description = this.clean(product.description);
    if (description.length > this.maxDescriptionChars) {
      const cut = description.lastIndexOf(' ', this.maxDescriptionChars);
      description = description.slice(0, cut > 0 ? cut : this.maxDescriptionChars);
    }
    const text = description ? `${designation}${FIELD_SEPARATOR}${description}` : designation;
    const rawDesignation = this.tokenize(designation);
    const rawDescription = this.tokenize(description);
    const language = detectLanguage(rawDesignation.concat(rawDescription), text);
    return {
      designation,
      description,
      text,
      language,
      designationTokens: this.normaliseTokens(rawDesignation, language),
      descriptionTokens: this.normaliseTokens(rawDescription, language),
      textHash: text === '' ? null : createHash('sha1').update(text).digest('hex'),
    };
  }

  private normaliseTokens(tokens: readonly string[], language: Language): string[] {
    const stop = languageTools().stopWords[language];
    const out: string[] = [];
    for (const token of tokens) {
      if (token.length < this.minTokenLength) continue;
      if (this.removeStopWords && stop.has(token)) continue;
      out.push(this.stem ? this.stemToken(token, language) : token);
    }
    return out;
  }

  private stemToken(token: string, language: Language): string {
    const cache = this.stems[language];
    let stem = cache.get(token);
    if (stem === undefined) {
      // Digits and mixed tokens (`5kg`, `ps4`) are kept as they are.
      stem = /\d/.test(token) ? token : languageTools().stemmers[language].stem(token);
      if (cache.size >= STEM_CACHE_LIMIT) cache.clear();
      cache.set(token, stem);
    }
    return stem;
  }
}
