import type { LabelledInputs, ModelImage, ModelInput } from '../models/types.js';
// A pure function: bundled into the kit rather than exported by the root entry.
import { mulberry32 } from '../util/random.js';

/** Options of {@link syntheticProducts}. */
export interface SyntheticProductsOptions {
  /** Number of products; classes take turns, so they are balanced. */
  readonly count: number;
  /** Class codes (default `[10, 40, 1280]`). */
  readonly classes?: readonly number[];
  /** Side of the images in pixels, or 0 for products without images (default 8). */
  readonly imageSize?: number;
  /** Share of the products that have an image (default 0.5). */
  readonly imageShare?: number;
  /** Seed of every random choice (default 1). */
  readonly seed?: number;
}

/** Default class codes of {@link syntheticProducts}. */
const DEFAULT_CLASSES: readonly number[] = [10, 40, 1280];

/** One dominant colour per class (cycled beyond six classes). */
const COLOURS: readonly (readonly [number, number, number])[] = [
  [200, 40, 40],
  [40, 200, 40],
  [40, 40, 200],
  [200, 200, 40],
  [200, 40, 200],
  [40, 200, 200],
];

/**
 * A small labelled catalogue that any reasonable classifier separates: each class has its own
 * title and description words (`c<code>w<k>`, `c<code>d<k>`) mixed with shared noise words, and,
 * for the products that have an image, its own dominant colour with pixel noise. Some products
 * have no description. Deterministic for a seed.
 *
 * @example
 * ```ts
 * const { inputs, labels } = syntheticProducts({ count: 60, classes: [10, 40], imageSize: 16 });
 * ```
 */
export function syntheticProducts(options: SyntheticProductsOptions): LabelledInputs {
  const classes = options.classes ?? DEFAULT_CLASSES;
  if (classes.length === 0) throw new RangeError('syntheticProducts: no classes');
  const size = options.imageSize ?? 8;
  const imageShare = size > 0 ? (options.imageShare ?? 0.5) : 0;
  const random = mulberry32(options.seed ?? 1);
  const pick = (n: number): number => Math.floor(random() * n);
  const inputs: ModelInput[] = [];
  const labels: number[] = [];
  for (let i = 0; i < options.count; i++) {
    const c = i % classes.length;
    const code = classes[c] as number;
    const title = [`c${code}w${pick(6)}`, `c${code}w${pick(6)}`, `noise${pick(30)}`, `noise${pick(30)}`];
    const description = random() < 0.3 ? [] : [`c${code}d${pick(8)}`, `noise${pick(30)}`, `noise${pick(30)}`];
    let image: ModelImage | null = null;
    if (random() < imageShare) {
      const colour = COLOURS[c % COLOURS.length] as readonly [number, number, number];
      const pixels = new Uint8Array(size * size * 3);
      for (let p = 0; p < pixels.length; p++) pixels[p] = Math.max(0, Math.min(255, (colour[p % 3] as number) + pick(60) - 30));
      image = { pixels, size };
    }
    inputs.push({
      designation: title.join(' '),
      description: description.join(' '),
      designationTokens: title,
      descriptionTokens: description,
      image,
    });
    labels.push(code);
  }
  return { inputs, labels };
}
