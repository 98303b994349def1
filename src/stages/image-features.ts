/**
 * Image feature vectors computed once per picture and extractor, stored in the
 * `image_features` collection and reused by every training, evaluation and batch prediction.
 *
 * A vector belongs to the preprocessed picture (its content hash) and the extractor's id, not to
 * a run: documents are content-addressed (`<extractor id>:<picture sha256>`), so a run killed
 * mid-write leaves only correct vectors, two runs computing the same one write the same document,
 * and nothing needs a generation.
 *
 * @module
 */
import pLimit from 'p-limit';
import { COLLECTIONS } from '../collections.js';
import type { ImageFeatureExtractor, ModelImage } from '../models/types.js';
import type { ProgressListener } from '../progress.js';
import { sha256Hex } from '../stores/hash.js';
import type { BaseDocument, Store } from '../stores/types.js';
import { loadSharp } from '../util/sharp.js';

/** One stored vector. */
export interface ImageFeatureDocument extends BaseDocument {
  /** `<extractor>:<sha256>`. */
  _id: string;
  /** {@link ImageFeatureExtractor.id}. */
  extractor: string;
  /** SHA-256 of the preprocessed picture's stored bytes. */
  sha256: string;
  /** Little-endian float32 values, base64. */
  vector: string;
}

/** A stored preprocessed picture whose vector is wanted. */
export interface PictureRef {
  /** Its key in the image store. */
  key: string;
  /** SHA-256 of its bytes (`ImageInfo.sha256`). */
  sha256: string;
}

/** Options of {@link storedImageFeatures}. */
export interface ImageFeatureOptions {
  /** Reports computed pictures (phase `features`). */
  onProgress?: ProgressListener;
  /** Stage name in the progress events. */
  stage?: string;
  /** Phase name in the progress events (default `features`). */
  phase?: string;
  /** Stops between chunks; vectors already stored stay (they are correct). */
  signal?: AbortSignal;
}

/** Pictures read, decoded and computed per chunk: bounds memory, paces progress and cancellation. */
const CHUNK = 256;
/** Ids per lookup query. */
const LOOKUP = 500;

function encode(vector: Float32Array): string {
  return Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength).toString('base64');
}

function decode(text: string, size: number, id: string): Float32Array {
  const bytes = Buffer.from(text, 'base64');
  if (bytes.byteLength !== size * 4) throw new Error(`image_features ${id}: ${bytes.byteLength} bytes, expected ${size * 4} (delete that document and it is computed again)`);
  // A copy: Buffer.from may hand out a window on Node's shared pool.
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

/**
 * Vectors of `pictures` under `extractor`, by picture sha256: read from the store, and the missing
 * ones computed in chunks (decoded from the stored PNG), stored, then returned with the rest.
 *
 * @returns The vectors and how many were computed now.
 */
export async function storedImageFeatures(
  store: Store,
  pictures: readonly PictureRef[],
  extractor: ImageFeatureExtractor,
  options: ImageFeatureOptions = {},
): Promise<{ vectors: Map<string, Float32Array>; computed: number }> {
  const collection = store.documents.collection<ImageFeatureDocument>(COLLECTIONS.imageFeatures);
  const unique = new Map<string, PictureRef>();
  for (const picture of pictures) if (!unique.has(picture.sha256)) unique.set(picture.sha256, picture);
  const vectors = new Map<string, Float32Array>();
  const all = [...unique.keys()];
  for (let start = 0; start < all.length; start += LOOKUP) {
    const ids = all.slice(start, start + LOOKUP).map((sha) => `${extractor.id}:${sha}`);
    // Keyed by the document's address, not by the sha256 written inside it: a document whose
    // fields disagree with its id must not hand its vector to another picture.
    for await (const doc of collection.find({ _id: { $in: ids } })) {
      vectors.set(doc._id.slice(extractor.id.length + 1), decode(doc.vector, extractor.featureSize, doc._id));
    }
  }
  const missing = [...unique.values()].filter((p) => !vectors.has(p.sha256));
  const stage = options.stage ?? 'features';
  const limit = pLimit(8);
  let done = 0;
  for (let start = 0; start < missing.length; start += CHUNK) {
    options.signal?.throwIfAborted();
    const chunk = missing.slice(start, start + CHUNK);
    // The sha256 of the bytes actually read: a prepare may have rewritten the picture since it was
    // listed, and a vector is only ever stored under the address of the bytes it was computed from.
    const read: string[] = [];
    const images = await Promise.all(
      chunk.map((picture, i) =>
        limit(async (): Promise<ModelImage> => {
          const png = await store.images.get(picture.key);
          if (!png) throw new Error(`preprocessed image ${picture.key} is not in ${store.uri}: prepare again`);
          read[i] = sha256Hex(png);
          return decodePreparedPng(png);
        }),
      ),
    );
    const computed = await extractor.compute(images);
    const docs = chunk.map((picture, i): ImageFeatureDocument => {
      const vector = computed[i];
      if (!vector || vector.length !== extractor.featureSize) {
        throw new Error(`image feature extractor ${extractor.id} returned ${vector?.length ?? 'no'} values for ${picture.key}, expected ${extractor.featureSize}`);
      }
      // For this caller, the vector of the picture as it is now (what reading its pixels gives).
      vectors.set(picture.sha256, vector);
      const sha256 = read[i] as string;
      return { _id: `${extractor.id}:${sha256}`, extractor: extractor.id, sha256, vector: encode(vector) };
    });
    await collection.upsertMany(docs);
    done += chunk.length;
    options.onProgress?.({ stage, phase: options.phase ?? 'features', done, total: missing.length, unit: 'images' });
  }
  return { vectors, computed: missing.length };
}

/** Decodes a stored preprocessed PNG back to the raw RGB pixels the model reads. */
export async function decodePreparedPng(png: Uint8Array): Promise<ModelImage> {
  const { data, info } = await (await loadSharp())(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { pixels: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), size: info.width };
}

/** An image carrying only its stored vector (empty pixels): for the model that declared `extractor`. */
export function featureImage(extractor: ImageFeatureExtractor, vector: Float32Array, size: number): ModelImage {
  return { pixels: EMPTY, size, features: { [extractor.id]: vector } };
}

const EMPTY = new Uint8Array(0);

/**
 * A freshly preprocessed picture as a model reads it: its vector when the model declares an
 * extractor (computed now, once: what the model reads and what drift monitoring measures), else
 * its pixels.
 */
export async function asModelImage(image: ModelImage, extractor: ImageFeatureExtractor | null | undefined): Promise<ModelImage> {
  if (!extractor) return image;
  const [vector] = await extractor.compute([image]);
  if (!vector) throw new Error(`image feature extractor ${extractor.id} returned no vector`);
  return featureImage(extractor, vector, image.size);
}
