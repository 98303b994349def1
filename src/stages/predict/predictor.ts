import { DEFAULTS } from '../../options.js';
import { once } from 'node:events';
import { realpath } from 'node:fs/promises';
import path from 'node:path';
import { stringify } from 'csv-stringify/sync';
import pLimit from 'p-limit';
import { COLLECTIONS, PREP_IMAGE_PREFIX } from '../../collections.js';
import { currentData } from '../views.js';
import { decodePreparedPng, inputFromPrepared } from '../model-inputs.js';
import { asModelImage, featureImage, storedImageFeatures } from '../image-features.js';
import type { ModelRef, ModelRegistry, ModelVersion } from '../../models/registry.js';
import type { ModelInput, ProductClassifier } from '../../models/types.js';
import { withRate, type StageRunOptions } from '../../progress.js';
import type { BaseDocument, ImageInfo, Store } from '../../stores/types.js';
import { openCsv } from '../load/csv.js';
import { parseId, type RowId } from '../load/ids.js';
import { readBoundedFile } from '../load/files.js';
import { imageFileName } from '../load/image-folder.js';
import { DEFAULT_MAX_IMAGE_FILE_BYTES } from '../load/limits.js';
import type { ProductRow } from '../load/types.js';
import { atomicWriteStream, checkOutputFile } from '../../util/output-file.js';
import { preparedImageKey } from '../prepare/stage.js';
import { Preprocessor, type ProductInput } from '../preprocess/preprocessor.js';
import { categoryNames, type CategoryNames } from '../../categories.js';
import { checkOptions, PredictParams, PredictProductParams } from '../options.js';
import { argmax, withoutImage } from '../../models/util.js';
import { confidenceOf, type Confidence } from './confidence.js';
import { DriftMonitor } from '../monitor/drift.js';
import { profileInput, type InputProfile } from '../monitor/profile.js';
import { keepReviewImage, type Correction, type OnlinePrediction, type ReviewablePrediction } from '../monitor/review.js';
import type { Language } from '../preprocess/text.js';
import { randomUUID } from 'node:crypto';

/** One class and its probability. */
export interface ScoredClass {
  /** Product type code. */
  prdtypecode: number;
  /** Probability. */
  probability: number;
  /** English category name (`categoryName`); absent for a code outside the 27. */
  name?: string;
  /** French and English category names; absent for a code outside the 27. */
  names?: CategoryNames;
}

/** Prediction for one product. */
export interface ProductPrediction {
  /** Most probable code. */
  prdtypecode: number;
  /** Its English category name; absent for a code outside the 27 (a model trained on other codes). */
  name?: string;
  /** Its French and English category names; absent for a code outside the 27. */
  names?: CategoryNames;
  /** The `topK` most probable codes, best first. */
  top: ScoredClass[];
  /** Model version that predicted. */
  modelVersion: number;
  /** Whether an image was used. */
  usedImage: boolean;
  /** How sure the model was: margin between the two best classes, normalised entropy. */
  confidence: Confidence;
  /** The class the text alone gives (the image ignored), `null` without an image. */
  textClass: number | null;
  /** The class the image alone gives (the text left empty), `null` without an image. */
  imageClass: number | null;
  /** Whether `textClass` and `imageClass` differ (a wrong picture, or a misleading title): listed in the review queue. */
  disagreement: boolean;
  /** The stored prediction's review id (`online:<id>`), when it was recorded (`record: true`, as `/predict/product` does). */
  id?: string;
}

/** A stored batch prediction, in `predictions`: what review and drift read, and the product it is of. */
export interface StoredPrediction extends ReviewablePrediction {
  /** Product id. */
  productid: RowId;
  /** Image id. */
  imageid: RowId;
  /** Row index in the test file. */
  index: RowId;
  /** Whether an image was used. */
  usedImage: boolean;
}

/** Summary of a batch prediction. */
export interface BatchPredictionSummary {
  /** Model version used. */
  modelVersion: number;
  /** Products predicted. */
  count: number;
  /** Of which with an image. */
  withImage: number;
  /** Wall time in seconds. */
  seconds: number;
  /** Products per second. */
  productsPerSecond: number;
  /** Where the predictions went (collection name or file path). */
  output: string;
  /** Products per predicted code. */
  perClass: Record<string, number>;
}

/** A model ready to predict: metadata, loaded classifier, and its preprocessing. */
export interface LoadedModel {
  /** Registry metadata. */
  version: ModelVersion;
  /** The classifier. */
  model: ProductClassifier;
  /** The preprocessing it was trained with. */
  preprocessor: Preprocessor;
}

