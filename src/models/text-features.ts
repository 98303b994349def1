/**
 * Text features of the built-in model: hashed word, word-pair and character n-grams of the
 * title and of the description, weighted TF-IDF style and L2-normalised per block, the title
 * blocks weighted above the description blocks.
 *
 * Every feature is a 32-bit hash of its namespace and its text (no collision in practice at
 * the catalogue's scale); a fitted {@link TextVectorizer} keeps the features seen in at least
 * `minDf` training products (at most `maxFeatures`, the most frequent) in a compact index.
 *
 * @module
 */
import type { ModelInput } from './types.js';

/** Settings of a {@link TextVectorizer}. */
export interface TextVectorizerConfig {
  /** Shortest character n-gram (default 2). */
  charMin: number;
  /** Longest character n-gram (default 5). */
  charMax: number;
  /** Weight of the title blocks relative to the description blocks (default 1.5). */
  titleWeight: number;
  /** Weight of the character blocks relative to the word blocks of the same field (default 1). */
  charWeight: number;
  /** Features must occur in at least this many training products (default 1). */
  minDf: number;
  /** Most features kept, the most frequent first (default 500,000). */
  maxFeatures: number;
  /** Description characters used for character n-grams (default 1,000): bounds latency. */
  maxDescriptionChars: number;
  /** Term frequency as `1 + log(tf)` rather than `tf` (default true). */
  sublinearTf: boolean;
  /** Besides the stemmed tokens and their pairs, count the unstemmed words of the cleaned text and their pairs (default true). */
  rawWords: boolean;
  /** L2-normalise the whole vector after weighting the blocks (default true). */
  normalise: boolean;
}

/** Default {@link TextVectorizerConfig}. */
export const DEFAULT_VECTORIZER_CONFIG: Readonly<TextVectorizerConfig> = {
  charMin: 2,
  charMax: 5,
  titleWeight: 1.5,
  charWeight: 1,
  minDf: 1,
  maxFeatures: 500_000,
  maxDescriptionChars: 1_000,
  sublinearTf: true,
  rawWords: true,
  normalise: true,
};

/** A sparse feature vector: parallel arrays of feature indices and values. */
export interface SparseVector {
  /** Feature indices (distinct). */
  indices: Int32Array;
  /** Values, aligned with `indices`. */
  values: Float32Array;
}

// Namespaces of the four blocks, and of word pairs within word blocks.
const NS_TITLE_WORD = 0x1001;
const NS_TITLE_PAIR = 0x1002;
const NS_TITLE_CHAR = 0x1003;
const NS_DESC_WORD = 0x2001;
const NS_DESC_PAIR = 0x2002;
const NS_DESC_CHAR = 0x2003;
const NS_TITLE_RAW = 0x1005;
const NS_TITLE_RAW_PAIR = 0x1006;
const NS_DESC_RAW = 0x2005;
const NS_DESC_RAW_PAIR = 0x2006;

/** 32-bit FNV-1a of a string's UTF-16 code units, seeded. */
function hashString(text: string, seed: number): number {
  let h = (0x811c9dc5 ^ Math.imul(seed, 0x9e3779b1)) >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return finalise(h);
}

