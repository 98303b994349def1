/**
 * The image feature extractors of the built-in model, described without loading TensorFlow.js:
 * their ids name the vectors the stages store once per picture (see {@link ImageFeatureExtractor}),
 * and the networks load on the first {@link ImageFeatureExtractor.compute}.
 *
 * @module
 */
import type { JsonValue } from '../stores/types.js';
import { IMAGE_FEATURE_SIZE, imageFeatures } from './image-features.js';
import type { ImageBackbone } from './image-backbone.js';
import type { ImageFeatureExtractor, ModelImage } from './types.js';

/** Default backbone of the built-in model (`mobilenet` or `fixed`). */
export const DEFAULT_IMAGE_BACKBONE = 'mobilenet';

/** Default input side of the MobileNet. */
export const DEFAULT_MOBILENET_SIZE = 128;

/**
 * First hex digits of the SHA-256 of the shipped MobileNetV2 weights (`weights/mobilenet_v2/SHA256SUMS`,
 * checked when the network loads): other weights are another function, so another id.
 */
const MOBILENET_WEIGHTS = '8e7dddbb16ac';

/**
 * Version of the feature computation itself (layers read, pooling, resizing). Bump it when the
 * vectors change for the same weights, so stored vectors of the old computation are not reused.
 */
const MOBILENET_FEATURES_VERSION = 1;

/** Pictures handed to the backbone at a time by {@link builtInImageExtractor}'s compute. */
const COMPUTE_BATCH = 256;

const extractors = new Map<string, ImageFeatureExtractor>();
const backbones = new Map<number, Promise<ImageBackbone>>();

/** One backbone per input side for the whole process (a session or worker threads, loaded once). */
function sharedBackbone(size: number): Promise<ImageBackbone> {
  let loading = backbones.get(size);
  if (!loading) {
    loading = import('./image-backbone.js').then(({ loadImageBackbone }) => loadImageBackbone(size));
    loading.catch(() => backbones.delete(size));
    backbones.set(size, loading);
  }
  return loading;
}

/**
 * The built-in model's extractor for a backbone and MobileNet input side, one object per pair.
 *
 * @throws TypeError for an unknown backbone.
 */
export function builtInImageExtractor(backbone: string, size: number): ImageFeatureExtractor {
  if (backbone !== 'mobilenet' && backbone !== 'fixed') {
    throw new TypeError(`param imageBackbone: expected 'mobilenet' or 'fixed', got ${JSON.stringify(backbone)}`);
  }
  const id = backbone === 'fixed' ? 'fixed/1' : `mobilenet_v2-b10/${size}/${MOBILENET_FEATURES_VERSION}@${MOBILENET_WEIGHTS}`;
  let extractor = extractors.get(id);
  if (!extractor) {
    extractor =
      backbone === 'fixed'
        ? {
            id,
            featureSize: IMAGE_FEATURE_SIZE,
            async compute(images: readonly ModelImage[]) {
              return images.map((image) => imageFeatures(image.pixels, image.size));
            },
          }
        : {
            id,
            // MOBILENET_FEATURE_SIZE, not imported: that module loads TensorFlow.js (a test checks they agree).
            featureSize: 672,
            async compute(images: readonly ModelImage[]) {
              // The fastest runtime here (ONNX Runtime on every core when installed, else wasm in
              // worker threads): the same vectors as the model's own network, within 1e-5.
              const loading = sharedBackbone(size);
              const backbone = await loading;
              const out: Float32Array[] = [];
              try {
                for (let start = 0; start < images.length; start += COMPUTE_BATCH) {
                  out.push(...(await backbone.compute(images.slice(start, start + COMPUTE_BATCH))));
                }
              } catch (error) {
                // A worker pool that lost a worker rejects every batch from then on: the next
                // caller loads the backbone again rather than failing for the life of the process.
                if (backbones.get(size) === loading) {
                  backbones.delete(size);
                  void backbone.close().catch(() => undefined);
                }
                throw error;
              }
              return out;
            },
          };
    extractors.set(id, extractor);
  }
  return extractor;
}

/**
 * The extractor a built-in model trained with `params` reads (`null` without an image branch).
 * Values of the wrong type are left to the model's own checks, which reject them at training.
 */
export function textImageFeatureExtractor(params: Readonly<Record<string, JsonValue>> | undefined): ImageFeatureExtractor | null {
  if (params?.['image'] === false) return null;
  const backbone = typeof params?.['imageBackbone'] === 'string' ? params['imageBackbone'] : DEFAULT_IMAGE_BACKBONE;
  const size = typeof params?.['imageSize'] === 'number' ? params['imageSize'] : DEFAULT_MOBILENET_SIZE;
  if (backbone !== 'mobilenet' && backbone !== 'fixed') return null;
  return builtInImageExtractor(backbone, size);
}
