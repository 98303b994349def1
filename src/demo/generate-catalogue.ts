/**
 * Deterministic SYNTHETIC catalogue generator.
 *
 * Writes a folder with exactly the layout and file formats of the Rakuten France multimodal
 * product classification challenge (`X_train_update.csv`, `Y_train_CVw08PX.csv`,
 * `X_test_update.csv`, `image_train/`, `image_test/`), filled with invented products, so the
 * pipeline can be demonstrated, tested and benchmarked without the real data. Nothing in the
 * output comes from the real dataset: the vocabulary, brands, titles and pictures are made up here.
 *
 * @module
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { once } from 'node:events';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { finished } from 'node:stream/promises';
import { stringify } from 'csv-stringify/sync';
import { mulberry32, shuffleInPlace } from '../util/random.js';
import { PRDTYPECODES } from '../stages/load/classes.js';
import { writeImagesInWorkers } from './image-pool.js';
import { intBetween, mixSeed, STREAM, writeImage, type ImageJob, type Rng } from './render.js';

// ---------------------------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------------------------

/** Options of {@link generateDemoCatalogue}. */
export interface DemoCatalogueOptions {
  /** Output folder (created if missing). Existing files with the same names are overwritten; other files are left alone. */
  outDir: string;
  /** Number of labelled training rows (default 600). */
  rows?: number;
  /** Number of test rows (default: `max(20, round(rows / 10))`). */
  testRows?: number;
  /** Seed of the pseudo-random generator (default 42). Same options => byte-identical output. */
  seed?: number;
  /**
   * Fraction of rows (train and test) that get an image file (default 0.8). Use 0 with a large
   * `rows` to write only the CSVs quickly (about 100,000 rows per second).
   */
  imageFraction?: number;
  /** Side of the generated square JPEGs in pixels (default 500, like the real data; tests use smaller). */
  imageSize?: number;
  /** Inject bad input on request (default: none). All faults affect the training set only. */
  faults?: DemoFaults;
  /** Called after each file or image written (CSV files, README and images), for progress bars. */
  onProgress?: (done: number, total: number) => void;
  /**
   * Worker threads drawing and encoding the pictures (default: one per core, up to 8, when there
   * are at least 200 pictures; 0 renders them on the calling thread).
   * The output is the same whatever the number.
   */
  workers?: number;
}

/** Fewest pictures for which {@link generateDemoCatalogue} starts worker threads by default (starting them costs more than it saves below). */
export const DEMO_WORKER_MIN_IMAGES = 200;

/** Number of faulty items of each kind to inject (all default to 0). */
export interface DemoFaults {
  /** Training rows whose productid field is empty (such rows get no image file either). */
  missingId?: number;
  /** Extra label rows in `Y_train_CVw08PX.csv` whose index is not in any X file. */
  unknownLabel?: number;
  /** Training rows repeating an earlier row's productid (with their own index, text, label and imageid). */
  duplicateProductId?: number;
  /** Training rows that should have an image but whose image file is absent. */
  missingImage?: number;
  /**
   * Training image files with undecodable bytes: alternately a valid JPEG truncated to ~40% of
   * its bytes, and random bytes (so both kinds appear when there are at least 2).
   */
  corruptImage?: number;
  /** Image files in `image_train/` of products that have no text row (the real data has these). */
  orphanImage?: number;
}

/** What {@link generateDemoCatalogue} injected: CSV index values affected (productids for orphans). */
export interface DemoInjectedFaults {
  /** Index values of training rows with an empty productid. */
  missingId: number[];
  /** Index values present in `Y_train_CVw08PX.csv` only. */
  unknownLabel: number[];
  /** Index values of the rows that repeat an earlier row's productid (the later occurrence). */
  duplicateProductId: number[];
  /** Index values of training rows whose image file was deliberately not written. */
  missingImage: number[];
  /** Index values of training rows whose image file is corrupt. */
  corruptImage: number[];
  /** Productids of the orphan image files (no row in any X file). */
  orphanImage: number[];
}

/** Result of {@link generateDemoCatalogue}. */
export interface DemoCatalogueSummary {
  /** Absolute path of the output folder. */
  outDir: string;
  /** Rows in `X_train_update.csv` (without header). */
  trainRows: number;
  /** Rows in `X_test_update.csv` (without header). */
  testRows: number;
  /** Files written in `image_train/`, including corrupt and orphan ones. */
  trainImages: number;
  /** Files written in `image_test/`. */
  testImages: number;
  /** The fault counts used (defaults filled in). */
  faults: Required<DemoFaults>;
  /** Every file written, relative to `outDir`, with `/` separators, in a stable order. */
  files: string[];
  /** What was injected, with the index values / productids affected, so tests can check reports. */
  injected: DemoInjectedFaults;
}

/** The 27 product type codes of the challenge, in ascending order (the same list as {@link PRDTYPECODES}). */
export const DEMO_PRDTYPECODES: readonly number[] = PRDTYPECODES;

/** Header line (without line ending) of `X_train_update.csv` and `X_test_update.csv`. */
export const DEMO_X_HEADER = ',designation,description,productid,imageid';
/** Header line (without line ending) of `Y_train_CVw08PX.csv`. */
export const DEMO_Y_HEADER = ',prdtypecode';

/**
 * One CSV record, RFC 4180-quoted by csv-stringify (quotes only where a field has a comma, quote,
 * CR or LF), terminated by `\n` like the real challenge files.
 */
export function toCsvRow(fields: readonly (string | number)[]): string {
  // A lone CR must be quoted too, or a reader may take it for a line break.
  return stringify([fields as (string | number)[]], { record_delimiter: 'unix', quoted_match: '\r' });
}

/**
 * Generate a synthetic catalogue in `opts.outDir`: the three CSV files, `image_train/`,
 * `image_test/` and a `README.md` stating that the data is synthetic. Deterministic: the same
 * options give byte-identical files.
 *
 * @throws RangeError when an option is out of range or more faults are requested than rows allow.
 */