/** Options of {@link Predictor.predictProduct}. */
export interface PredictProductOptions {
  /** Model version, `champion` (default) or `latest`. */
  model?: ModelRef;
  /** How many classes to return (default 3). */
  topK?: number;
  /**
   * Store the prediction in `online_predictions` (top classes, confidence, input profile, the
   * input and its image) for the review queue and drift reports, and return its review `id`
   * (default false; the HTTP API's `/predict/product` records, see `recordPredictions`).
   */
  record?: boolean;
}

/** Top classes as documents store them: English names, not `names` (stored documents stay small). */
const storedTop = (top: readonly ScoredClass[]) => top.map(({ names: _names, ...scored }) => scored);

/** `{ name, names }` of a code, or nothing (no `undefined` keys) for a code outside the 27. */
function named(code: number): { name?: string; names?: CategoryNames } {
  const names = categoryNames(code);
  return names ? { name: names.en, names } : {};
}

const BATCH = 256;
/** Columns after the index column of a CSV {@link Predictor.predictCsv} reads. */
const X_COLUMNS = ['designation', 'description', 'productid', 'imageid'] as const;

/**
 * The model input of one record of a challenge-layout CSV (`index, designation, description,
 * productid, imageid`), its image read from `imagesDir` when there is one; an unreadable or
 * undecodable image means a text-only input.
 */
export async function inputFromCsvRow(preprocessor: Preprocessor, fields: readonly string[], imagesDir?: string): Promise<ModelInput> {
  const [, designation = '', description = '', productid = '', imageid = ''] = fields;
  const text = preprocessor.text.prepare({ designation, description });
  let image = null;
  // The same exact id text as the loader's file-name join (ids beyond 2^53 stay strings).
  const pid = parseId(productid, 'productid');
  const iid = parseId(imageid, 'imageid');
  if (imagesDir && pid.ok && iid.ok) {
    // Bounded as in the loader: a FIFO, a device or a huge file named like an image is no image.
    const name = imageFileName(iid.id, pid.id);
    const read = await realpath(imagesDir)
      .then((root) => readBoundedFile(path.join(root, name), root, DEFAULT_MAX_IMAGE_FILE_BYTES, name))
      .catch(() => null);
    if (read?.ok) image = await preprocessor.prepareImagePixels(read.bytes).catch(() => null);
  }
  return inputFromPrepared({ text, image });
}

/**
 * Predictions with a registered model: one product online, the stored test rows into
 * `predictions`, or a CSV in the challenge layout into a submission file. Every path runs the
 * model's own preprocessing, rebuilt from the spec saved with its version
 * ({@link Preprocessor.fromSpec}); models are loaded once and cached.
 *
 * @example
 * ```ts
 * import { readFile } from 'node:fs/promises';
 * import { BUILT_IN_MODELS, ModelRegistry, openStore, Predictor } from 'rakuten-pipeline';
 *
 * const store = await openStore('.rakuten-store');
 * const predictor = new Predictor(store, new ModelRegistry(store, BUILT_IN_MODELS));
 * const answer = await predictor.predictProduct({ designation: 'Lot de 4 verres à pied', image: await readFile('verres.jpg') }, { topK: 3 });
 * console.log(answer.prdtypecode, answer.top);
 * await store.close();
 * ```
 */
export class Predictor {
  private readonly loaded = new Map<number, LoadedModel>();
  private readonly drift: DriftMonitor;

  /** Creates a predictor over a store and its registry. */
  constructor(
    private readonly store: Store,
    private readonly registry: ModelRegistry,
  ) {
    this.drift = new DriftMonitor(store, registry);
  }

  /** The drift profile of an input, against the version's training vocabulary (out-of-vocabulary share `null` without a reference). */
  private async profile(loaded: LoadedModel, input: ModelInput, language: Language): Promise<InputProfile> {
    const ref = await this.drift.reference(loaded.version.version);
    const profile = profileInput(input, language, ref?.vocabulary ?? new Set());
    return ref ? profile : { ...profile, oov: null };
  }

