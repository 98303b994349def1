/**
 * The `Splitter` stage: a configured, reusable {@link assignSplits}.
 *
 * @module
 */
import {
  assignSplits,
  DEFAULT_SPLIT_FRACTIONS,
  DEFAULT_SPLIT_SEED,
  type AssignSplitsOptions,
  type SplitAssignment,
  type SplitFractions,
  type SplitItem,
} from './assign.js';

/** Options of {@link Splitter}: seed and fractions, either of which may be left to its default. */
export interface SplitterOptions {
  /** Seed (reduced to 32 bits); default {@link DEFAULT_SPLIT_SEED}. */
  seed?: number;
  /** Validation and test fractions (train gets the rest); each defaults to {@link DEFAULT_SPLIT_FRACTIONS}'s. */
  fractions?: Partial<SplitFractions>;
}

/**
 * Splits labelled products into train / validation / test: stratified by label, seeded, and
 * leakage-free — products sharing a group key (the same cleaned text, the same image hash) always
 * land in the same split (see {@link assignSplits} for the algorithm). The options are checked
 * when the splitter is created, so a bad fraction fails before any data is read.
 *
 * `PrepareStage` takes one (`new PrepareStage(store, preprocessor, splitter)`); the seed and
 * fractions given to `PrepareStage.run` override the splitter's.
 *
 * @example
 * ```ts
 * const splitter = new Splitter({ seed: 7, fractions: { val: 0.1, test: 0.2 } });
 * const { splitOf, counts } = splitter.split([
 *   { id: 'a', label: 10, groupKeys: ['t:lampe'] },
 *   { id: 'b', label: 10, groupKeys: ['t:lampe'] }, // same text as `a`: same split
 *   { id: 'c', label: 40, groupKeys: [] },
 * ]);
 * splitOf.get('a') === splitOf.get('b'); // true
 * ```
 */
export class Splitter {
  /** Seed in effect. */
  readonly seed: number;
  /** Fractions in effect. */
  readonly fractions: Readonly<SplitFractions>;

  /**
   * Creates a splitter.
   *
   * @throws RangeError when a fraction is outside `[0, 1)`, `val + test >= 1` or the seed is not finite.
   */
  constructor(options: SplitterOptions = {}) {
    this.seed = options.seed ?? DEFAULT_SPLIT_SEED;
    this.fractions = Object.freeze({
      val: options.fractions?.val ?? DEFAULT_SPLIT_FRACTIONS.val,
      test: options.fractions?.test ?? DEFAULT_SPLIT_FRACTIONS.test,
    });
    assignSplits([], this.assignOptions());
  }

  /** A splitter with some options replaced (those left `undefined` are kept). */
  with(options: SplitterOptions): Splitter {
    return new Splitter({
      seed: options.seed ?? this.seed,
      fractions: { val: options.fractions?.val ?? this.fractions.val, test: options.fractions?.test ?? this.fractions.test },
    });
  }

  /**
   * Assigns each item to a split. Deterministic: the result depends only on the set of items
   * (not their order), the seed and the fractions.
   *
   * @throws RangeError when an id repeats or a label is not a finite number.
   */
  split(items: readonly SplitItem[]): SplitAssignment {
    return assignSplits(items, this.assignOptions());
  }

  private assignOptions(): AssignSplitsOptions {
    return { seed: this.seed, fractions: { ...this.fractions } };
  }
}
