/**
 * Human-readable names of the 27 product type codes (`prdtypecode`), in French and English, for
 * reports, API answers and the CLI.
 *
 * Rakuten published only the numeric codes. These names were reconstructed by challenge
 * participants from the products of each class and published in their public repositories; the
 * short names below reconcile them (and were checked against product titles of each class):
 *
 * - W: Wilsbert12/Data_Science_Classification_of_Rakuten_Challenge_Multimodal_Soft_Vote,
 *   `data/prdtypecode_to_category_name.json` (hierarchical EN + FR names);
 * - O: ouissamgouni/bootcamp-mle24-rakuten, `notebooks/exploration/prdtypecode-classification.csv`
 *   and `data/config/category_code_desription.csv` (FR);
 * - K: Konarovic/Rakuten, `data/prdtype.csv` (FR);
 * - M: m-moriss/Data_challenge_RAKUTEN, `categories.csv` (FR);
 * - N: ManDes71/Rakuten_Presentation_Streamlit, `input/NOMENCLATURE.csv` (FR definitions).
 *
 * They are descriptive, not authoritative: a class can hold more than its name says.
 *
 * @module
 */

/** A language the category names exist in. */
export type CategoryLanguage = 'fr' | 'en';

/** The name of one category in each {@link CategoryLanguage}. */
export interface CategoryNames {
  /** French name, e.g. `"Livres d'occasion"`. */
  readonly fr: string;
  /** English name, e.g. `"Used books"`. */
  readonly en: string;
}

/** One of the 27 categories: its code and names. */
export interface Category extends CategoryNames {
  /** Product type code. */
  readonly prdtypecode: number;
}

// The letters after each line name the sources the name follows, the one whose wording is kept
// first. English names are W's where they fit the class, else translations of the French.
const TABLE: readonly (readonly [code: number, fr: string, en: string])[] = [
  [10, "Livres d'occasion", 'Used books'], // K O
  [40, 'Jeux vidéo', 'Video games'], // W O K
  [50, 'Accessoires de jeux vidéo', 'Video game accessories'], // W O K
  [60, 'Consoles de jeux', 'Game consoles'], // M O K W
  [1140, 'Figurines et pop culture', 'Figurines and pop culture'], // K N W
  [1160, 'Cartes à collectionner', 'Trading cards'], // N W O
  [1180, 'Jeux de rôle et de figurines', 'Role-playing and miniature games'], // W K
  [1280, 'Jouets pour enfants', "Children's toys"], // K O W
  [1281, 'Jeux de société', 'Board games'], // W O K
  [1300, 'Modélisme', 'Model making'], // W O
  // A mixed class: baby socks and clothes next to darts, billiards and table football.
  [1301, 'Vêtements bébé et jeux de café', 'Baby clothes and bar games'], // O W N
  [1302, "Jeux d'extérieur", 'Outdoor games'], // W O N
  [1320, 'Puériculture', 'Nursery and baby gear'], // W K
  [1560, "Mobilier d'intérieur", 'Indoor furniture'], // O W
  [1920, 'Linge de maison', 'Household linen'], // W O K
  [1940, 'Épicerie', 'Groceries'], // N M O
  [2060, 'Décoration intérieure', 'Home decoration'], // M W K O
  [2220, 'Animalerie', 'Pet supplies'], // K W
  [2280, 'Journaux et magazines anciens', 'Old newspapers and magazines'], // O K W
  [2403, 'Lots de livres, BD et magazines', 'Lots of books, comics and magazines'], // W O
  [2462, 'Lots de consoles et jeux vidéo', 'Console and video game bundles'], // W O K
  [2522, 'Papeterie', 'Stationery'], // O W K
  [2582, 'Mobilier de jardin', 'Garden furniture'], // W K O
  [2583, 'Piscine et spa', 'Pool and spa'], // W K O
  [2585, 'Outillage de jardin', 'Garden tools'], // W K
  [2705, 'Livres neufs', 'New books'], // O K
  [2905, 'Jeux PC en téléchargement', 'PC games (download)'], // N O W
];

/** The 27 categories, by ascending code (the order of `PRDTYPECODES`). */
export const CATEGORIES: readonly Category[] = Object.freeze(
  TABLE.map(([prdtypecode, fr, en]) => Object.freeze({ prdtypecode, fr, en })),
);

const BY_CODE: ReadonlyMap<number, Category> = new Map(CATEGORIES.map((c) => [c.prdtypecode, c]));

/**
 * The names of a code in both languages.
 *
 * @param code - A product type code.
 * @returns `{ fr, en }`, or `undefined` for a code that is not one of the 27.
 */
export function categoryNames(code: number): CategoryNames | undefined {
  const c = BY_CODE.get(code);
  return c && { fr: c.fr, en: c.en };
}

/**
 * The name of a code in one language.
 *
 * @example
 * ```ts
 * categoryName(10); // "Used books"
 * categoryName(10, 'fr'); // "Livres d'occasion"
 * categoryName(12); // undefined
 * ```
 *
 * @param code - A product type code.
 * @param lang - `'en'` (default) or `'fr'`.
 * @returns The name, or `undefined` for a code that is not one of the 27.
 */
export function categoryName(code: number, lang: CategoryLanguage = 'en'): string | undefined {
  return BY_CODE.get(code)?.[lang];
}

/**
 * A code and its name for display, `"10 — Used books"`; the bare code when it has no name (a model
 * trained on other codes).
 *
 * @param code - A product type code.
 * @param lang - `'en'` (default) or `'fr'`.
 * @returns The label to print.
 */
export function categoryLabel(code: number, lang: CategoryLanguage = 'en'): string {
  const name = categoryName(code, lang);
  return name === undefined ? String(code) : `${code} — ${name}`;
}

/**
 * Names by code in one language, the shape `renderEvaluationReport`'s `classNames` takes.
 *
 * @param lang - `'en'` (default) or `'fr'`.
 * @returns A new object, one entry per code.
 */
export function categoryNameMap(lang: CategoryLanguage = 'en'): Record<number, string> {
  return Object.fromEntries(CATEGORIES.map((c) => [c.prdtypecode, c[lang]]));
}
