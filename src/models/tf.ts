/**
 * The TensorFlow.js API this package uses: tfjs-core (tensors, ops, `io`, optimisers), tfjs-layers
 * (Keras-style models) and the plain-JS `cpu` backend, which registers itself on import. Not the
 * `@tensorflow/tfjs` umbrella: its converter, data and WebGL packages (about 190 MB installed,
 * with a core-js install script) serve nothing here.
 *
 * @module
 */
import '@tensorflow/tfjs-backend-cpu';

export * from '@tensorflow/tfjs-core';
export * from '@tensorflow/tfjs-layers';
