import { Type, type TInteger, type TNumber } from '@sinclair/typebox';

/**
 * One numeric option, defined once: the CLI flag parsers, the HTTP request schemas and the
 * library entry points all derive their checks from it, so that `--epochs 0`, `"epochs": 0`
 * and `{ maxEpochs: 0 }` are refused with the same range.
 */
export interface NumericOption {
  /** Name in HTTP bodies and job parameters (`guardrailMargin`). */
  readonly name: string;
  /** CLI flag (`--guardrail`). */
  readonly flag: `--${string}`;
  /** Placeholder of the flag's value in `--help` (`<n>`, `<f>`, `<px>`). */
  readonly placeholder: string;
  /** Whole numbers only. */
  readonly integer: boolean;
  /** Smallest value allowed (inclusive). */
  readonly minimum?: number;
  /** Largest value allowed (inclusive). */
  readonly maximum?: number;
  /** Values must be above this. */
  readonly exclusiveMinimum?: number;
  /** Values must be below this. */
  readonly exclusiveMaximum?: number;
  /** Default value, when the option has one everywhere. */
  readonly default?: number;
  /** One-line description (CLI help and API docs). */
  readonly description: string;
}

const MAX_UINT32 = 4_294_967_295;

/**
 * The defaults shared by the CLI, the HTTP API and the stages, written once: the stages fall back
 * to these, the flags and the API documentation show them.
 */
export const DEFAULTS = {
  /** Seed of the split and the model. */
  seed: 42,
  /** Largest per-class F1 drop of an automatic promotion. */
  guardrailMargin: 0.05,
  /** Validation fraction of the split. */
  val: 0.15,
  /** Held-out test fraction of the split. */
  test: 0.15,
  /** Side of the preprocessed images in pixels. */
  imageSize: 64,
  /** Rows per store write of a load. */
  batchSize: 500,
  /** Quarantine entries kept in a load's run document. */
  quarantineLimit: 10_000,
  /** Classes answered by `/predict/product`. */
  topK: 3,
} as const;

/** The numeric options by name; see {@link NUMERIC_OPTIONS}. */
export interface NumericOptions {
  /** Seed of the split, the model and the demo catalogue (reduced to 32 bits by the PRNG, so larger ones are refused). */
  readonly seed: NumericOption;
  /** Most training epochs. */
  readonly epochs: NumericOption;
  /** Early-stopping patience. */
  readonly patience: NumericOption;
  /** Largest per-class F1 drop of an automatic promotion. */
  readonly guardrailMargin: NumericOption;
  /** Validation fraction of the split. */
  readonly val: NumericOption;
  /** Held-out test fraction of the split. */
  readonly test: NumericOption;
  /** Side of the preprocessed images. */
  readonly imageSize: NumericOption;
  /** Rows per store write of a load. */
  readonly batchSize: NumericOption;
  /** Quarantine entries kept in a load's run document. */
  readonly quarantineLimit: NumericOption;
  /** Images processed at once. */
  readonly imageConcurrency: NumericOption;
  /** Classes answered by `/predict/product`. */
  readonly topK: NumericOption;
  /** Largest image upload of the API. */
  readonly maxImageBytes: NumericOption;
  /** TCP port of `serve` (0 picks a free one). */
  readonly port: NumericOption;
  /** Labelled rows of a demo catalogue. */
  readonly demoRows: NumericOption;
  /** Test rows of a demo catalogue. */
  readonly demoTestRows: NumericOption;
  /** Share of demo rows with an image. */
  readonly demoImageFraction: NumericOption;
  /** Side of the demo JPEGs. */
  readonly demoImageSize: NumericOption;
  /** Jobs a queue worker runs at once. */
  readonly concurrency: NumericOption;
  /** How long a queue worker's job lock lasts without renewal. */
  readonly lockMs: NumericOption;
  /** How often a queue worker looks for jobs of dead workers. */
  readonly stalledMs: NumericOption;
  /** Rows per chunk of a spread batch prediction. */
  readonly chunkRows: NumericOption;
}