export async function generateDemoCatalogue(opts: DemoCatalogueOptions): Promise<DemoCatalogueSummary> {
  const o = resolveOptions(opts);
  const outDir = path.resolve(o.outDir);
  const plan = makePlan(o);

  await mkdir(path.join(outDir, 'image_train'), { recursive: true });
  await mkdir(path.join(outDir, 'image_test'), { recursive: true });

  const imageJobs = plan.images;
  const total = 4 + imageJobs.length;
  let done = 0;
  const tick = (): void => {
    done++;
    opts.onProgress?.(done, total);
  };

  await writeXFile(path.join(outDir, 'X_train_update.csv'), plan.train, o.seed);
  tick();
  await writeYFile(path.join(outDir, 'Y_train_CVw08PX.csv'), plan);
  tick();
  await writeXFile(path.join(outDir, 'X_test_update.csv'), plan.test, o.seed);
  tick();

  const workers = o.workers ?? (imageJobs.length >= DEMO_WORKER_MIN_IMAGES ? Math.min(8, availableParallelism()) : 0);
  if (workers > 0) {
    await writeImagesInWorkers(imageJobs, workers, { outDir, size: o.imageSize, seed: o.seed }, tick);
  } else {
    // A few at once: sharp encodes on libuv's thread pool while the next picture is drawn.
    await runPool(imageJobs, 4, async (job) => {
      await writeImage(job, outDir, o.imageSize, o.seed);
      tick();
    });
  }

  const summary: DemoCatalogueSummary = {
    outDir,
    trainRows: o.rows,
    testRows: o.testRows,
    trainImages: imageJobs.filter((j) => j.file.startsWith('image_train/')).length,
    testImages: imageJobs.filter((j) => j.file.startsWith('image_test/')).length,
    faults: o.faults,
    files: ['X_train_update.csv', 'Y_train_CVw08PX.csv', 'X_test_update.csv', 'README.md', ...imageJobs.map((j) => j.file)],
    injected: plan.injected,
  };
  await writeFile(path.join(outDir, 'README.md'), readmeText(o, summary), 'utf8');
  tick();
  return summary;
}

// ---------------------------------------------------------------------------------------------
// Options
// ---------------------------------------------------------------------------------------------

interface ResolvedOptions {
  outDir: string;
  rows: number;
  testRows: number;
  seed: number;
  imageFraction: number;
  imageSize: number;
  faults: Required<DemoFaults>;
  workers: number | undefined;
}

function intOption(name: string, value: number | undefined, fallback: number, min: number, max: number): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new RangeError(`${name} must be an integer in [${min}, ${max}], got ${String(value)}`);
  }
  return v;
}

function resolveOptions(opts: DemoCatalogueOptions): ResolvedOptions {
  const rows = intOption('rows', opts.rows, 600, 0, 5_000_000);
  const testRows = intOption('testRows', opts.testRows, Math.max(20, Math.round(rows / 10)), 0, 5_000_000);
  const seed = intOption('seed', opts.seed, 42, -0x80000000, 0xffffffff);
  const imageSize = intOption('imageSize', opts.imageSize, 500, 16, 4096);
  const imageFraction = opts.imageFraction ?? 0.8;
  if (!(imageFraction >= 0 && imageFraction <= 1)) {
    throw new RangeError(`imageFraction must be in [0, 1], got ${String(opts.imageFraction)}`);
  }
  const f = opts.faults ?? {};
  const faults: Required<DemoFaults> = {
    missingId: intOption('faults.missingId', f.missingId, 0, 0, rows),
    unknownLabel: intOption('faults.unknownLabel', f.unknownLabel, 0, 0, 1_000_000),
    duplicateProductId: intOption('faults.duplicateProductId', f.duplicateProductId, 0, 0, rows),
    missingImage: intOption('faults.missingImage', f.missingImage, 0, 0, rows),
    corruptImage: intOption('faults.corruptImage', f.corruptImage, 0, 0, rows),
    orphanImage: intOption('faults.orphanImage', f.orphanImage, 0, 0, 1_000_000),
  };
  // Row 0 always stays clean (it is a valid source for duplicates).
  if (faults.missingId + faults.duplicateProductId > Math.max(0, rows - 1)) {
    throw new RangeError('faults.missingId + faults.duplicateProductId must be < rows');
  }
  if (faults.missingImage + faults.corruptImage > rows - faults.missingId) {
    throw new RangeError('faults.missingImage + faults.corruptImage must be <= rows - faults.missingId');
  }
  const workers = opts.workers === undefined ? undefined : intOption('workers', opts.workers, 0, 0, 64);
  return { outDir: opts.outDir, rows, testRows, seed, imageFraction, imageSize, faults, workers };
}

// ---------------------------------------------------------------------------------------------
// Pseudo-random numbers
// ---------------------------------------------------------------------------------------------

function pick<T>(r: Rng, items: readonly T[]): T {
  const v = items[Math.floor(r() * items.length)];
  if (v === undefined) throw new Error('pick from an empty list');
  return v;
}

function shuffle<T>(r: Rng, items: T[]): T[] {
  return shuffleInPlace(items, r);
}

// ---------------------------------------------------------------------------------------------
// Vocabulary (all invented here; brands are fictional)
// ---------------------------------------------------------------------------------------------

type Lang = 'fr' | 'en' | 'de';
type Style = 'product' | 'book' | 'magazine' | 'game' | 'gear';

interface LangWords {
  nouns: readonly string[];
  adjs: readonly string[];
}

interface ClassSpec {
  code: number;
  /** Relative frequency (roughly the imbalance of the real challenge). */
  weight: number;
  style: Style;
  /** Class whose vocabulary is borrowed by ~5% of rows (label noise / overlap). */
  neighbour: number;
  brands: readonly string[];
  words: Record<Lang, LangWords>;
  platforms?: readonly string[];
}

const w = (nouns: string, adjs: string): LangWords => ({ nouns: nouns.split('|'), adjs: adjs.split('|') });
const CONSOLES = ['PS4', 'PS2', 'Xbox One', 'Xbox 360', 'Nintendo Switch', 'Nintendo DS', 'Wii', 'Game Boy', 'PSP'];

