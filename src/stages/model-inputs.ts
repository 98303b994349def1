/**
 * Adapts what the stages produce — stored labelled products, freshly preprocessed products,
 * preprocessed PNGs — to the {@link ModelInput}s models read. Lives with the stages so the models
 * depend on nothing above them.
 *
 * @module
 */
import { loadSharp } from '../util/sharp.js';
import pLimit from 'p-limit';
import type { ModelImage, ModelInput } from '../models/types.js';
import type { ImageStore } from '../stores/types.js';
import type { LabeledProduct } from './prepare/types.js';
import type { PreparedProduct } from './preprocess/preprocessor.js';

/** Decodes a stored preprocessed PNG back to the raw RGB pixels the model reads. */
export async function decodePreparedPng(png: Uint8Array): Promise<ModelImage> {
  const { data, info } = await (await loadSharp())(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { pixels: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), size: info.width };
}

/** The model input of a freshly preprocessed product (online prediction); the image needs its pixels only. */
export function inputFromPrepared(product: { text: PreparedProduct['text']; image: ModelImage | null }): ModelInput {
  const { text, image } = product;
  return {
    designation: text.designation,
    description: text.description,
    designationTokens: text.designationTokens,
    descriptionTokens: text.descriptionTokens,
    image: image ? { pixels: image.pixels, size: image.size } : null,
  };
}

/** Model inputs of stored labelled products, with their preprocessed images read from the store. */
export async function inputsFromLabeled(
  docs: readonly LabeledProduct[],
  images: ImageStore,
  options: { withImages?: boolean } = {},
): Promise<ModelInput[]> {
  const limit = pLimit(8);
  return Promise.all(
    docs.map((doc) =>
      limit(async (): Promise<ModelInput> => {
        let image: ModelInput['image'] = null;
        if (doc.image && options.withImages !== false) {
          const png = await images.get(doc.image);
          if (png) image = await decodePreparedPng(png);
        }
        return {
          designation: doc.designation,
          description: doc.description,
          designationTokens: doc.designationTokens,
          descriptionTokens: doc.descriptionTokens,
          image,
        };
      }),
    ),
  );
}
