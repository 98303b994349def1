/**
 * The options of each stage, defined once as a JSON schema (TypeBox). The stage's TypeScript
 * option types are `Static<>` of these, the HTTP request bodies and the OpenAPI document are
 * these schemas (or picks of them), the CLI derives its flags and their checks from them, and
 * library calls are checked against them by {@link checkOptions}.
 *
 * @module
 */
import { Type, type Static, type TObject, type TProperties, type TSchema } from '@sinclair/typebox';
import { createRequire } from 'node:module';
import { describeRange, NUMERIC_OPTIONS as N, schema } from '../options.js';

/** A model reference: a version number, `champion` or `latest`. */
export const ModelRefSchema = Type.Union([Type.Integer({ minimum: 1 }), Type.Literal('champion'), Type.Literal('latest')], {
  description: 'Model version number, `champion` or `latest` (default `champion`)',
});

/** When a new version becomes `champion`. */
export const PromotionPolicySchema = Type.Union([Type.Literal('auto'), Type.Literal('always'), Type.Literal('never')], {
  description: 'Champion policy: auto (when it beats the champion without a class regressing past the guardrail; default), always, never',
  default: 'auto',
});

const DataDir = (description: string) => Type.String({ minLength: 1, description });

/** Options of a load (`DataLoader.load`, `POST /load-data`, `rakuten-pipeline load`). */
export const LoadParams = Type.Object({
  /** Data folder in the challenge layout. */
  dataDir: DataDir('Data folder in the challenge layout (X_train_update.csv, Y_train_CVw08PX.csv, X_test_update.csv, image_train/, image_test/)'),
  /** Rows written per store call (default 500). */
  batchSize: Type.Optional(schema(N.batchSize)),
  /** Images read, checked and stored at once (default 8). */
  imageConcurrency: Type.Optional(schema(N.imageConcurrency, 'images read, checked and stored at once (default 8)')),
  /** Most quarantine entries kept in the run document; counts stay exact (default 10,000). */
  quarantineLimit: Type.Optional(schema(N.quarantineLimit)),
  /** Largest image file read, in bytes (default 10 MiB). */
  maxImageFileBytes: Type.Optional(Type.Integer({ minimum: 1, description: 'Largest image file read, in bytes; larger ones are quarantined unread (default 10 MiB)' })),
  /** Largest CSV record, in bytes (default 1 MiB). */
  maxCsvRecordBytes: Type.Optional(Type.Integer({ minimum: 1, description: 'Largest CSV record, in bytes; a larger one stops the file with a clear error (default 1 MiB)' })),
  /** Largest image in pixels, read from its header (default 40 MP). */
  maxImagePixels: Type.Optional(Type.Integer({ minimum: 1, description: 'Largest image in pixels, read from its header; larger ones are quarantined undecoded (default 40 MP)' })),
  /** Accept `prdtypecode` values outside the 27 challenge codes (default false). */
  allowUnknownClasses: Type.Optional(
    Type.Boolean({ description: 'Accept prdtypecode values outside the 27 challenge codes (default false: quarantined as unknown_label, since a typo would otherwise become a class)' }),
  ),
});
/** See {@link LoadParams}. */
export type LoadParams = Static<typeof LoadParams>;

/** Options of a prepare (`PrepareStage.run`, `POST /prepare-data`, `rakuten-pipeline prepare`). */
export const PrepareParams = Type.Object({
  /** Seed of the split (default 42): same seed and data, same splits. */
  seed: Type.Optional(schema(N.seed, 'split seed: same seed and data, same splits')),
  /** Validation fraction (default 0.15). */
  val: Type.Optional(schema(N.val)),
  /** Held-out test fraction (default 0.15). */
  test: Type.Optional(schema(N.test)),
  /** Images preprocessed at once (default 6). */
  imageConcurrency: Type.Optional(schema(N.imageConcurrency, 'images preprocessed at once (default 6)')),
});
/** See {@link PrepareParams}. */
export type PrepareParams = Static<typeof PrepareParams>;

/** Options of a training (`Trainer.run`, `POST /train-model`, `rakuten-pipeline train`). */
export const TrainParams = Type.Object({
  /** Seed of every random choice of the model (default 42). */
  seed: Type.Optional(schema(N.seed)),
  /** Model kind (default: the pipeline's first). */
  kind: Type.Optional(Type.String({ minLength: 1, description: 'Model kind (default: the pipeline\'s first, the built-in text-image model)' })),
  /** Most epochs (early stopping may end sooner). */
  epochs: Type.Optional(schema(N.epochs)),
  /** Epochs without validation improvement before stopping. */
  patience: Type.Optional(schema(N.patience)),
  /** Weight classes inversely to their frequency (default false). */
  classWeighting: Type.Optional(Type.Boolean({ description: 'Weight classes inversely to their frequency (default false)' })),
  /** Champion policy (default `auto`). */
  promote: Type.Optional(PromotionPolicySchema),
  /** Largest per-class F1 drop allowed for an automatic promotion (default 0.05). */
  guardrailMargin: Type.Optional(schema(N.guardrailMargin)),
  /** Train on the review queue's corrections too, as labelled products (default false); recorded in the version's provenance. */
  includeCorrections: Type.Optional(
    Type.Boolean({ description: 'Add the review corrections (accepted and corrected predictions) to the training data (default false); recorded with the version' }),
  ),
});
/** See {@link TrainParams}. */
export type TrainParams = Static<typeof TrainParams>;

