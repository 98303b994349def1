/**
 * The built-in text-image model (`text-image-v1`) and the TensorFlow.js backend selection. The core
 * entry already trains and loads this kind (imported on first use); import this entry for its
 * class, its parameters, or to pick the backend yourself.
 *
 * @module rakuten-pipeline/models/text-image
 */
export {
  DEFAULT_TEXT_IMAGE_PARAMS,
  TEXT_IMAGE_KIND,
  TextImageClassifier,
  TextImageModel,
  textImageModel,
  type TextImageModelFactory,
  type TextImageParams,
} from './text-image-model.js';
export { BACKEND_ENV, BACKEND_ORDER, initBackend, type BackendName, type InitBackendOptions } from './backend.js';