/** Murmur3 finaliser: spreads the bits of an FNV state. */
function finalise(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Hash of a pair of hashes in a namespace. */
function hashPair(a: number, b: number, seed: number): number {
  let h = (0x811c9dc5 ^ Math.imul(seed, 0x9e3779b1)) >>> 0;
  h = Math.imul(h ^ a, 0x01000193);
  h = Math.imul(h ^ b, 0x01000193);
  return finalise(h);
}

const WORD_SPLIT = /[^\p{L}\p{N}]+/u;

/** Raw feature counts of one product, in four blocks (title words, title chars, description words, description chars). */
export type BlockCounts = [Map<number, number>, Map<number, number>, Map<number, number>, Map<number, number>];

function add(counts: Map<number, number>, key: number): void {
  counts.set(key, (counts.get(key) ?? 0) + 1);
}

function wordFeatures(tokens: readonly string[], counts: Map<number, number>, nsWord: number, nsPair: number): void {
  let previous = -1;
  for (const token of tokens) {
    const h = hashString(token, nsWord);
    add(counts, h);
    if (previous !== -1) add(counts, hashPair(previous, h, nsPair));
    previous = h;
  }
}

function words(text: string): string[] {
  return text === '' ? [] : text.split(WORD_SPLIT).filter((w) => w !== '');
}

function charFeatures(text: string, counts: Map<number, number>, ns: number, min: number, max: number): void {
  const seed = (0x811c9dc5 ^ Math.imul(ns, 0x9e3779b1)) >>> 0;
  for (const word of words(text)) {
    const padded = ` ${word} `;
    const n = padded.length;
    for (let start = 0; start < n; start++) {
      let h = seed;
      const end = Math.min(n, start + max);
      for (let i = start; i < end; i++) {
        h = Math.imul(h ^ padded.charCodeAt(i), 0x01000193);
        const len = i - start + 1;
        if (len >= min) add(counts, finalise(h ^ len));
      }
    }
  }
}

/** Counts the raw features of one product. */
export function countFeatures(input: ModelInput, config: TextVectorizerConfig): BlockCounts {
  const blocks: BlockCounts = [new Map(), new Map(), new Map(), new Map()];
  wordFeatures(input.designationTokens, blocks[0], NS_TITLE_WORD, NS_TITLE_PAIR);
  charFeatures(input.designation, blocks[1], NS_TITLE_CHAR, config.charMin, config.charMax);
  wordFeatures(input.descriptionTokens, blocks[2], NS_DESC_WORD, NS_DESC_PAIR);
  const description =
    input.description.length > config.maxDescriptionChars ? input.description.slice(0, config.maxDescriptionChars) : input.description;
  charFeatures(description, blocks[3], NS_DESC_CHAR, config.charMin, config.charMax);
  if (config.rawWords) {
    wordFeatures(words(input.designation), blocks[0], NS_TITLE_RAW, NS_TITLE_RAW_PAIR);
    wordFeatures(words(input.description), blocks[2], NS_DESC_RAW, NS_DESC_RAW_PAIR);
  }
  return blocks;
}

/** Open-addressing table from 32-bit keys to dense indices. */
class KeyIndex {
  private readonly mask: number;
  private readonly slots: Int32Array;

  constructor(readonly keys: Uint32Array) {
    let capacity = 16;
    while (capacity < keys.length * 2) capacity *= 2;
    this.mask = capacity - 1;
    this.slots = new Int32Array(capacity).fill(-1);
    for (let i = 0; i < keys.length; i++) {
      let slot = (keys[i] as number) & this.mask;
      while ((this.slots[slot] as number) !== -1) slot = (slot + 1) & this.mask;
      this.slots[slot] = i;
    }
  }

  get(key: number): number {
    let slot = key & this.mask;
    for (;;) {
      const i = this.slots[slot] as number;
      if (i === -1) return -1;
      if (this.keys[i] === key) return i;
      slot = (slot + 1) & this.mask;
    }
  }
}

/** Serialised state of a {@link TextVectorizer}. */
export interface TextVectorizerState {
  /** Its settings. */
  config: TextVectorizerConfig;
  /** Feature keys, by index. */
  keys: Uint32Array;
  /** Inverse document frequency of each feature. */
  idf: Float32Array;
}

/** Result of {@link TextVectorizer.fit}. */
export interface FittedVectorizer {
  /** The fitted vectoriser. */
  vectorizer: TextVectorizer;
  /** Raw feature counts of each training product, for {@link TextVectorizer.transformCounts}. */
  counts: BlockCounts[];
}

/** TF-IDF vectoriser over hashed n-gram features. */
export class TextVectorizer {
  /** Number of features. */
  readonly size: number;
  private readonly index: KeyIndex;

  private constructor(
    /** Settings. */
    readonly config: TextVectorizerConfig,
    private readonly keys: Uint32Array,
    private readonly idf: Float32Array,
  ) {
    this.size = keys.length;
    this.index = new KeyIndex(keys);
  }

  /** Learns the vocabulary and document frequencies of training products. */
  static fit(inputs: readonly ModelInput[], config: Partial<TextVectorizerConfig> = {}): FittedVectorizer {
    const full: TextVectorizerConfig = { ...DEFAULT_VECTORIZER_CONFIG, ...config };
    const counts = inputs.map((input) => countFeatures(input, full));
    const df = new Map<number, number>();
    for (const blocks of counts) for (const block of blocks) for (const key of block.keys()) df.set(key, (df.get(key) ?? 0) + 1);
    let kept: [number, number][] = [];
    for (const [key, n] of df) if (n >= full.minDf) kept.push([key, n]);
    // Most frequent first, ties by key: deterministic whatever the Map order.
    kept.sort((a, b) => b[1] - a[1] || a[0] - b[0]);
    if (kept.length > full.maxFeatures) kept = kept.slice(0, full.maxFeatures);
    kept.sort((a, b) => a[0] - b[0]);
    const keys = new Uint32Array(kept.length);
    const idf = new Float32Array(kept.length);
    const n = inputs.length;
    kept.forEach(([key, count], i) => {
      keys[i] = key;
      idf[i] = Math.log((1 + n) / (1 + count)) + 1;
    });
    return { vectorizer: new TextVectorizer(full, keys, idf), counts };
  }

  /** Rebuilds a vectoriser from {@link TextVectorizer.state}. */
  static fromState(state: TextVectorizerState): TextVectorizer {
    return new TextVectorizer(state.config, state.keys, state.idf);
  }

  /** What {@link TextVectorizer.fromState} needs. */
  state(): TextVectorizerState {
    return { config: { ...this.config }, keys: this.keys, idf: this.idf };
  }

  /** Features of one product. */
  transform(input: ModelInput): SparseVector {
    return this.transformCounts(countFeatures(input, this.config));
  }

  /** Features from counts made by {@link countFeatures} with this vectoriser's settings. */
  transformCounts(blocks: BlockCounts): SparseVector {
    const { titleWeight, charWeight } = this.config;
    const weights = [titleWeight, titleWeight * charWeight, 1, charWeight];
    const indices: number[] = [];
    const values: number[] = [];
    blocks.forEach((block, b) => {
      const start = values.length;
      let norm = 0;
      for (const [key, tf] of block) {
        const i = this.index.get(key);
        if (i < 0) continue;
        const v = (this.config.sublinearTf ? 1 + Math.log(tf) : tf) * (this.idf[i] as number);
        indices.push(i);
        values.push(v);
        norm += v * v;
      }
      if (norm > 0) {
        const scale = (weights[b] as number) / Math.sqrt(norm);
        for (let j = start; j < values.length; j++) values[j] = (values[j] as number) * scale;
      }
    });
    if (this.config.normalise) {
      let n2 = 0;
      for (const v of values) n2 += v * v;
      const scale = n2 > 0 ? 1 / Math.sqrt(n2) : 1;
      for (let j = 0; j < values.length; j++) values[j] = (values[j] as number) * scale;
    }
    return { indices: Int32Array.from(indices), values: Float32Array.from(values) };
  }
}
