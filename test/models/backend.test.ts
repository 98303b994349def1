import { afterEach, describe, expect, it } from 'vitest';
import { BACKEND_ENV, initBackend, tf, wasmDirectory } from '../../src/models/backend.js';
import { existsSync } from 'node:fs';
import path from 'node:path';

const withoutTfjsNode = (name: string): Promise<unknown> =>
  name === '@tensorflow/tfjs-node' ? Promise.reject(new Error(`Cannot find package '${name}'`)) : import(name);

describe('initBackend', () => {
  const saved = process.env[BACKEND_ENV];
  afterEach(() => {
    if (saved === undefined) delete process.env[BACKEND_ENV];
    else process.env[BACKEND_ENV] = saved;
  });

  it('finds the wasm binaries inside node_modules', () => {
    expect(existsSync(path.join(wasmDirectory(), 'tfjs-backend-wasm-simd.wasm'))).toBe(true);
  });

  it('falls back to wasm without tfjs-node, and computes', async () => {
    expect(await initBackend('tensorflow', { importModule: withoutTfjsNode })).toBe('wasm');
    const y = tf.tidy(() => tf.matMul(tf.tensor2d([[1, 2]]), tf.tensor2d([[3], [4]])).dataSync()[0]);
    expect(y).toBe(11);
  });

  it('falls back to cpu when wasm cannot load either', async () => {
    const nothing = (): Promise<unknown> => Promise.reject(new Error('missing'));
    expect(await initBackend(undefined, { importModule: nothing })).toBe('cpu');
  });

  it('honours the environment variable, and is cached per choice', async () => {
    process.env[BACKEND_ENV] = 'cpu';
    expect(await initBackend()).toBe('cpu');
    process.env[BACKEND_ENV] = 'wasm';
    expect(await initBackend()).toBe('wasm');
    expect(await initBackend()).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
  });
});
