import { readFileSync } from 'node:fs';
import { defineConfig } from 'tsup';

const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };

export default defineConfig({
  entry: { index: 'src/index.ts', cli: 'src/cli/main.ts', 'job-worker': 'src/http/jobs/worker.ts' },
  format: ['esm', 'cjs'],
  dts: { entry: { index: 'src/index.ts' } },
  sourcemap: true,
  clean: true,
  define: { __VERSION__: JSON.stringify(version) },
  target: 'node20',
  platform: 'node',
  shims: true,
  splitting: false,
  // Optional and native packages stay external: they are resolved at run time.
  external: ['@tensorflow/tfjs-node', 'better-sqlite3', 'sharp', 'mongodb'],
});
