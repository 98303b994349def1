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

/**
 * Counts of the distinct 32-bit keys of one block, in first-seen order: the order fixes the order
 * of a vector's entries, hence the float sums downstream. Reused from product to product, so
 * counting allocates nothing once warm.
 */
export class BlockCounts {
  /** Distinct keys, first seen first (the first {@link BlockCounts.size}). */
  keys = new Uint32Array(64);
  /** Count of each key. */
  counts = new Int32Array(64);
  /** Number of distinct keys. */
  size = 0;
  private slots = new Int32Array(128).fill(-1);
  private slotOf = new Int32Array(64);

  /** Counts one occurrence of `key`. */
  add(key: number): void {
    const mask = this.slots.length - 1;
    // Keys are well-mixed hashes: their low bits are a good slot.
    let slot = key & mask;
    for (;;) {
      const i = this.slots[slot] as number;
      if (i === -1) break;
      if (this.keys[i] === key) {
        this.counts[i] = (this.counts[i] as number) + 1;
        return;
      }
      slot = (slot + 1) & mask;
    }
    const i = this.size++;
    if (i === this.keys.length) {
      this.keys = grow(this.keys, Uint32Array);
      this.counts = grow(this.counts, Int32Array);
      this.slotOf = grow(this.slotOf, Int32Array);
    }
    this.keys[i] = key;
    this.counts[i] = 1;
    this.slots[slot] = i;
    this.slotOf[i] = slot;
    if (this.size * 2 > this.slots.length) this.rehash();
  }

  /** Forgets every key (in time proportional to their number). */
  clear(): void {
    for (let i = 0; i < this.size; i++) this.slots[this.slotOf[i] as number] = -1;
    this.size = 0;
  }

  private rehash(): void {
    this.slots = new Int32Array(this.slots.length * 2).fill(-1);
    const mask = this.slots.length - 1;
    for (let i = 0; i < this.size; i++) {
      let slot = (this.keys[i] as number) & mask;
      while ((this.slots[slot] as number) !== -1) slot = (slot + 1) & mask;
      this.slots[slot] = i;
      this.slotOf[i] = slot;
    }
  }
}

function grow<T extends Uint32Array | Int32Array>(array: T, Type: { new (length: number): T }): T {
  const out = new Type(array.length * 2);
  out.set(array);
  return out;
}

/** Raw feature counts of one product, in four blocks (title words, title chars, description words, description chars). */
export type ProductCounts = [BlockCounts, BlockCounts, BlockCounts, BlockCounts];

/** Four empty blocks for {@link countFeatures}. */
export function productCounts(): ProductCounts {
  return [new BlockCounts(), new BlockCounts(), new BlockCounts(), new BlockCounts()];
}

function wordFeatures(tokens: readonly string[], counts: BlockCounts, nsWord: number, nsPair: number): void {
  let previous = -1;
  for (const token of tokens) {
    const h = hashString(token, nsWord);
    counts.add(h);
    if (previous !== -1) counts.add(hashPair(previous, h, nsPair));
    previous = h;
  }
}

function words(text: string): string[] {
  return text === '' ? [] : text.split(WORD_SPLIT).filter((w) => w !== '');
}

function charFeatures(text: string, counts: BlockCounts, ns: number, min: number, max: number): void {
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
        if (len >= min) counts.add(finalise(h ^ len));
      }
    }
  }
}

