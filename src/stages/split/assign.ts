/**
 * Deterministic, stratified, duplicate-aware train/val/test assignment.
 *
 * Items that share any group key (identical cleaned-text hash, identical perceptual image hash, ...)
 * are merged transitively into one group, and a group never straddles two splits, so
 * near-identical listings cannot leak from train into val/test.
 *
 * @module
 */
import { DEFAULTS } from '../../options.js';
import { mulberry32, shuffleInPlace } from '../../util/random.js';

/** Name of a data split. */
export type SplitName = 'train' | 'val' | 'test';

/** The split names, in the order train, val, test. */
export const SPLIT_NAMES: readonly SplitName[] = ['train', 'val', 'test'];

/** One product to assign. */
export interface SplitItem {
  /** Unique id (e.g. the product id); ids must not repeat. */
  id: string;
  /** Class label (e.g. `prdtypecode`); must be a finite number. */
  label: number;
  /** Keys shared by duplicates; items sharing any key are kept together (transitively). May be empty. */
  groupKeys: readonly string[];
}

/** Requested split sizes as fractions of all items; train gets `1 - val - test`. */
export interface SplitFractions {
  /** Fraction of items for validation, in `[0, 1)`. */
  val: number;
  /** Fraction of items for test, in `[0, 1)`; `val + test` must be below 1. */
  test: number;
}

/** Statistics about duplicate groups (groups of two or more items). */
export interface DuplicateGroupStats {
  /** Number of groups with 2 or more items. */
  groups: number;
  /** Number of items in those groups. */
  items: number;
  /** Size of the largest group with 2 or more items; 0 when there is none. */
  largest: number;
  /** Number of groups whose items do not all have the same label. */
  mixedLabels: number;
}

/** Result of {@link assignSplits}. */
export interface SplitAssignment {
  /** Split of each item id (iteration order: ids sorted ascending). */
  splitOf: Map<string, SplitName>;
  /** Group index of each id, groups of size 1 included; indices are `0..groups-1`, numbered by smallest member id. */
  groupOf: Map<string, number>;
  /** Number of groups of 2+ items, items in them, largest group size, groups that mix labels. */
  duplicateGroups: DuplicateGroupStats;
  /** Per split, per class (`String(label)`) item counts; every label of the input appears in every split, possibly with 0. */
  counts: Record<SplitName, Record<string, number>>;
}

/** Options of {@link assignSplits}. */
export interface AssignSplitsOptions {
  /** Seed of the pseudo-random tie-breaking and ordering (reduced to 32 bits); default {@link DEFAULT_SPLIT_SEED}. */
  seed?: number;
  /** Split fractions; default {@link DEFAULT_SPLIT_FRACTIONS} (0.70 / 0.15 / 0.15). */
  fractions?: SplitFractions;
}

/** Default fractions: 70 % train, 15 % val, 15 % test. */
export const DEFAULT_SPLIT_FRACTIONS: Readonly<SplitFractions> = Object.freeze({ val: DEFAULTS.val, test: DEFAULTS.test });

/** Default seed of {@link assignSplits}. */
export const DEFAULT_SPLIT_SEED = DEFAULTS.seed;

/** Classes with at least this many items are repaired to appear in every split with a non-zero fraction. */
const MIN_ITEMS_FOR_EVERY_SPLIT = 3;

function validateOptions(seed: number, fractions: SplitFractions): void {
  if (!Number.isFinite(seed)) throw new RangeError(`assignSplits: seed must be a finite number, got ${seed}`);
  for (const name of ['val', 'test'] as const) {
    const f = fractions[name];
    if (typeof f !== 'number' || !(f >= 0 && f < 1)) {
      throw new RangeError(`assignSplits: fractions.${name} must be a number in [0, 1), got ${String(f)}`);
    }
  }
  if (!(fractions.val + fractions.test < 1)) {
    throw new RangeError(
      `assignSplits: fractions.val + fractions.test must be below 1 (train gets the rest), got ${fractions.val} + ${fractions.test}`,
    );
  }
}