  /** The model, its metadata and its preprocessor (cached per version). */
  async resolve(ref: ModelRef = 'champion'): Promise<LoadedModel> {
    // A version number names immutable content: a cached one needs no registry lookup.
    if (typeof ref === 'number') {
      const cached = this.loaded.get(ref);
      if (cached) return cached;
    }
    const version = await this.registry.require(ref);
    let hit = this.loaded.get(version.version);
    if (!hit) {
      // Rebuilt from the version's spec: the cleaning it was trained with, whatever the defaults.
      hit = { version, model: await this.registry.load(version), preprocessor: Preprocessor.fromSpec(version.preprocessing) };
      this.loaded.set(version.version, hit);
    }
    return hit;
  }

  /**
   * Scores inputs and returns each one's top classes and confidence; with `modal`, inputs with an
   * image are also scored on their text alone and on their image alone (two more passes over them).
   */
  private async score(loaded: LoadedModel, inputs: readonly ModelInput[], topK: number, modal = true): Promise<ProductPrediction[]> {
    const probabilities = await loaded.model.predict(inputs);
    const pictured = modal ? inputs.flatMap((x, i) => (x.image ? [i] : [])) : [];
    const byModality = new Map<number, { text: number; image: number }>();
    if (pictured.length) {
      const code = (p: Float32Array | undefined) => (p ? (loaded.model.classes[argmax(p)] as number) : -1);
      const text = await loaded.model.predict(pictured.map((i) => withoutImage(inputs[i] as ModelInput)));
      const image = await loaded.model.predict(
        pictured.map((i) => ({ ...(inputs[i] as ModelInput), designation: '', description: '', designationTokens: [], descriptionTokens: [] })),
      );
      pictured.forEach((i, j) => byModality.set(i, { text: code(text[j]), image: code(image[j]) }));
    }
    return probabilities.map((p, i) => {
      const modality = byModality.get(i);
      const order = Array.from(p.keys()).sort((a, b) => (p[b] as number) - (p[a] as number));
      const top = order.slice(0, topK).map((k): ScoredClass => {
        const prdtypecode = loaded.model.classes[k] as number;
        return { prdtypecode, probability: p[k] as number, ...named(prdtypecode) };
      });
      const prdtypecode = top[0]?.prdtypecode ?? -1;
      return {
        prdtypecode,
        ...named(prdtypecode),
        top,
        modelVersion: loaded.version.version,
        usedImage: inputs[i]?.image !== null,
        confidence: confidenceOf(p),
        textClass: modality?.text ?? null,
        imageClass: modality?.image ?? null,
        disagreement: modality !== undefined && modality.text !== modality.image,
      };
    });
  }

  /**
   * Predicts one product (designation, description, optional image bytes). With `record`, the
   * prediction is stored in `online_predictions` (top classes, confidence, input profile, the
   * input and its image) for the review queue and drift monitoring, and its review `id` returned.
   */
  async predictProduct(product: ProductInput, options: PredictProductOptions = {}): Promise<ProductPrediction> {
    const { record, ...checked } = options;
    checkOptions('Predictor.predictProduct', PredictProductParams, checked);
    const loaded = await this.resolve(options.model);
    const text = loaded.preprocessor.text.prepare(product);
    const pixels = product.image ? await loaded.preprocessor.prepareImagePixels(product.image) : null;
    const image = pixels && (await asModelImage(pixels, loaded.model.imageFeatures));
    const input = inputFromPrepared({ text, image });
    const [prediction] = await this.score(loaded, [input], options.topK ?? DEFAULTS.topK);
    if (!prediction) throw new Error('no prediction');
    if (!record) return prediction;
    const id = randomUUID();
    const imageKey = product.image ? await keepReviewImage(this.store, product.image) : null;
    const doc: OnlinePrediction = {
      _id: id,
      modelVersion: prediction.modelVersion,
      prdtypecode: prediction.prdtypecode,
      ...(prediction.name === undefined ? {} : { name: prediction.name }),
      top: storedTop(prediction.top.slice(0, 3)),
      predictedAt: new Date().toISOString(),
      margin: prediction.confidence.margin,
      entropy: prediction.confidence.entropy,
      textClass: prediction.textClass,
      imageClass: prediction.imageClass,
      disagreement: prediction.disagreement,
      profile: await this.profile(loaded, input, text.language),
      imageKey,
      input: { designation: product.designation, description: (product.description ?? '').slice(0, 20_000), image: imageKey },
    };
    await this.store.documents.collection<OnlinePrediction>(COLLECTIONS.onlinePredictions).upsertMany([doc]);
    return { ...prediction, id: `online:${id}` };
  }