const CLASSES: readonly ClassSpec[] = [
  { code: 10, weight: 31, style: 'book', neighbour: 2705, brands: ['Editions Marelle', 'Librairie Vauclair', 'Penrose Press'],
    words: { fr: w('livre ancien|roman|édition originale|recueil de poèmes|livre de poche', 'broché|illustré|annoté|jauni|relié'),
      en: w('vintage book|novel|first edition|paperback|poetry collection', 'used|illustrated|annotated|hardbound'),
      de: w('Roman|Erstausgabe|Taschenbuch|Gedichtband', 'gebraucht|illustriert|gebunden') } },
  { code: 40, weight: 25, style: 'game', neighbour: 2462, brands: ['Pixelon', 'Nexaplay', 'Retrobit'], platforms: CONSOLES,
    words: { fr: w('jeu vidéo|cartouche|jeu|édition collector', 'complet|en boîte|version française|rétro'),
      en: w('video game|cartridge|game|collector edition', 'complete|boxed|retro|sealed'),
      de: w('Videospiel|Spielmodul|Spiel|Sammleredition', 'komplett|originalverpackt|retro') } },
  { code: 50, weight: 17, style: 'gear', neighbour: 60, brands: ['Nexaplay', 'Gripton', 'Voltek'], platforms: CONSOLES,
    words: { fr: w('manette|câble de charge|station de charge|volant|casque gaming|housse de protection', 'sans fil|compatible|ergonomique|rétroéclairé'),
      en: w('controller|charging cable|charging dock|steering wheel|gaming headset|protective case', 'wireless|compatible|ergonomic|backlit'),
      de: w('Controller|Ladekabel|Ladestation|Lenkrad|Gaming-Headset|Schutzhülle', 'kabellos|kompatibel|ergonomisch') } },
  { code: 60, weight: 8, style: 'gear', neighbour: 40, brands: ['Retrobit', 'Pixelon', 'Arcadia Box'], platforms: CONSOLES,
    words: { fr: w('console|console portable|pack console|mini console rétro', 'reconditionnée|avec 2 manettes|en boîte|débloquée'),
      en: w('console|handheld console|console bundle|mini retro console', 'refurbished|with 2 controllers|boxed'),
      de: w('Spielkonsole|Handheld-Konsole|Konsolen-Bundle', 'generalüberholt|mit 2 Controllern') } },
  { code: 1140, weight: 27, style: 'product', neighbour: 1180, brands: ['Figurama', 'Kaiju Toys', 'Staturia'],
    words: { fr: w('figurine|statuette|buste|figurine articulée|porte-clés figurine', 'de collection|peinte à la main|édition limitée|en vinyle'),
      en: w('figure|statue|bust|action figure|collectible figure', 'collectible|hand painted|limited edition|vinyl'),
      de: w('Sammelfigur|Statue|Büste|Actionfigur', 'handbemalt|limitiert|Vinyl') } },
  { code: 1160, weight: 40, style: 'product', neighbour: 1281, brands: ['Arcana Cards', 'Holo Deck', 'Mythic TCG'],
    words: { fr: w('carte à collectionner|booster|deck|carte holographique|lot de cartes', 'rare|holo|en français|neuve sous blister'),
      en: w('trading card|booster pack|deck|holographic card|card lot', 'rare|holo|mint|sealed'),
      de: w('Sammelkarte|Booster|Deck|Holokarte|Kartenset', 'selten|holo|versiegelt') } },
  { code: 1180, weight: 8, style: 'product', neighbour: 1140, brands: ['Ironforge Minis', 'Dice & Dragons', 'Warband'],
    words: { fr: w('figurine à peindre|jeu de rôle|set de dés|escouade|livre de règles', 'non peinte|en résine|fantastique|28mm'),
      en: w('miniature|roleplaying game|dice set|squad|rulebook', 'unpainted|resin|fantasy|28mm'),
      de: w('Miniatur|Rollenspiel|Würfelset|Trupp|Regelbuch', 'unbemalt|Resin|Fantasy') } },
  { code: 1280, weight: 49, style: 'product', neighbour: 1281, brands: ['Petit Ourson', 'Kidoo', 'Toyland'],
    words: { fr: w('peluche|poupée|jouet|hochet|jouet en bois|circuit de voitures', 'douce|éducatif|pour enfant|dès 3 ans'),
      en: w('plush toy|doll|toy|rattle|wooden toy|race track', 'soft|educational|for kids|ages 3+'),
      de: w('Plüschtier|Puppe|Spielzeug|Rassel|Holzspielzeug', 'weich|lehrreich|ab 3 Jahren') } },
  { code: 1281, weight: 21, style: 'product', neighbour: 1280, brands: ['Ludomania', 'Meeple & Co', 'Puzzlix'],
    words: { fr: w('jeu de société|puzzle|jeu de cartes|jeu de stratégie|jeu d\'ambiance', 'familial|1000 pièces|coopératif|de 2 à 6 joueurs'),
      en: w('board game|jigsaw puzzle|card game|strategy game|party game', 'family|1000 pieces|cooperative|2-6 players'),
      de: w('Brettspiel|Puzzle|Kartenspiel|Strategiespiel|Partyspiel', 'Familienspiel|1000 Teile|kooperativ') } },
  { code: 1300, weight: 50, style: 'product', neighbour: 1280, brands: ['SkyHawk', 'Modelix', 'Turbo RC'],
    words: { fr: w('drone|hélicoptère radiocommandé|maquette|voiture RC|kit de modélisme|batterie LiPo', 'avec caméra HD|1/24|télécommandé|à assembler'),
      en: w('drone|RC helicopter|scale model kit|RC car|LiPo battery', 'with HD camera|1:24|remote controlled|to assemble'),
      de: w('Drohne|RC-Hubschrauber|Modellbausatz|RC-Auto|LiPo-Akku', 'mit HD-Kamera|1:24|ferngesteuert') } },
  { code: 1301, weight: 8, style: 'product', neighbour: 1302, brands: ['Bull\'s Point', 'Kicker Pro', 'Bébé Chausson'],
    words: { fr: w('fléchettes|cible de fléchettes|baby-foot|chaussettes bébé|chaussons bébé', 'électronique|de bar|antidérapantes|naissance'),
      en: w('darts|dartboard|foosball table|baby socks|baby booties', 'electronic|pub|non-slip|newborn'),
      de: w('Dartpfeile|Dartscheibe|Tischkicker|Babysocken', 'elektronisch|rutschfest|Neugeborene') } },
  { code: 1302, weight: 25, style: 'product', neighbour: 1301, brands: ['Plein Air', 'Splashy', 'Sky Kite'],
    words: { fr: w('trampoline|cerf-volant|pistolet à eau|ballon de plage|toboggan|kit de pêche enfant', 'de jardin|gonflable|pour l\'extérieur|résistant'),
      en: w('trampoline|kite|water gun|beach ball|slide|kids fishing set', 'outdoor|inflatable|sturdy'),
      de: w('Trampolin|Drachen|Wasserpistole|Wasserball|Rutsche', 'aufblasbar|für draußen|robust') } },
  { code: 1320, weight: 32, style: 'product', neighbour: 1280, brands: ['Bébé Douceur', 'Nurserie', 'Kanga'],
    words: { fr: w('poussette|biberon|siège auto|gigoteuse|porte-bébé|tapis à langer', 'pliable|anti-colique|naissance|ergonomique'),
      en: w('stroller|baby bottle|car seat|sleeping bag|baby carrier|changing mat', 'foldable|anti-colic|newborn'),
      de: w('Kinderwagen|Babyflasche|Autositz|Schlafsack|Babytrage|Wickelauflage', 'faltbar|Anti-Kolik') } },
  { code: 1560, weight: 51, style: 'product', neighbour: 2582, brands: ['Maison Lune', 'Boisdor', 'Nordika'],
    words: { fr: w('commode|étagère|matelas|chaise|table basse|meuble TV|tête de lit', 'scandinave|en chêne massif|3 tiroirs|design'),
      en: w('chest of drawers|shelf|mattress|chair|coffee table|TV stand', 'scandinavian|solid oak|3 drawers'),
      de: w('Kommode|Regal|Matratze|Stuhl|Couchtisch|TV-Schrank', 'skandinavisch|Massivholz|3 Schubladen') } },
  { code: 1920, weight: 43, style: 'product', neighbour: 2060, brands: ['Linge & Lin', 'Douce Nuit', 'Textilia'],
    words: { fr: w('housse de couette|coussin|rideau|drap housse|taie d\'oreiller|plaid', 'en coton|240x220|occultant|doux'),
      en: w('duvet cover|cushion|curtain|fitted sheet|pillowcase|throw blanket', 'cotton|blackout|soft'),
      de: w('Bettwäsche|Kissen|Vorhang|Spannbettlaken|Kissenbezug|Kuscheldecke', 'Baumwolle|blickdicht|weich') } },
  { code: 1940, weight: 8, style: 'product', neighbour: 2220, brands: ['Epicerie Fine', 'Café Moka', 'Choco Délice'],
    words: { fr: w('café en grains|thé vert|chocolat noir|épices|bonbons|coffret gourmand', 'bio|artisanal|500g|sans gluten'),
      en: w('coffee beans|green tea|dark chocolate|spices|sweets|gift box', 'organic|artisan|500g|gluten free'),
      de: w('Kaffeebohnen|Grüntee|Zartbitterschokolade|Gewürze|Bonbons', 'bio|handgemacht|500g') } },
  { code: 2060, weight: 50, style: 'product', neighbour: 1920, brands: ['Déco Lumière', 'Atelier Nova', 'Lumio'],
    words: { fr: w('lampe de chevet|sticker mural|guirlande lumineuse|cadre photo|horloge murale|vase', 'décoratif|LED|vintage|moderne'),
      en: w('bedside lamp|wall sticker|string lights|photo frame|wall clock|vase', 'decorative|LED|vintage|modern'),
      de: w('Nachttischlampe|Wandtattoo|Lichterkette|Bilderrahmen|Wanduhr|Vase', 'dekorativ|LED|modern') } },
  { code: 2220, weight: 8, style: 'product', neighbour: 1940, brands: ['Croc Canin', 'Miaou', 'PetPal'],
    words: { fr: w('collier pour chien|gamelle|arbre à chat|litière|laisse|panier pour chat', 'réglable|antidérapant|pour chien|pour chat'),
      en: w('dog collar|feeding bowl|cat tree|cat litter|leash|pet bed', 'adjustable|non-slip|for dogs|for cats'),
      de: w('Hundehalsband|Futternapf|Kratzbaum|Katzenstreu|Leine|Hundebett', 'verstellbar|rutschfest') } },
  { code: 2280, weight: 48, style: 'magazine', neighbour: 2403, brands: ['Le Petit Echo', 'Revue Moderne', 'Gazette'],
    words: { fr: w('magazine|revue|hebdomadaire|mensuel|journal', 'ancien|de collection|complet|rare'),
      en: w('magazine|journal|weekly|monthly', 'vintage|collectible|complete'),
      de: w('Zeitschrift|Magazin|Heft|Wochenzeitung', 'alt|selten|komplett') } },
  { code: 2403, weight: 48, style: 'book', neighbour: 2280, brands: ['Bulles & Cie', 'Editions Tintamarre', 'Partitions Lyre'],
    words: { fr: w('lot de livres|bande dessinée|partition|collection complète|lot de BD', 'en bon état|intégrale|tomes 1 à 5|anciennes'),
      en: w('book lot|comic book|sheet music|complete collection', 'good condition|volumes 1-5'),
      de: w('Bücherpaket|Comic|Noten|Sammlung', 'guter Zustand|Band 1-5') } },
  { code: 2462, weight: 14, style: 'game', neighbour: 40, brands: ['Nexaplay', 'Pixelon', 'Retrobit'], platforms: CONSOLES,
    words: { fr: w('lot de jeux|jeux d\'occasion|pack de jeux|lot console et jeux', 'd\'occasion|testés|en boîte|sans notice'),
      en: w('games bundle|used games|game pack', 'pre-owned|tested|boxed'),
      de: w('Spielesammlung|gebrauchte Spiele|Spielepaket', 'gebraucht|getestet') } },
  { code: 2522, weight: 50, style: 'product', neighbour: 2403, brands: ['Papeterie Plume', 'Scriptum', 'Notabene'],
    words: { fr: w('cahier|carnet de notes|stylo plume|agenda|classeur|trousse', 'A5|ligné|à spirale|100 pages'),
      en: w('notebook|journal|fountain pen|planner|binder|pencil case', 'A5|lined|spiral|100 pages'),
      de: w('Heft|Notizbuch|Füller|Kalender|Ordner|Federmäppchen', 'A5|liniert|Spiralbindung') } },
  { code: 2582, weight: 26, style: 'product', neighbour: 1560, brands: ['Jardin Soleil', 'Terrasse & Co', 'Hortus'],
    words: { fr: w('salon de jardin|parasol|transat|hamac|banc de jardin|table de jardin', 'en résine tressée|inclinable|d\'extérieur|en teck'),
      en: w('patio set|parasol|deck chair|hammock|garden bench|garden table', 'rattan|reclining|outdoor|teak'),
      de: w('Gartenmöbel-Set|Sonnenschirm|Liegestuhl|Hängematte|Gartenbank', 'Rattan|verstellbar|Teak') } },
  { code: 2583, weight: 102, style: 'product', neighbour: 2585, brands: ['AquaBleu', 'Piscinex', 'Spa Riviera'],
    words: { fr: w('piscine hors sol|pompe de filtration|filtre à sable|bâche de piscine|robot de piscine|spa gonflable|chlore', 'tubulaire|autoportante|4 places|1,5 m³/h'),
      en: w('above ground pool|filter pump|sand filter|pool cover|pool cleaner robot|inflatable spa', 'frame|self-supporting|4-person'),
      de: w('Aufstellpool|Filterpumpe|Sandfilter|Poolabdeckung|Poolroboter|Whirlpool', 'Stahlrahmen|aufblasbar|4 Personen') } },
  { code: 2585, weight: 25, style: 'product', neighbour: 2583, brands: ['Outilpro', 'GreenCut', 'Bricomax'],
    words: { fr: w('tondeuse|sécateur|perceuse visseuse|tuyau d\'arrosage|taille-haie|scie', 'sans fil|18V|professionnel|électrique'),
      en: w('lawn mower|pruner|cordless drill|garden hose|hedge trimmer|saw', 'cordless|18V|professional|electric'),
      de: w('Rasenmäher|Gartenschere|Akkuschrauber|Gartenschlauch|Heckenschere|Säge', 'kabellos|18V|elektrisch') } },
  { code: 2705, weight: 28, style: 'book', neighbour: 10, brands: ['Editions Horizon', 'Maison du Livre', 'Northgate Books'],
    words: { fr: w('essai|biographie|guide pratique|beau livre|livre de cuisine|récit', 'neuf|grand format|inédit|préface inédite'),
      en: w('essay|biography|practical guide|coffee table book|cookbook', 'new|large format|unabridged'),
      de: w('Sachbuch|Biografie|Ratgeber|Bildband|Kochbuch', 'neu|Großformat') } },
  { code: 2905, weight: 9, style: 'game', neighbour: 40, brands: ['Nexaplay', 'Cloudforge', 'Bytewave'], platforms: ['PC', 'PC Windows', 'Mac', 'PC / Mac'],
    words: { fr: w('jeu PC|clé d\'activation|jeu en téléchargement|édition numérique', 'à télécharger|version complète|code digital'),
      en: w('PC game|activation key|digital download|digital edition', 'download|full version|digital code'),
      de: w('PC-Spiel|Aktivierungsschlüssel|Download-Code|digitale Edition', 'Download|Vollversion') } },
];

