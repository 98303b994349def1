import { readFileSync } from 'node:fs';
import path from 'node:path';
import { defineConfig } from 'tsup';

const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };

/**
 * The testing entry imports the rest of the package through one module, src/testing/root.ts; in
 * the build that module is the package's own root entry, so that `rakuten-pipeline/testing`
 * shares the root's classes (IntegrityError, ...) and memory stores instead of bundling copies.
 */
const testingKitUsesRoot = {
  name: 'testing-kit-uses-root',
  setup(build: { onResolve(options: { filter: RegExp }, callback: (args: { path: string; importer: string }) => { path: string; external: boolean } | undefined): void }) {
    const testingDir = path.resolve('src/testing');
    build.onResolve({ filter: /^\.\/root\.js$/ }, (args) =>
      path.dirname(args.importer) === testingDir ? { path: 'rakuten-pipeline', external: true } : undefined,
    );
  },
};

export default defineConfig({
  entry: {
    index: 'src/index.ts',
    cli: 'src/cli/main.ts',
    'job-worker': 'src/http/jobs/worker.ts',
    testing: 'src/testing/index.ts',
  },
  format: ['esm', 'cjs'],
  dts: { entry: { index: 'src/index.ts', testing: 'src/testing/index.ts' } },
  sourcemap: true,
  clean: true,
  define: { __VERSION__: JSON.stringify(version) },
  target: 'node20',
  platform: 'node',
  shims: true,
  splitting: false,
  // Optional and native packages stay external: they are resolved at run time. vitest is the
  // optional peer of the testing entry only.
  external: ['@tensorflow/tfjs-node', 'better-sqlite3', 'sharp', 'mongodb', 'tsx', 'vitest'],
  // ESM-only with a default export: required by the CommonJS build, its namespace would stand in
  // for the function (esbuild's interop), so it is bundled.
  noExternal: ['p-limit'],
  esbuildPlugins: [testingKitUsesRoot],
});