  /**
   * Model input of a stored test row: its preprocessed image when current and made with the
   * model's image options (`prepared`: the stored test images of the model's size), else
   * preprocessed now.
   */
  private async storedInput(
    loaded: LoadedModel,
    row: ProductRow,
    prepared: ReadonlyMap<string, ImageInfo>,
    vectors: ReadonlyMap<string, Float32Array>,
  ): Promise<{ input: ModelInput; language: Language }> {
    const text = loaded.preprocessor.text.prepare(row);
    let image: ModelInput['image'] = null;
    if (row.image) {
      const info = this.currentPrepared(loaded, row, prepared);
      const vector = info && vectors.get(info.sha256);
      const extractor = loaded.model.imageFeatures;
      const png = info && !vector ? await this.store.images.get(info.key) : undefined;
      if (vector && extractor) image = featureImage(extractor, vector, loaded.preprocessor.imageOptions.size);
      else if (png) image = await decodePreparedPng(png);
      else {
        const bytes = await this.store.images.get(row.image);
        if (bytes) image = await loaded.preprocessor.prepareImagePixels(bytes).catch(() => null);
      }
    }
    return { input: inputFromPrepared({ text, image }), language: text.language };
  }

  /** The stored preprocessed test picture of `row`, when it was made with the model's image options. */
  private currentPrepared(loaded: LoadedModel, row: ProductRow, prepared: ReadonlyMap<string, ImageInfo>): ImageInfo | undefined {
    if (!row.image) return undefined;
    const info = prepared.get(preparedImageKey(row.image, loaded.preprocessor.imageOptions.size, 'test'));
    // A later prepare with another border tolerance may have rewritten it.
    return info?.metadata['tolerance'] === loaded.preprocessor.imageOptions.tolerance ? info : undefined;
  }

  /**
   * Predicts every stored test row (`preprocessed_x_test`) into `predictions`, or the slice `rows`
   * of them in index order (queue workers each predict a slice of one batch prediction).
   */
  async predictStoredTest(options: StageRunOptions & { model?: ModelRef; rows?: { skip: number; limit: number } } = {}): Promise<BatchPredictionSummary> {
    checkOptions('Predictor.predictStoredTest', PredictParams, options);
    const onProgress = withRate(options.onProgress);
    const started = Date.now();
    const loaded = await this.resolve(options.model);
    const rows = (await currentData(this.store)).rows.xTest;
    const out = this.store.documents.collection<StoredPrediction>(COLLECTIONS.predictions);
    const corrections = this.store.documents.collection<Correction>(COLLECTIONS.reviewCorrections);
    const slice = options.rows;
    const all = await rows.count();
    const total = slice ? Math.max(0, Math.min(slice.limit, all - slice.skip)) : all;
    const prepared = new Map<string, ImageInfo>();
    for await (const info of this.store.images.list({ prefix: `${PREP_IMAGE_PREFIX}${loaded.preprocessor.imageOptions.size}/test/` })) {
      prepared.set(info.key, info);
    }
    const limit = pLimit(8);
    let batch: ProductRow[] = [];
    let count = 0;
    let withImage = 0;
    const perClass: Record<string, number> = {};
    const flush = async () => {
      options.signal?.throwIfAborted();
      // The model's stored image vectors (computed now for pictures that have none): no PNG decoded.
      const extractor = loaded.model.imageFeatures;
      const pictures = extractor
        ? batch.flatMap((row) => {
            const info = this.currentPrepared(loaded, row, prepared);
            return info ? [{ key: info.key, sha256: info.sha256 }] : [];
          })
        : [];
      const { vectors } =
        extractor && pictures.length
          ? await storedImageFeatures(this.store, pictures, extractor, options.signal ? { signal: options.signal } : {})
          : { vectors: new Map<string, Float32Array>() };
      const scored = await Promise.all(batch.map((row) => limit(() => this.storedInput(loaded, row, prepared, vectors))));
      const inputs = scored.map((x) => x.input);
      const predictions = await this.score(loaded, inputs, 3);
      const profiles = await Promise.all(scored.map((x) => this.profile(loaded, x.input, x.language)));
      const now = new Date().toISOString();
      // A prediction a person already reviewed keeps its mark when the same version predicts it
      // again: else it counted as pending in the review queue for ever, and `all` listed it again.
      const ids = batch.map((row) => `batch:v${loaded.version.version}:${row.productid}`);
      const reviewed = new Set<string>();
      for await (const c of corrections.find({ _id: { $in: ids } })) reviewed.add(c._id);
      await out.upsertMany(
        batch.map((row, i) => {
          const p = predictions[i] as ProductPrediction;
          if (p.usedImage) withImage++;
          perClass[p.prdtypecode] = (perClass[p.prdtypecode] ?? 0) + 1;
          return {
            _id: `v${loaded.version.version}:${row.productid}`,
            productid: row.productid,
            imageid: row.imageid,
            index: row.index,
            prdtypecode: p.prdtypecode,
            ...(p.name === undefined ? {} : { name: p.name }),
            top: storedTop(p.top),
            modelVersion: p.modelVersion,
            usedImage: p.usedImage,
            predictedAt: now,
            margin: p.confidence.margin,
            entropy: p.confidence.entropy,
            textClass: p.textClass,
            imageClass: p.imageClass,
            disagreement: p.disagreement,
            profile: profiles[i] as InputProfile,
            ...(reviewed.has(ids[i] as string) ? { reviewed: true } : {}),
          };
        }),
      );
      count += batch.length;
      batch = [];
      onProgress?.({ stage: 'predict', phase: 'test', done: count, total, unit: 'products' });
    };
    for await (const row of rows.find({}, { sort: { field: 'index' }, ...(slice ? { skip: slice.skip, limit: slice.limit } : {}) })) {
      batch.push(row);
      if (batch.length >= BATCH) await flush();
    }
    if (batch.length) await flush();
    const seconds = (Date.now() - started) / 1000;
    return { modelVersion: loaded.version.version, count, withImage, seconds, productsPerSecond: count / seconds, output: COLLECTIONS.predictions, perClass };
  }