/** Every numeric option of the CLI, the HTTP API and the stages. */
export const NUMERIC_OPTIONS: NumericOptions = {
  seed: { name: 'seed', flag: '--seed', placeholder: '<n>', integer: true, minimum: 0, maximum: MAX_UINT32, default: DEFAULTS.seed, description: 'seed' },
  epochs: { name: 'epochs', flag: '--epochs', placeholder: '<n>', integer: true, minimum: 1, maximum: 200, description: 'most epochs' },
  patience: { name: 'patience', flag: '--patience', placeholder: '<n>', integer: true, minimum: 1, maximum: 50, description: 'early-stopping patience' },
  guardrailMargin: {
    name: 'guardrailMargin',
    flag: '--guardrail',
    placeholder: '<f1>',
    integer: false,
    minimum: 0,
    maximum: 1,
    default: DEFAULTS.guardrailMargin,
    description: 'largest per-class F1 drop allowed for an automatic promotion',
  },
  val: { name: 'val', flag: '--val', placeholder: '<f>', integer: false, exclusiveMinimum: 0, exclusiveMaximum: 0.5, default: DEFAULTS.val, description: 'validation fraction' },
  test: { name: 'test', flag: '--test', placeholder: '<f>', integer: false, exclusiveMinimum: 0, exclusiveMaximum: 0.5, default: DEFAULTS.test, description: 'held-out test fraction' },
  imageSize: { name: 'imageSize', flag: '--image-size', placeholder: '<px>', integer: true, minimum: 8, maximum: 1024, default: DEFAULTS.imageSize, description: 'side of the preprocessed images' },
  batchSize: { name: 'batchSize', flag: '--batch-size', placeholder: '<n>', integer: true, minimum: 1, maximum: 100_000, default: DEFAULTS.batchSize, description: 'rows per write' },
  quarantineLimit: {
    name: 'quarantineLimit',
    flag: '--quarantine-limit',
    placeholder: '<n>',
    integer: true,
    minimum: 0,
    maximum: 1_000_000,
    default: DEFAULTS.quarantineLimit,
    description: 'most quarantine entries kept in the run document',
  },
  imageConcurrency: { name: 'imageConcurrency', flag: '--image-concurrency', placeholder: '<n>', integer: true, minimum: 1, maximum: 64, description: 'images processed at once' },
  topK: { name: 'topK', flag: '--top-k', placeholder: '<n>', integer: true, minimum: 1, maximum: 27, default: DEFAULTS.topK, description: 'how many classes to return' },
  maxImageBytes: {
    name: 'maxImageBytes',
    flag: '--max-image-bytes',
    placeholder: '<n>',
    integer: true,
    minimum: 1_024,
    maximum: 100 * 1024 * 1024,
    default: 5 * 1024 * 1024,
    description: 'largest image upload in bytes',
  },
  concurrency: { name: 'concurrency', flag: '--concurrency', placeholder: '<n>', integer: true, minimum: 1, maximum: 64, default: 1, description: 'jobs this worker runs at once (as many prediction chunks run beside them)' },
  lockMs: {
    name: 'lockMs',
    flag: '--lock-ms',
    placeholder: '<ms>',
    integer: true,
    minimum: 1_000,
    maximum: 3_600_000,
    default: 30_000,
    description: 'a job whose worker stays silent this long is handed out again or failed',
  },
  stalledMs: { name: 'stalledMs', flag: '--stalled-ms', placeholder: '<ms>', integer: true, minimum: 500, maximum: 3_600_000, default: 30_000, description: 'how often to look for jobs of dead workers' },
  chunkRows: {
    name: 'chunkRows',
    flag: '--chunk-rows',
    placeholder: '<n>',
    integer: true,
    minimum: 1,
    maximum: 10_000_000,
    description: 'rows per chunk of a batch prediction spread over the workers (default: split four ways per worker, 200 to 5,000)',
  },
  port: { name: 'port', flag: '--port', placeholder: '<n>', integer: true, minimum: 0, maximum: 65_535, default: 8000, description: 'port (0 picks a free one)' },
  demoRows: { name: 'rows', flag: '--rows', placeholder: '<n>', integer: true, minimum: 1, maximum: 10_000_000, default: 600, description: 'labelled training rows' },
  demoTestRows: { name: 'testRows', flag: '--test-rows', placeholder: '<n>', integer: true, minimum: 0, maximum: 10_000_000, description: 'test rows (default rows/10, at least 20)' },
  demoImageFraction: { name: 'imageFraction', flag: '--image-fraction', placeholder: '<f>', integer: false, minimum: 0, maximum: 1, default: 0.8, description: 'fraction of rows with an image' },
  demoImageSize: { name: 'imageSize', flag: '--image-size', placeholder: '<px>', integer: true, minimum: 8, maximum: 4096, default: 500, description: 'side of the JPEGs' },
};

