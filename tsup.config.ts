import { readFileSync } from 'node:fs';
import { defineConfig } from 'tsup';

const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };

// One entry per concern; the ones with heavy dependencies are separate, so that the core entry
// loads none of them. ESM only, with shared chunks: every entry (and the job worker) uses one
// copy of each module, so classes and registries are shared across entries. CommonJS projects
// load it with require() (Node >= 20.19 requires ES modules without top-level await).
const entry = {
  index: 'src/index.ts',
  http: 'src/http/index.ts',
  'stores-mongodb': 'src/stores/mongodb/index.ts',
  'stores-embedded': 'src/stores/embedded/index.ts',
  'models-text-image': 'src/models/text-image-entry.ts',
  demo: 'src/demo/index.ts',
  testing: 'src/testing/index.ts',
  queue: 'src/queue.ts',
};

export default defineConfig({
  // Flat names: chunks land in dist/ beside the entries, where the worker entries are looked up.
  entry: {
    ...entry,
    cli: 'src/cli/main.ts',
    'job-worker': 'src/http/jobs/worker.ts',
    'mobilenet-worker': 'src/models/mobilenet-worker.ts',
    'demo-image-worker': 'src/demo/image-worker.ts',
    'text-learner-worker': 'src/models/text-learner-worker.ts',
  },
  format: ['esm'],
  dts: { entry },
  splitting: true,
  sourcemap: true,
  clean: true,
  define: { __VERSION__: JSON.stringify(version) },
  target: 'node20',
  platform: 'node',
  shims: true,
  // Optional and native packages stay external: they are resolved at run time. vitest is the
  // optional peer of the testing entry only.
  external: ['@tensorflow/tfjs-node', 'onnxruntime-node', 'better-sqlite3', 'sharp', 'mongodb', 'tsx', 'vitest'],
});