const CLASS_BY_CODE = new Map<number, ClassSpec>(CLASSES.map((c) => [c.code, c]));

interface LangCommon {
  colours: readonly string[];
  materials: readonly string[];
  generic: readonly string[];
  labels: { features: string; material: string; colour: string; size: string };
  colon: string;
  bookTitles: readonly string[];
  bookTitleEnds: readonly string[];
  months: readonly string[];
  designation: Record<Style, readonly string[]>;
  sentences: readonly string[];
}

const GAME_TITLES = ['Galaxy Drift', 'Shadow Knights', 'Turbo Kart Rally', 'Legends of Eldor', 'Pixel Raiders', 'Farm Valley', 'Neon Striker', 'Crystal Quest II'];

const COMMON: Record<Lang, LangCommon> = {
  fr: {
    colours: ['noir', 'blanc', 'rouge', 'bleu', 'vert', 'gris', 'rose', 'beige', 'noir & blanc'],
    materials: ['coton', 'bois', 'plastique', 'métal', 'acier inoxydable', 'polyester', 'céramique'],
    generic: ['neuf', 'haute qualité', 'livraison rapide', 'garantie 2 ans', 'original', 'pas cher', 'nouveau modèle', 'idée cadeau'],
    labels: { features: 'Caractéristiques', material: 'Matière', colour: 'Couleur', size: 'Dimensions' },
    colon: '&nbsp;: ',
    bookTitles: ['Le Secret', 'La Maison', 'Les Enfants', 'Le Dernier Voyage', 'La Mémoire', "L'Ombre", 'Le Jardin'],
    bookTitleEnds: ['du Lac', 'des Collines', 'de Septembre', "d'Hiver", 'sans Nom', 'du Vent', 'des Étoiles'],
    months: ['Janvier', 'Février', 'Mars', 'Avril', 'Mai', 'Juin', 'Juillet', 'Août', 'Septembre', 'Octobre', 'Novembre', 'Décembre'],
    designation: {
      product: ['{N} {a} {b} {r} - {c}', '{b} - {N} {a} {d}', 'Lot De {k} {N} {a} {c}', '{N} En {M} {a}, {g}', '{N} {a} "{b}" {c} {d}', '{N} {b} {r}'],
      book: ['{t} - {N} {a}', '{N} - {t} - Tome {k}', '{t} ({b}, {y})', '{t}'],
      magazine: ['{N} N° {i} - {mo} {y}', '{b} N° {i} Du {dd}/{mm}/{y} - {t}', '{N} {b} N°{i} {a}'],
      game: ['{gt} - {N} {p}', '{N} {gt} {p} {a}', 'Lot {k} {N} {p} - {gt}, {a}'],
      gear: ['{N} {a} pour {p} - {c}', '{b} {N} {p} {r}', '{N} {p} {a} "{b}"'],
    },
    sentences: [
      'Ce {n} {a} de la marque {b} est idéal pour un usage quotidien.',
      '{N} {a}, {g}.',
      'Fabriqué en {m}, ce produit est livré avec sa notice.',
      'Découvrez notre {n} {a} : {g} et {g2}.',
      'Parfait pour offrir, ce {n} {c} ravira petits et grands.',
      'Expédié sous 48h, emballage soigné.',
      'Très bon état général, voir photos.',
    ],
  },
  en: {
    colours: ['black', 'white', 'red', 'blue', 'green', 'grey', 'pink', 'beige', 'black & white'],
    materials: ['cotton', 'wood', 'plastic', 'metal', 'stainless steel', 'polyester', 'ceramic'],
    generic: ['new', 'high quality', 'fast shipping', '2-year warranty', 'original', 'best price', 'new model', 'gift idea'],
    labels: { features: 'Features', material: 'Material', colour: 'Colour', size: 'Size' },
    colon: ': ',
    bookTitles: ['The Secret', 'The House', 'The Last Journey', 'Children', 'Shadows', 'The Garden'],
    bookTitleEnds: ['of the Lake', 'of September', 'in Winter', 'of the Hills', 'without a Name', 'of the Stars'],
    months: ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'],
    designation: {
      product: ['{b} {A} {N} {r} - {C}', '{N} {a} {c} {d}', 'Set of {k} {N} - {M} - {g}', '{b} "{r}" {N}, {c}'],
      book: ['{t} - {N}', '{t}: A {N} ({y})', '{t} - {a} {N}'],
      magazine: ['{b} {N} Issue {i} - {mo} {y}', '{N} {i} ({mo} {y})'],
      game: ['{gt} ({p}) - {N}', '{N} {gt} for {p}, {a}'],
      gear: ['{N} for {p} {c} - {b}', '{b} {A} {N} {p}'],
    },
    sentences: [
      'This {a} {n} from {b} is perfect for everyday use.',
      '{N} made of {m}, {g}.',
      'Great gift idea: a {c} {n} that everyone will love.',
      'Ships within 48 hours, carefully packed.',
      'Very good condition, see pictures.',
    ],
  },
  de: {
    colours: ['schwarz', 'weiß', 'rot', 'blau', 'grün', 'grau', 'rosa', 'beige'],
    materials: ['Baumwolle', 'Holz', 'Kunststoff', 'Metall', 'Edelstahl', 'Polyester', 'Keramik'],
    generic: ['neu', 'hochwertig', 'schneller Versand', '2 Jahre Garantie', 'original', 'günstig', 'Geschenkidee'],
    labels: { features: 'Merkmale', material: 'Material', colour: 'Farbe', size: 'Maße' },
    colon: ': ',
    bookTitles: ['Das Geheimnis', 'Das Haus', 'Die Kinder', 'Die letzte Reise', 'Schatten', 'Der Garten'],
    bookTitleEnds: ['am See', 'im September', 'des Winters', 'der Hügel', 'ohne Namen', 'der Sterne'],
    months: ['Januar', 'Februar', 'März', 'April', 'Mai', 'Juni', 'Juli', 'August', 'September', 'Oktober', 'November', 'Dezember'],
    designation: {
      product: ['{b} {N} {a} {r} - {c}', '{k}er Set {N} aus {m}, {c}', '{N} {a} {d} {g}', '{N} / {b} / {a} / {c}'],
      book: ['{t} - {N} ({b})', '{t}: {N} {a}'],
      magazine: ['{b} {N} Nr. {i} {mo} {y}', '{N} Nr. {i} / {y}'],
      game: ['{gt} - {N} für {p}', '{N} {gt} {p} {a}'],
      gear: ['{N} für {p} {c} - {b}', '{b} {N} {p} {a}'],
    },
    sentences: [
      'Dieses {a} {n} von {b} ist ideal für den täglichen Gebrauch.',
      '{N} aus {m}, {g}.',
      'Perfekte Geschenkidee: {n} in {c}.',
      'Versand innerhalb von 48 Stunden, sorgfältig verpackt.',
      'Sehr guter Zustand, siehe Fotos.',
    ],
  },
};

