/**
 * Adapts what the stages produce — stored labelled products, freshly preprocessed products,
 * preprocessed PNGs — to the {@link ModelInput}s models read. Lives with the stages so the models
 * depend on nothing above them.
 *
 * @module
 */
import pLimit from 'p-limit';
import type { ImageFeatureExtractor, ModelImage, ModelInput } from '../models/types.js';
import type { ImageStore, Store } from '../stores/types.js';
import { decodePreparedPng, featureImage, type ImageFeatureOptions, storedImageFeatures } from './image-features.js';
import type { LabeledProduct } from './prepare/types.js';
import type { PreparedProduct } from './preprocess/preprocessor.js';

export { decodePreparedPng };

/** The model input of a freshly preprocessed product: its image's pixels (or stored vectors) only. */
export function inputFromPrepared(product: { text: PreparedProduct['text']; image: ModelImage | null }): ModelInput {
  const { text, image } = product;
  return {
    designation: text.designation,
    description: text.description,
    designationTokens: text.designationTokens,
    descriptionTokens: text.descriptionTokens,
    image: image ? { pixels: image.pixels, size: image.size, ...(image.features ? { features: image.features } : {}) } : null,
  };
}

/** Where {@link inputsFromLabeled} finds stored image vectors, and for which extractor. */
export interface StoredFeatures extends ImageFeatureOptions {
  /** The store holding the pictures and the `image_features` collection. */
  store: Store;
  /** The model's extractor; `null` or absent: the model reads pixels. */
  extractor: ImageFeatureExtractor | null | undefined;
}

/**
 * Model inputs of stored labelled products, with their preprocessed images read from the store:
 * as decoded pixels, or, given `features` with an extractor, as that extractor's stored vectors
 * only (computed once per picture; no PNG is read for a picture whose vector is stored).
 */
export async function inputsFromLabeled(
  docs: readonly LabeledProduct[],
  images: ImageStore,
  options: { withImages?: boolean; features?: StoredFeatures } = {},
): Promise<ModelInput[]> {
  const text = (doc: LabeledProduct) => ({
    designation: doc.designation,
    description: doc.description,
    designationTokens: doc.designationTokens,
    descriptionTokens: doc.descriptionTokens,
  });
  const extractor = options.features?.extractor;
  if (options.withImages !== false && options.features && extractor) {
    const { store, ...featureOptions } = options.features;
    const shas = await picturesOf(store, docs);
    const { vectors } = await storedImageFeatures(
      store,
      [...shas].map(([key, picture]) => ({ key, sha256: picture.sha256 })),
      extractor,
      featureOptions,
    );
    return docs.map((doc) => {
      const picture = doc.image ? shas.get(doc.image) : undefined;
      const vector = picture ? vectors.get(picture.sha256) : undefined;
      return { ...text(doc), image: picture && vector ? featureImage(extractor, vector, picture.side) : null };
    });
  }
  const limit = pLimit(8);
  return Promise.all(
    docs.map((doc) =>
      limit(async (): Promise<ModelInput> => {
        let image: ModelInput['image'] = null;
        if (doc.image && options.withImages !== false) {
          const png = await images.get(doc.image);
          if (png) image = await decodePreparedPng(png);
        }
        return { ...text(doc), image };
      }),
    ),
  );
}

/**
 * The stored pictures of `docs` by key: their sha256 and side (read from the image store's
 * listing, one per key prefix; a picture missing from the store is left out, as a product
 * without image, like the pixel path does).
 */
async function picturesOf(store: Store, docs: readonly LabeledProduct[]): Promise<Map<string, { sha256: string; side: number }>> {
  const wanted = new Set<string>();
  const prefixes = new Set<string>();
  for (const doc of docs) {
    if (!doc.image) continue;
    wanted.add(doc.image);
    // prep/<size>/<split>/: one listing per split and size.
    prefixes.add(doc.image.split('/').slice(0, 3).join('/') + '/');
  }
  const out = new Map<string, { sha256: string; side: number }>();
  for (const prefix of prefixes) {
    for await (const info of store.images.list({ prefix })) {
      if (wanted.has(info.key)) out.set(info.key, { sha256: info.sha256, side: Number(info.metadata['size'] ?? 0) });
    }
  }
  return out;
}