  /**
   * Predicts a CSV in the challenge layout (`,designation,description,productid,imageid`, images
   * `image_<imageid>_product_<productid>.jpg` in `imagesDir`) into a submission file: header
   * `,prdtypecode`, one row per input index, in input order. The file is replaced only when
   * every row was predicted: a failure leaves any previous `output` as it was.
   *
   * @throws Error when `input` does not have the X header (the label file, say) or `output` is a folder.
   */
  async predictCsv(
    options: StageRunOptions & { input: string; output: string; imagesDir?: string; model?: ModelRef },
  ): Promise<BatchPredictionSummary> {
    checkOptions('Predictor.predictCsv', PredictParams, options);
    const onProgress = withRate(options.onProgress);
    const started = Date.now();
    const loaded = await this.resolve(options.model);
    await checkOutputFile(options.output, 'output');
    const csv = await openCsv(options.input, path.basename(options.input));
    const got = csv.header.slice(1).map((h) => h.trim().toLowerCase());
    if (got.length < X_COLUMNS.length || X_COLUMNS.some((name, i) => got[i] !== name)) {
      await csv.close();
      throw new Error(`${options.input}: expected header ",${X_COLUMNS.join(',')}", found ${JSON.stringify(csv.header.join(','))}`);
    }
    const out = atomicWriteStream(options.output);
    const sink = out.stream;
    sink.write(stringify([['', 'prdtypecode']], { record_delimiter: 'unix' }));
    const limit = pLimit(6);
    let count = 0;
    let withImage = 0;
    const perClass: Record<string, number> = {};
    let batch: string[][] = [];
    const flush = async () => {
      options.signal?.throwIfAborted();
      const inputs = await Promise.all(
        batch.map((fields) => limit(() => inputFromCsvRow(loaded.preprocessor, fields, options.imagesDir))),
      );
      const predictions = await this.score(loaded, inputs, 1, false);
      const rows = batch.map((fields, i) => [fields[0] ?? '', predictions[i]?.prdtypecode ?? -1]);
      for (const p of predictions) {
        if (p.usedImage) withImage++;
        perClass[p.prdtypecode] = (perClass[p.prdtypecode] ?? 0) + 1;
      }
      count += batch.length;
      batch = [];
      // events.once rejects on 'error', where waiting for 'drain' alone would hang.
      if (!sink.write(stringify(rows, { record_delimiter: 'unix' }))) await once(sink, 'drain');
      onProgress?.({ stage: 'predict', phase: 'csv', done: count, total: 0, unit: 'products' });
    };
    try {
      for await (const record of csv.records) {
        batch.push(record.fields);
        if (batch.length >= BATCH) await flush();
      }
      if (batch.length) await flush();
    } catch (e) {
      await csv.close();
      await out.abort();
      throw e;
    }
    await csv.close();
    await out.commit();
    const seconds = (Date.now() - started) / 1000;
    return { modelVersion: loaded.version.version, count, withImage, seconds, productsPerSecond: count / seconds, output: options.output, perClass };
  }
}
