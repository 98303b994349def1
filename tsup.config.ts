import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { defineConfig } from 'tsup';

const { version, dependencies } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string; dependencies: Record<string, string> };

/**
 * tsup leaves every runtime dependency external, and the CommonJS build then `require`s it. An
 * ESM-only package (`p-limit`, `entities`, ...) cannot be required on every Node 20 (and the CJS
 * wrapper gets its default export wrong: `(0, import_p_limit.default) is not a function`), so such
 * packages are devDependencies, which tsup bundles into both formats. This check stops a build
 * whose `dependencies` gained one.
 */
function assertRequirableDependencies(): void {
  const require = createRequire(path.resolve('package.json'));
  const esmOnly = Object.keys(dependencies).filter((name) => {
    let resolved: string;
    try {
      resolved = require.resolve(name);
    } catch (error) {
      // No `require` condition in its exports (a package with no main entry, only subpaths, is fine).
      return (error as { code?: string }).code === 'ERR_PACKAGE_PATH_NOT_EXPORTED' && !isSubpathOnly(name);
    }
    if (resolved.endsWith('.mjs')) return true;
    if (!resolved.endsWith('.js')) return false;
    return nearestPackageType(resolved) === 'module';
  });
  if (esmOnly.length > 0) {
    throw new Error(`ESM-only runtime dependencies break the CommonJS build: ${esmOnly.join(', ')}. Make them devDependencies (tsup bundles them).`);
  }
}

function isSubpathOnly(name: string): boolean {
  const pkg = JSON.parse(readFileSync(path.join('node_modules', name, 'package.json'), 'utf8')) as { exports?: unknown };
  return typeof pkg.exports === 'object' && pkg.exports !== null && !('.' in pkg.exports) && Object.keys(pkg.exports).every((key) => key.startsWith('./'));
}

function nearestPackageType(file: string): string | undefined {
  for (let dir = path.dirname(file); dir !== path.dirname(dir); dir = path.dirname(dir)) {
    try {
      return (JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { type?: string }).type ?? 'commonjs';
    } catch {
      // no package.json here: go up
    }
  }
  return undefined;
}

assertRequirableDependencies();

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
  esbuildPlugins: [testingKitUsesRoot],
});