/** Options of an evaluation (`Evaluator.run`, `POST /evaluate-model`, `rakuten-pipeline evaluate`). */
export const EvaluateParams = Type.Object({
  /** Model version, `champion` (default) or `latest`. */
  model: Type.Optional(ModelRefSchema),
  /** A labelled folder in the challenge layout instead of the held-out split. */
  dataDir: Type.Optional(DataDir('A labelled folder in the challenge layout instead of the held-out split')),
  /** Products timed one by one for the latency figures (default 200). */
  latencySamples: Type.Optional(Type.Integer({ minimum: 0, maximum: 100_000, description: 'Products timed one by one for the latency figures (default 200)' })),
});
/** See {@link EvaluateParams}. */
export type EvaluateParams = Static<typeof EvaluateParams>;

/** Options of a batch prediction of the stored test rows (`Predictor.predictStoredTest`, `POST /predict`, `rakuten-pipeline predict`). */
export const PredictParams = Type.Object({
  /** Model version, `champion` (default) or `latest`. */
  model: Type.Optional(ModelRefSchema),
});
/** See {@link PredictParams}. */
export type PredictParams = Static<typeof PredictParams>;

/** Options of a single-product prediction (`Predictor.predictProduct`, `POST /predict/product`). @internal */
export const PredictProductParams = Type.Object({ model: Type.Optional(ModelRefSchema), topK: Type.Optional(schema(N.topK)) });

let value: typeof import('@sinclair/typebox/value').Value | undefined;

/**
 * TypeBox's value checker, loaded on the first check (synchronously, its CommonJS build): it is a
 * third of the package's import time, and a schema built by the ES module build checks the same
 * (kinds are global symbols).
 */
function checker(): typeof import('@sinclair/typebox/value').Value {
  value ??= (createRequire(import.meta.url)('@sinclair/typebox/value') as typeof import('@sinclair/typebox/value')).Value;
  return value;
}

/** The default of each field of `schema` that declares one (`{ seed: 42, ... }`). */
export function defaultsOf<P extends TProperties>(schema: TObject<P>): Partial<Static<TObject<P>>> {
  const out: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(schema.properties) as [string, TSchema][]) {
    if (field.default !== undefined) out[key] = field.default;
  }
  return out as Partial<Static<TObject<P>>>;
}

/**
 * Checks a library call's options against its stage's schema and throws a `RangeError` naming the
 * entry point, the field, what it must be and the value. Fields the schema does not know (the
 * progress listener, the signal, a stage's library-only extras) are not its business; fields left
 * `undefined` take their defaults. Library users bypass the HTTP and CLI checks, and a NaN guardrail
 * or a zero batch size would otherwise run with nonsense instead of failing.
 */
export function checkOptions<P extends TProperties>(where: string, schema: TObject<P>, options: object): void {
  const values = options as Record<string, unknown>;
  for (const [key, field] of Object.entries(schema.properties) as [string, TSchema][]) {
    const value = values[key];
    if (value === undefined || checker().Check(field, value)) continue;
    const shown = typeof value === 'string' || typeof value === 'object' ? JSON.stringify(value) : String(value);
    throw new RangeError(`${where}: options.${key} must be ${describeSchema(field)}, got ${shown}`);
  }
}

/** What a field's schema allows, in words: `an integer from 1 to 200`, `one of auto, always, never`. */
export function describeSchema(field: TSchema): string {
  const literals = (field.anyOf as TSchema[] | undefined)?.map((s) => (s.const !== undefined ? JSON.stringify(s.const) : describeSchema(s)));
  if (literals) return `one of ${literals.join(', ')}`;
  switch (field.type) {
    case 'integer':
    case 'number':
      return describeRange({
        integer: field.type === 'integer',
        minimum: field.minimum as number | undefined,
        maximum: field.maximum as number | undefined,
        exclusiveMinimum: field.exclusiveMinimum as number | undefined,
        exclusiveMaximum: field.exclusiveMaximum as number | undefined,
      });
    case 'string':
      return field.minLength ? 'a non-empty string' : 'a string';
    default:
      return `a ${String(field.type)}`;
  }
}