function emptyCounts(): Record<SplitName, Record<string, number>> {
  return { train: {}, val: {}, test: {} };
}

/**
 * Assigns items to train/val/test: stratified by label, duplicate-aware, deterministic.
 *
 * - Items sharing any group key are merged transitively (union-find) into groups; a group always
 *   lands in one split.
 * - Groups are placed greedily (largest first, seeded order among equal sizes) into the split that
 *   minimises a chi-square distance between achieved and target per-class and per-split counts.
 * - A repair pass then makes every class with at least 3 items appear in every split whose fraction
 *   is non-zero, by moving the smallest possible group (never splitting one); this is impossible only
 *   when a class's items sit in too few groups.
 * - A split with fraction 0 receives no items.
 *
 * The result depends only on the set of items (they are sorted by id first), the seed and the
 * fractions; different seeds give different assignments for non-trivial inputs.
 *
 * @param items - Items with unique ids.
 * @param options - Seed and fractions.
 * @returns The assignment, group indices, duplicate statistics and per-split class counts.
 * @throws RangeError when the options are invalid (fractions outside `[0, 1)`, `val + test >= 1`,
 *   non-finite seed), an id repeats or a label is not a finite number.
 */
export function assignSplits(items: readonly SplitItem[], options: AssignSplitsOptions = {}): SplitAssignment {
  const seed = options.seed ?? DEFAULT_SPLIT_SEED;
  const fractions = options.fractions ?? DEFAULT_SPLIT_FRACTIONS;
  validateOptions(seed, fractions);
  const frac = [1 - fractions.val - fractions.test, fractions.val, fractions.test];

  // Sorting by id makes the result independent of the input order.
  const sorted = [...items].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const n = sorted.length;
  const result: SplitAssignment = {
    splitOf: new Map(),
    groupOf: new Map(),
    duplicateGroups: { groups: 0, items: 0, largest: 0, mixedLabels: 0 },
    counts: emptyCounts(),
  };
  if (n === 0) return result;

  // --- classes -----------------------------------------------------------------------------
  const labelSet = new Set<number>();
  for (let i = 0; i < n; i++) {
    const it = sorted[i] as SplitItem;
    if (i > 0 && (sorted[i - 1] as SplitItem).id === it.id) {
      throw new RangeError(`assignSplits: duplicate item id ${JSON.stringify(it.id)}`);
    }
    if (typeof it.label !== 'number' || !Number.isFinite(it.label)) {
      throw new RangeError(`assignSplits: item ${JSON.stringify(it.id)} has a non-finite label ${String(it.label)}`);
    }
    labelSet.add(it.label);
  }
  const labels = [...labelSet].sort((a, b) => a - b);
  const numClasses = labels.length;
  const classIndex = new Map<number, number>(labels.map((l, c) => [l, c]));
  const itemClass = new Int32Array(n);
  const classTotal = new Float64Array(numClasses);
  for (let i = 0; i < n; i++) {
    const c = classIndex.get((sorted[i] as SplitItem).label) as number;
    itemClass[i] = c;
    classTotal[c] = (classTotal[c] as number) + 1;
  }

  // --- union-find over group keys (union by size, path halving) -----------------------------
  const parent = new Int32Array(n);
  const ufSize = new Int32Array(n).fill(1);
  for (let i = 0; i < n; i++) parent[i] = i;
  const find = (x: number): number => {
    while (parent[x] !== x) {
      const p = parent[x] as number;
      parent[x] = parent[p] as number;
      x = parent[x] as number;
    }
    return x;
  };
  const keyOwner = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    for (const key of (sorted[i] as SplitItem).groupKeys) {
      const owner = keyOwner.get(key);
      if (owner === undefined) {
        keyOwner.set(key, i);
        continue;
      }
      let a = find(i);
      let b = find(owner);
      if (a === b) continue;
      if ((ufSize[a] as number) < (ufSize[b] as number)) [a, b] = [b, a];
      parent[b] = a;
      ufSize[a] = (ufSize[a] as number) + (ufSize[b] as number);
    }
  }

  // Groups are numbered by their smallest member id, so numbering is order-independent too.
  const rootGroup = new Int32Array(n).fill(-1);
  const itemGroup = new Int32Array(n);
  let numGroups = 0;
  for (let i = 0; i < n; i++) {
    const r = find(i);
    if (rootGroup[r] === -1) rootGroup[r] = numGroups++;
    itemGroup[i] = rootGroup[r] as number;
  }
  const groupSize = new Int32Array(numGroups);
  for (let i = 0; i < n; i++) {
    const g = itemGroup[i] as number;
    groupSize[g] = (groupSize[g] as number) + 1;
  }
  // Members of each group, contiguous (counting sort keeps id order inside a group).
  const memberStart = new Int32Array(numGroups + 1);
  for (let g = 0; g < numGroups; g++) memberStart[g + 1] = (memberStart[g] as number) + (groupSize[g] as number);
  const members = new Int32Array(n);
  const fill = memberStart.slice(0, numGroups);
  for (let i = 0; i < n; i++) {
    const g = itemGroup[i] as number;
    members[fill[g] as number] = i;
    fill[g] = (fill[g] as number) + 1;
  }

  // Class composition of each group as (class, count) pairs, contiguous per group.
  const compStart = new Int32Array(numGroups + 1);
  const compClass: number[] = [];
  const compCount: number[] = [];
  const scratch = new Int32Array(numClasses);
  const touched: number[] = [];
  const stats = result.duplicateGroups;
  for (let g = 0; g < numGroups; g++) {
    for (let m = memberStart[g] as number; m < (memberStart[g + 1] as number); m++) {
      const c = itemClass[members[m] as number] as number;
      if (scratch[c] === 0) touched.push(c);
      scratch[c] = (scratch[c] as number) + 1;
    }
    touched.sort((a, b) => a - b);
    for (const c of touched) {
      compClass.push(c);
      compCount.push(scratch[c] as number);
      scratch[c] = 0;
    }
    compStart[g + 1] = compClass.length;
    const size = groupSize[g] as number;
    if (size >= 2) {
      stats.groups++;
      stats.items += size;
      stats.largest = Math.max(stats.largest, size);
      if (touched.length > 1) stats.mixedLabels++;
    }
    touched.length = 0;
  }

  // --- greedy placement ----------------------------------------------------------------------
  const rng = mulberry32(seed);
  const active = [0, 1, 2].filter((s) => (frac[s] as number) > 0);
  const target = new Float64Array(3 * numClasses);
  const cur = new Float64Array(3 * numClasses);
  const splitTarget = new Float64Array(3);
  const splitTotal = new Float64Array(3);
  for (const s of active) {
    splitTarget[s] = (frac[s] as number) * n;
    for (let c = 0; c < numClasses; c++) target[s * numClasses + c] = (frac[s] as number) * (classTotal[c] as number);
  }

  // Increase of the chi-square cost sum((cur - t)^2 / t) over (split, class) cells plus the same
  // term over split totals, when `sign * group g` is added to split s. Dividing by the target
  // weights small splits and rare classes more (an item matters more there), and the split-total
  // term stops per-class rounding from drifting the split sizes. Unlike a plain "largest deficit"
  // rule it also accounts for overshoot by large groups.
  const deltaCost = (g: number, s: number, sign: 1 | -1): number => {
    let d = 0;
    for (let k = compStart[g] as number; k < (compStart[g + 1] as number); k++) {
      const cell = s * numClasses + (compClass[k] as number);
      const cnt = compCount[k] as number;
      const t = target[cell] as number;
      d += (cnt * (2 * sign * ((cur[cell] as number) - t) + cnt)) / t;
    }
    const size = groupSize[g] as number;
    const T = splitTarget[s] as number;
    return d + (size * (2 * sign * ((splitTotal[s] as number) - T) + size)) / T;
  };
  const place = (g: number, s: number, sign: 1 | -1): void => {
    for (let k = compStart[g] as number; k < (compStart[g + 1] as number); k++) {
      const cell = s * numClasses + (compClass[k] as number);
      cur[cell] = (cur[cell] as number) + sign * (compCount[k] as number);
    }
    splitTotal[s] = (splitTotal[s] as number) + sign * (groupSize[g] as number);
  };

  // Seeded shuffle, then stable sort by size descending: big groups are the hardest to place, so
  // they go first while every split still has room; the shuffle varies everything else with the seed.
  const order = Array.from({ length: numGroups }, (_, g) => g);
  shuffleInPlace(order, rng);
  order.sort((a, b) => (groupSize[b] as number) - (groupSize[a] as number));

  const groupSplit = new Int8Array(numGroups);
  for (const g of order) {
    let best = Infinity;
    let chosen = -1;
    let ties = 0;
    for (const s of active) {
      const d = deltaCost(g, s, 1);
      const eps = 1e-9 * (1 + Math.abs(best === Infinity ? d : best));
      if (d < best - eps) {
        best = d;
        chosen = s;
        ties = 1;
      } else if (Math.abs(d - best) <= eps) {
        // Reservoir sampling: each tied split is chosen with equal probability.
        ties++;
        if (rng() * ties < 1) chosen = s;
      }
    }
    groupSplit[g] = chosen;
    place(g, chosen, 1);
  }

  // --- repair: every class with >= 3 items present in every active split ----------------------
  const required = Array.from(classTotal, (t) => t >= MIN_ITEMS_FOR_EVERY_SPLIT);
  const classGroups: number[][] = Array.from({ length: numClasses }, () => []);
  for (let g = 0; g < numGroups; g++) {
    for (let k = compStart[g] as number; k < (compStart[g + 1] as number); k++) {
      (classGroups[compClass[k] as number] as number[]).push(g);
    }
  }
  for (let c = 0; c < numClasses; c++) {
    if (!required[c]) continue;
    for (const s of active) {
      if ((cur[s * numClasses + c] as number) > 0) continue;
      // Smallest group first (a single item if possible), then the move that hurts the balance
      // least, which takes from the donor split with the largest surplus; ties by the RNG.
      let bestGroup = -1;
      let bestSize = Infinity;
      let bestCost = Infinity;
      let ties = 0;
      for (const g of classGroups[c] as number[]) {
        const from = groupSplit[g] as number;
        if (from === s) continue;
        const size = groupSize[g] as number;
        if (size > bestSize) continue;
        // Never empty a required class in the donor split (this includes class c itself).
        let feasible = true;
        for (let k = compStart[g] as number; k < (compStart[g + 1] as number); k++) {
          const d = compClass[k] as number;
          if (required[d] && (cur[from * numClasses + d] as number) - (compCount[k] as number) < 1) {
            feasible = false;
            break;
          }
        }
        if (!feasible) continue;
        const cost = deltaCost(g, from, -1) + deltaCost(g, s, 1);
        const eps = 1e-9 * (1 + Math.abs(bestCost === Infinity ? cost : bestCost));
        if (size < bestSize || cost < bestCost - eps) {
          bestGroup = g;
          bestSize = size;
          bestCost = cost;
          ties = 1;
        } else if (Math.abs(cost - bestCost) <= eps) {
          ties++;
          if (rng() * ties < 1) bestGroup = g;
        }
      }
      if (bestGroup < 0) continue; // impossible: the class sits in too few groups
      place(bestGroup, groupSplit[bestGroup] as number, -1);
      place(bestGroup, s, 1);
      groupSplit[bestGroup] = s;
    }
  }

  // --- output --------------------------------------------------------------------------------
  for (const name of SPLIT_NAMES) {
    const row = result.counts[name];
    for (const l of labels) row[String(l)] = 0;
  }
  for (let i = 0; i < n; i++) {
    const it = sorted[i] as SplitItem;
    const g = itemGroup[i] as number;
    const name = SPLIT_NAMES[groupSplit[g] as number] as SplitName;
    result.splitOf.set(it.id, name);
    result.groupOf.set(it.id, g);
    const row = result.counts[name];
    const key = String(it.label);
    row[key] = (row[key] as number) + 1;
  }
  return result;
}