// ---------------------------------------------------------------------------------------------
// Text generation
// ---------------------------------------------------------------------------------------------

function capitalise(s: string): string {
  return s.length === 0 ? s : s.charAt(0).toUpperCase() + s.slice(1);
}

function titleCase(s: string): string {
  return s.replace(/(^|[\s\-/(])(\p{Ll})/gu, (_m, pre: string, ch: string) => pre + ch.toUpperCase());
}

const NAMED_ENTITIES: Record<string, string> = {
  é: '&eacute;', è: '&egrave;', ê: '&ecirc;', à: '&agrave;', ç: '&ccedil;', ô: '&ocirc;', â: '&acirc;',
  û: '&ucirc;', ù: '&ugrave;', î: '&icirc;', ä: '&auml;', ö: '&ouml;', ü: '&uuml;', ß: '&szlig;',
  É: '&Eacute;', '³': '&sup3;', '°': '&deg;',
};

/** Encode non-ASCII characters as HTML entities, named or numeric, like many real descriptions. */
function encodeEntities(s: string, mode: 'named' | 'numeric'): string {
  return s.replace(/[^\x00-\x7f]/g, (ch) =>
    mode === 'named' && NAMED_ENTITIES[ch] !== undefined ? NAMED_ENTITIES[ch] : `&#${ch.codePointAt(0) ?? 63};`,
  );
}

interface TextContext {
  lang: Lang;
  vars: Record<string, string>;
}

function makeContext(r: Rng, spec: ClassSpec, lang: Lang): TextContext {
  const c = COMMON[lang];
  const words = spec.words[lang];
  const noun = pick(r, words.nouns);
  const colour = pick(r, c.colours);
  const material = pick(r, c.materials);
  const generic = pick(r, c.generic);
  const dims = r() < 0.5 ? `${intBetween(r, 2, 30) * 5}x${intBetween(r, 2, 30) * 5} cm` : `${intBetween(r, 10, 250)} cm`;
  const ref = `${String.fromCharCode(65 + intBetween(r, 0, 25))}${String.fromCharCode(65 + intBetween(r, 0, 25))}-${intBetween(r, 10, 9999)}`;
  const year = spec.code === 2705 || spec.code === 2905 ? intBetween(r, 2005, 2019) : intBetween(r, 1950, 2015);
  const vars: Record<string, string> = {
    n: noun,
    N: capitalise(noun),
    a: pick(r, words.adjs),
    A: capitalise(pick(r, words.adjs)),
    b: pick(r, spec.brands),
    c: colour,
    C: capitalise(colour),
    m: material,
    M: capitalise(material),
    g: generic,
    g2: pick(r, c.generic),
    d: dims,
    r: ref,
    k: String(intBetween(r, 2, 12)),
    y: String(year),
    i: String(intBetween(r, 1, 1800)),
    mo: pick(r, c.months),
    dd: String(intBetween(r, 1, 28)).padStart(2, '0'),
    mm: String(intBetween(r, 1, 12)).padStart(2, '0'),
    t: `${pick(r, c.bookTitles)} ${pick(r, c.bookTitleEnds)}`,
    gt: pick(r, GAME_TITLES),
    p: pick(r, spec.platforms ?? CONSOLES),
  };
  return { lang, vars };
}

function fill(template: string, ctx: TextContext): string {
  return template.replace(/\{(\w+)\}/g, (m, key: string) => ctx.vars[key] ?? m);
}

function chooseLang(r: Rng): Lang {
  const x = r();
  return x < 0.6 ? 'fr' : x < 0.86 ? 'en' : 'de';
}

/** Generic shop text of no particular class, appended to many descriptions. */
const BOILERPLATE: Record<Lang, readonly string[]> = {
  fr: [
    'Expédition rapide sous 24 à 48 heures ouvrées depuis notre entrepôt, emballage soigné et suivi du colis.',
    'Produit neuf, livré dans son emballage d\'origine, conforme aux normes européennes en vigueur.',
    'Pour toute question sur ce produit, notre service client vous répond du lundi au vendredi.',
    'Les couleurs peuvent légèrement différer de la photo selon le réglage de votre écran.',
    'Garantie constructeur de deux ans, retour accepté sous trente jours si l\'article n\'a pas été utilisé.',
    'Contenu du colis : l\'article, sa notice d\'utilisation en plusieurs langues et les accessoires indiqués.',
    'Nous proposons également d\'autres modèles de cette gamme, n\'hésitez pas à visiter notre boutique.',
    'Attention : ne convient pas aux enfants de moins de trois ans, contient de petits éléments.',
    'Dimensions et poids donnés à titre indicatif, une tolérance de quelques millimètres est possible.',
    'Paiement sécurisé, facture jointe au colis, TVA récupérable pour les professionnels.',
  ],
  en: [
    'Fast shipping within 24 to 48 business hours from our warehouse, carefully packed with tracking.',
    'Brand new item, delivered in its original packaging, compliant with current European standards.',
    'If you have any question about this item, our customer service answers Monday to Friday.',
    'Colours may differ slightly from the picture depending on your screen settings.',
    'Two-year manufacturer warranty, returns accepted within thirty days if the item is unused.',
    'Package contents: the item, a multilingual user manual and the listed accessories.',
    'We also offer other models of this range, feel free to visit our shop.',
    'Warning: not suitable for children under three years, contains small parts.',
  ],
  de: [
    'Schneller Versand innerhalb von 24 bis 48 Werktagen aus unserem Lager, sorgfältig verpackt.',
    'Neuware in Originalverpackung, entspricht den geltenden europäischen Normen.',
    'Bei Fragen zu diesem Artikel hilft Ihnen unser Kundenservice von Montag bis Freitag.',
    'Farben können je nach Bildschirmeinstellung leicht vom Foto abweichen.',
    'Zwei Jahre Herstellergarantie, Rückgabe innerhalb von dreißig Tagen bei unbenutzter Ware.',
    'Lieferumfang: der Artikel, eine mehrsprachige Anleitung und das angegebene Zubehör.',
  ],
};

/** Designation and description of one product, from its own pseudo-random stream. */
function productText(r: Rng, code: number): { designation: string; description: string } {
  const own = CLASS_BY_CODE.get(code);
  if (own === undefined) throw new Error(`unknown class ${code}`);
  // ~5% of rows borrow a neighbouring class's vocabulary (overlap / noise).
  const spec = r() < 0.05 ? (CLASS_BY_CODE.get(own.neighbour) ?? own) : own;
  const lang = chooseLang(r);
  const c = COMMON[lang];
  const ctx = makeContext(r, spec, lang);

  let designation = fill(pick(r, c.designation[spec.style]), ctx);
  if (lang !== 'de' && r() < 0.35) designation = titleCase(designation);
  if (r() < 0.15) designation += ` - ${capitalise(ctx.vars.g ?? '')}`;

  if (r() < 0.35) return { designation, description: '' };

  const [t1, t2, t3] = shuffle(r, [...c.sentences]);
  const s1 = fill(t1 ?? '', ctx);
  const s2 = fill(t2 ?? '', ctx);
  const s3 = fill(t3 ?? '', ctx);
  const L = c.labels;
  const colon = c.colon;
  let description: string;
  const kind = Math.floor(r() * 6);
  switch (kind) {
    case 0:
      description = `<p>${s1} ${s2}</p>`;
      break;
    case 1:
      description =
        `${s1}<br />${s2}<br /><b>${L.features}${colon}</b><ul>` +
        `<li>${L.material}${colon}${ctx.vars.m}</li><li>${L.colour}${colon}${ctx.vars.c}</li>` +
        `<li>${L.size}${colon}${ctx.vars.d}</li></ul>`;
      break;
    case 2:
      // Plain text with embedded newlines and commas.
      description = `${s1}\n${s2}\n${L.colour}: ${ctx.vars.c}, ${L.material}: ${ctx.vars.m}`;
      break;
    case 3:
      // Double quotes inside the field.
      description = `<b>${ctx.vars.b}</b> "${ctx.vars.r}" - ${s1} ${s3}<br>${L.size}${colon}${ctx.vars.d}`;
      break;
    case 4:
      description = `<p><b>${ctx.vars.N}</b></p><p>${s1}</p><p>${s2}<br>${s3}</p>`;
      break;
    default:
      description = s1;
  }
  // Real descriptions are long (about 800 characters when present), mostly shop boilerplate that
  // carries no class signal; add some so texts have realistic length and noise.
  const tail = Math.floor(r() * 9);
  if (tail > 0) {
    const generic = shuffle(r, [...BOILERPLATE[lang]]).slice(0, tail);
    description += kind === 2 ? `\n${generic.join('\n')}` : `<p>${generic.join('<br />')}</p>`;
  }
  // Bare ampersands of the text become &amp; in HTML descriptions.
  if (kind !== 2) description = description.replace(/ & /g, ' &amp; ');
  const ent = r();
  if (ent < 0.25) description = encodeEntities(description, 'named');
  else if (ent < 0.5) description = encodeEntities(description, 'numeric');
  return { designation, description };
}

// ---------------------------------------------------------------------------------------------
// Plan: classes, ids, images, faults
// ---------------------------------------------------------------------------------------------

interface RowPlan {
  index: number;
  code: number;
  /** Empty string when the productid is deliberately missing. */
  productid: number | '';
  imageid: number;
}

interface Plan {
  train: RowPlan[];
  test: RowPlan[];
  /** Unknown-label rows, keyed by the train position they are written before. */
  unknownLabels: Map<number, { index: number; code: number }[]>;
  images: ImageJob[];
  injected: DemoInjectedFaults;
}

function weightedClassSampler(r: Rng): () => number {
  const total = CLASSES.reduce((s, c) => s + c.weight, 0);
  return () => {
    let x = r() * total;
    for (const c of CLASSES) {
      x -= c.weight;
      if (x < 0) return c.code;
    }
    return (CLASSES[CLASSES.length - 1] as ClassSpec).code;
  };
}

function assignClasses(r: Rng, n: number, minPerClass: number): number[] {
  const sample = weightedClassSampler(r);
  const codes: number[] = [];
  for (let k = 0; k < minPerClass; k++) for (const c of CLASSES) codes.push(c.code);
  while (codes.length < n) codes.push(sample());
  return shuffle(r, codes.slice(0, n));
}

function makePlan(o: ResolvedOptions): Plan {
  const r = mulberry32(mixSeed(o.seed, STREAM.plan));
  const usedPid = new Set<number>();
  const usedImg = new Set<number>();
  const newId = (used: Set<number>, lo: number, hi: number): number => {
    for (;;) {
      const id = lo + Math.floor(r() * (hi - lo));
      if (!used.has(id)) {
        used.add(id);
        return id;
      }
    }
  };
  const newPid = (): number => newId(usedPid, 100_000_000, 4_300_000_000);
  const newImg = (): number => newId(usedImg, 1_000_000_000, 1_400_000_000);

  const minPerClass = o.rows >= 3 * CLASSES.length ? 3 : o.rows >= CLASSES.length ? 1 : 0;
  const trainCodes = assignClasses(r, o.rows, minPerClass);
  const testCodes = assignClasses(r, o.testRows, 0);
  const train: RowPlan[] = trainCodes.map((code, index) => ({ index, code, productid: newPid(), imageid: newImg() }));
  const test: RowPlan[] = testCodes.map((code, k) => ({ index: o.rows + k, code, productid: newPid(), imageid: newImg() }));
  const trainHasImage = train.map(() => r() < o.imageFraction);
  const testHasImage = test.map(() => r() < o.imageFraction);

  // Faults, from their own stream so that requesting them does not change the clean rows.
  const fr = mulberry32(mixSeed(o.seed, STREAM.faults));
  const f = o.faults;
  const candidates = shuffle(fr, Array.from({ length: Math.max(0, o.rows - 1) }, (_v, i) => i + 1));
  const missingId = candidates.slice(0, f.missingId).sort((a, b) => a - b);
  const duplicate = candidates.slice(f.missingId, f.missingId + f.duplicateProductId).sort((a, b) => a - b);
  const dirty = new Set<number>([...missingId, ...duplicate]);
  for (const i of missingId) {
    const row = train[i];
    if (row !== undefined) row.productid = '';
    trainHasImage[i] = false;
  }
  for (const i of duplicate) {
    let j = 0;
    for (let tries = 0; tries < 64; tries++) {
      const cand = Math.floor(fr() * i);
      if (!dirty.has(cand)) {
        j = cand;
        break;
      }
    }
    const row = train[i];
    const src = train[j];
    if (row !== undefined && src !== undefined) row.productid = src.productid;
  }
  // Image faults: prefer rows that would have had an image anyway.
  const withId = shuffle(fr, train.filter((row) => row.productid !== '').map((row) => row.index));
  withId.sort((a, b) => Number(trainHasImage[b]) - Number(trainHasImage[a])); // stable: keeps shuffled order within groups
  const missingImage = withId.slice(0, f.missingImage).sort((a, b) => a - b);
  const corruptImage = withId.slice(f.missingImage, f.missingImage + f.corruptImage).sort((a, b) => a - b);
  for (const i of missingImage) trainHasImage[i] = false;
  const corruptKind = new Map<number, 'truncated' | 'random'>();
  corruptImage.forEach((i, k) => {
    trainHasImage[i] = true;
    corruptKind.set(i, k % 2 === 0 ? 'truncated' : 'random');
  });

  const unknownLabels = new Map<number, { index: number; code: number }[]>();
  const unknownLabel: number[] = [];
  const sample = weightedClassSampler(fr);
  for (let k = 0; k < f.unknownLabel; k++) {
    const index = o.rows + o.testRows + 1 + k * 7;
    unknownLabel.push(index);
    const at = Math.floor(fr() * (o.rows + 1));
    const list = unknownLabels.get(at) ?? [];
    list.push({ index, code: sample() });
    unknownLabels.set(at, list);
  }

  const images: ImageJob[] = [];
  const fileOf = (dir: string, row: RowPlan): string => `${dir}/image_${row.imageid}_product_${row.productid}.jpg`;
  train.forEach((row, i) => {
    if (trainHasImage[i] === true) {
      images.push({ file: fileOf('image_train', row), code: row.code, imageid: row.imageid, corrupt: corruptKind.get(i) ?? 'none' });
    }
  });
  const orphanImage: number[] = [];
  for (let k = 0; k < f.orphanImage; k++) {
    const row: RowPlan = { index: -1, code: sample(), productid: newPid(), imageid: newImg() };
    orphanImage.push(row.productid as number);
    images.push({ file: fileOf('image_train', row), code: row.code, imageid: row.imageid, corrupt: 'none' });
  }
  test.forEach((row, i) => {
    if (testHasImage[i] === true) images.push({ file: fileOf('image_test', row), code: row.code, imageid: row.imageid, corrupt: 'none' });
  });

  return {
    train,
    test,
    unknownLabels,
    images,
    injected: { missingId, unknownLabel, duplicateProductId: duplicate, missingImage, corruptImage, orphanImage },
  };
}

// ---------------------------------------------------------------------------------------------
// CSV writing (streamed, in ~64 KiB chunks, honouring back-pressure)
// ---------------------------------------------------------------------------------------------

class ChunkedWriter {
  private parts: string[] = [];
  private size = 0;
  private error: Error | undefined;
  private readonly stream: WriteStream;

  constructor(file: string) {
    this.stream = createWriteStream(file, { encoding: 'utf8' });
    this.stream.on('error', (e: Error) => {
      this.error ??= e;
    });
  }

  async write(s: string): Promise<void> {
    this.parts.push(s);
    this.size += s.length;
    if (this.size >= 1 << 16) await this.flush();
  }

  private async flush(): Promise<void> {
    if (this.error !== undefined) throw this.error;
    if (this.parts.length === 0) return;
    const chunk = this.parts.join('');
    this.parts = [];
    this.size = 0;
    if (!this.stream.write(chunk)) await once(this.stream, 'drain');
  }

  async close(): Promise<void> {
    await this.flush();
    this.stream.end();
    await finished(this.stream);
    if (this.error !== undefined) throw this.error;
  }
}

async function writeXFile(file: string, rows: readonly RowPlan[], seed: number): Promise<void> {
  const out = new ChunkedWriter(file);
  try {
    await out.write(DEMO_X_HEADER + '\n');
    for (const row of rows) {
      const { designation, description } = productText(mulberry32(mixSeed(seed, STREAM.text, row.index)), row.code);
      await out.write(toCsvRow([row.index, designation, description, row.productid, row.imageid]));
    }
  } finally {
    await out.close();
  }
}

async function writeYFile(file: string, plan: Plan): Promise<void> {
  const out = new ChunkedWriter(file);
  try {
    await out.write(DEMO_Y_HEADER + '\n');
    for (let i = 0; i <= plan.train.length; i++) {
      for (const extra of plan.unknownLabels.get(i) ?? []) await out.write(toCsvRow([extra.index, extra.code]));
      const row = plan.train[i];
      if (row !== undefined) await out.write(toCsvRow([row.index, row.code]));
    }
  } finally {
    await out.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Images
// ---------------------------------------------------------------------------------------------

async function runPool<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as T;
      await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

// ---------------------------------------------------------------------------------------------
// README
// ---------------------------------------------------------------------------------------------

function readmeText(o: ResolvedOptions, s: DemoCatalogueSummary): string {
  const faults = Object.entries(o.faults)
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(', ');
  return [
    '# SYNTHETIC demo catalogue — NOT real Rakuten data',
    '',
    'Every product, text and image in this folder is SYNTHETIC: it was generated by the',
    '`rakuten-pipeline` demo generator (`generateDemoCatalogue`) from invented vocabularies, fictional',
    'brands and drawn shapes. It only reproduces the *layout and file formats* of the Rakuten France',
    'multimodal product classification challenge, so the pipeline can be demonstrated and tested.',
    'Do not use it to draw any conclusion about real products.',
    '',
    '## Generation options',
    '',
    `- seed: ${o.seed}`,
    `- rows (train): ${o.rows}`,
    `- testRows: ${o.testRows}`,
    `- imageFraction: ${o.imageFraction}`,
    `- imageSize: ${o.imageSize}`,
    `- faults: ${faults}`,
    '',
    'The same options always produce byte-identical files.',
    '',
    '## Contents',
    '',
    `- \`X_train_update.csv\`: ${s.trainRows} rows, header \`${DEMO_X_HEADER}\``,
    `- \`Y_train_CVw08PX.csv\`: labels, header \`${DEMO_Y_HEADER}\``,
    `- \`X_test_update.csv\`: ${s.testRows} rows, index continuing after the training index`,
    `- \`image_train/\`: ${s.trainImages} JPEG files \`image_<imageid>_product_<productid>.jpg\``,
    `- \`image_test/\`: ${s.testImages} JPEG files`,
    '',
  ].join('\n');
}