/** Counts the raw features of one product into `blocks` (cleared first). */
export function countFeatures(input: ModelInput, config: TextVectorizerConfig, blocks: ProductCounts = productCounts()): ProductCounts {
  for (const block of blocks) block.clear();
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

/** Open-addressing counts of 32-bit keys (document frequencies), growing as keys come. */
class KeyCounter {
  keys = new Uint32Array(1 << 16);
  /** 0: empty slot (every stored key counts at least 1). */
  counts = new Int32Array(1 << 16);
  size = 0;

  add(key: number): void {
    let mask = this.keys.length - 1;
    let slot = key & mask;
    for (;;) {
      const c = this.counts[slot] as number;
      if (c === 0) break;
      if (this.keys[slot] === key) {
        this.counts[slot] = c + 1;
        return;
      }
      slot = (slot + 1) & mask;
    }
    if ((this.size + 1) * 2 > this.keys.length) {
      this.rehash();
      mask = this.keys.length - 1;
      slot = key & mask;
      while ((this.counts[slot] as number) !== 0) slot = (slot + 1) & mask;
    }
    this.keys[slot] = key;
    this.counts[slot] = 1;
    this.size++;
  }

  private rehash(): void {
    const { keys, counts } = this;
    this.keys = new Uint32Array(keys.length * 2);
    this.counts = new Int32Array(keys.length * 2);
    const mask = this.keys.length - 1;
    for (let s = 0; s < keys.length; s++) {
      const c = counts[s] as number;
      if (c === 0) continue;
      let slot = (keys[s] as number) & mask;
      while ((this.counts[slot] as number) !== 0) slot = (slot + 1) & mask;
      this.keys[slot] = keys[s] as number;
      this.counts[slot] = c;
    }
  }
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

/** Entries per buffer of {@link TextVectorizer.transformAll} (8 MiB of indices and values). */
const CHUNK_ENTRIES = 1 << 20;

/** TF-IDF vectoriser over hashed n-gram features. */
export class TextVectorizer {
  /** Number of features. */
  readonly size: number;
  private readonly index: KeyIndex;
  // Scratch space of transform(): one product at a time.
  private readonly scratch = { blocks: productCounts(), indices: new Int32Array(1024), values: new Float64Array(1024) };

  private constructor(
    /** Settings. */
    readonly config: TextVectorizerConfig,
    private readonly keys: Uint32Array,
    private readonly idf: Float32Array,
  ) {
    this.size = keys.length;
    this.index = new KeyIndex(keys);
  }

  /**
   * Learns the vocabulary and document frequencies of training products in one streaming pass:
   * each product's counts are dropped once its distinct keys are counted, so memory grows with
   * the number of distinct features, not with the number of products.
   */
  static fit(inputs: readonly ModelInput[], config: Partial<TextVectorizerConfig> = {}): TextVectorizer {
    const full: TextVectorizerConfig = { ...DEFAULT_VECTORIZER_CONFIG, ...config };
    const df = new KeyCounter();
    const blocks = productCounts();
    for (const input of inputs) {
      countFeatures(input, full, blocks);
      for (const block of blocks) for (let i = 0; i < block.size; i++) df.add(block.keys[i] as number);
    }
    // Most frequent first, ties by key (deterministic whatever the table order), as one sort of
    // packed numbers: count * 2^32 + (2^32 - 1 - key) < 2^53, largest first.
    const packed = new Float64Array(df.size);
    let m = 0;
    for (let s = 0; s < df.keys.length; s++) {
      const count = df.counts[s] as number;
      if (count >= full.minDf) packed[m++] = count * 4294967296 + (4294967295 - (df.keys[s] as number));
    }
    const sorted = packed.subarray(0, m).sort();
    const kept = Math.min(m, Math.max(0, full.maxFeatures));
    const keys = new Uint32Array(kept);
    const counts = new Map<number, number>();
    for (let i = 0; i < kept; i++) {
      const v = sorted[m - 1 - i] as number;
      const count = Math.floor(v / 4294967296);
      const key = 4294967295 - (v - count * 4294967296);
      keys[i] = key;
      counts.set(key, count);
    }
    keys.sort();
    const idf = new Float32Array(kept);
    const n = inputs.length;
    keys.forEach((key, i) => {
      idf[i] = Math.log((1 + n) / (1 + (counts.get(key) as number))) + 1;
    });
    return new TextVectorizer(full, keys, idf);
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
    const length = this.vectorise(input);
    const { indices, values } = this.scratch;
    return { indices: indices.slice(0, length), values: Float32Array.from(values.subarray(0, length)) };
  }

  /**
   * Features of many products, as views into a few large buffers (of `SharedArrayBuffer`s, so
   * worker threads can read them without a copy): a compact sparse matrix, row by row.
   */
  transformAll(inputs: readonly ModelInput[]): SparseVector[] {
    const rows: SparseVector[] = [];
    let indices: Int32Array = new Int32Array(0);
    let values: Float32Array = new Float32Array(0);
    let used = 0;
    for (const input of inputs) {
      const length = this.vectorise(input);
      if (used + length > indices.length) {
        const size = Math.max(CHUNK_ENTRIES, length);
        indices = new Int32Array(new SharedArrayBuffer(size * 4));
        values = new Float32Array(new SharedArrayBuffer(size * 4));
        used = 0;
      }
      const row = { indices: indices.subarray(used, used + length), values: values.subarray(used, used + length) };
      row.indices.set(this.scratch.indices.subarray(0, length));
      row.values.set(this.scratch.values.subarray(0, length));
      used += length;
      rows.push(row);
    }
    return rows;
  }

  /** Writes the features of one product to the scratch arrays (values in double precision); returns their number. */
  private vectorise(input: ModelInput): number {
    const blocks = countFeatures(input, this.config, this.scratch.blocks);
    const total = blocks.reduce((sum, block) => sum + block.size, 0);
    if (total > this.scratch.indices.length) {
      this.scratch.indices = new Int32Array(total * 2);
      this.scratch.values = new Float64Array(total * 2);
    }
    const { indices, values } = this.scratch;
    const { titleWeight, charWeight, sublinearTf } = this.config;
    const weights = [titleWeight, titleWeight * charWeight, 1, charWeight];
    let length = 0;
    blocks.forEach((block, b) => {
      const start = length;
      let norm = 0;
      for (let e = 0; e < block.size; e++) {
        const i = this.index.get(block.keys[e] as number);
        if (i < 0) continue;
        const tf = block.counts[e] as number;
        const v = (sublinearTf ? 1 + Math.log(tf) : tf) * (this.idf[i] as number);
        indices[length] = i;
        values[length++] = v;
        norm += v * v;
      }
      if (norm > 0) {
        const scale = (weights[b] as number) / Math.sqrt(norm);
        for (let j = start; j < length; j++) values[j] = (values[j] as number) * scale;
      }
    });
    if (this.config.normalise) {
      let n2 = 0;
      for (let j = 0; j < length; j++) n2 += (values[j] as number) * (values[j] as number);
      const scale = n2 > 0 ? 1 / Math.sqrt(n2) : 1;
      for (let j = 0; j < length; j++) values[j] = (values[j] as number) * scale;
    }
    return length;
  }
}