/** The range part of a {@link NumericOption} (also read from a JSON schema's keywords). */
export type NumericRange = Pick<NumericOption, 'integer' | 'minimum' | 'maximum' | 'exclusiveMinimum' | 'exclusiveMaximum'>;

/** The allowed range in words: `an integer from 1 to 200`, `a number above 0 and below 0.5`. */
export function describeRange(o: NumericRange): string {
  const low = o.minimum !== undefined ? `from ${o.minimum}` : o.exclusiveMinimum !== undefined ? `above ${o.exclusiveMinimum}` : '';
  const high = o.maximum !== undefined ? `to ${o.maximum}` : o.exclusiveMaximum !== undefined ? `below ${o.exclusiveMaximum}` : '';
  const joint = low && high ? (o.minimum !== undefined && o.maximum !== undefined ? ' ' : ' and ') : '';
  return `${o.integer ? 'an integer' : 'a number'}${low || high ? ` ${low}${joint}${high}` : ''}`;
}

/** Whether `value` is allowed by `o`. */
export function isAllowed(o: NumericRange, value: unknown): value is number {
  if (typeof value !== 'number' || !Number.isFinite(value)) return false;
  if (o.integer && !Number.isInteger(value)) return false;
  if (o.minimum !== undefined && value < o.minimum) return false;
  if (o.maximum !== undefined && value > o.maximum) return false;
  if (o.exclusiveMinimum !== undefined && value <= o.exclusiveMinimum) return false;
  if (o.exclusiveMaximum !== undefined && value >= o.exclusiveMaximum) return false;
  return true;
}

/** Numbers as text in decimal notation only: `Number()` would also take '', ' ', '0x10' and 'Infinity'. @internal */
export const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?$/i;

/**
 * The JSON schema of `o` for request validation and the OpenAPI document. The default is only
 * documented unless `applyDefault` (then validation fills it in), since most stages apply their
 * own defaults.
 */
export function schema(o: NumericOption, description = o.description, applyDefault = false): TInteger | TNumber {
  const options = {
    ...(applyDefault && o.default !== undefined ? { default: o.default } : {}),
    description: o.default !== undefined ? `${description[0]?.toUpperCase()}${description.slice(1)} (default ${o.default})` : `${description[0]?.toUpperCase()}${description.slice(1)}`,
    ...(o.minimum !== undefined ? { minimum: o.minimum } : {}),
    ...(o.maximum !== undefined ? { maximum: o.maximum } : {}),
    ...(o.exclusiveMinimum !== undefined ? { exclusiveMinimum: o.exclusiveMinimum } : {}),
    ...(o.exclusiveMaximum !== undefined ? { exclusiveMaximum: o.exclusiveMaximum } : {}),
  };
  return o.integer ? Type.Integer(options) : Type.Number(options);
}

/**
 * Checks the numeric fields of a library call's options against their definitions; `undefined`
 * fields are left to their defaults. Library users bypass the CLI and HTTP checks, and a NaN
 * guardrail or a zero batch size would otherwise run with nonsense instead of failing.
 *
 * @param where - The entry point, for the message (`TrainStage.run`).
 * @param options - The caller's options object.
 * @param fields - Option field → its definition (`{ maxEpochs: NUMERIC_OPTIONS.epochs }`).
 * @throws RangeError naming the entry point, the field, the allowed range and the value.
 */
export function validateNumbers(where: string, options: object, fields: Readonly<Record<string, NumericOption>>): void {
  const values = options as Record<string, unknown>;
  for (const [field, o] of Object.entries(fields)) {
    const value = values[field];
    if (value === undefined || isAllowed(o, value)) continue;
    throw new RangeError(`${where}: options.${field} must be ${describeRange(o)}, got ${typeof value === 'string' ? JSON.stringify(value) : String(value)}`);
  }
}
