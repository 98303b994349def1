// Builds the web console (ui/src, Preact) into dist/ui: index.html, assets/app.js and
// assets/app.css, minified. Run after tsup, whose clean step empties dist/. Served at /ui/ by the
// HTTP API (src/http/routes/ui.ts); asset URLs are relative, so it works under any prefix.
import { copyFile, mkdir, readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = path.join(root, 'dist', 'ui');
const LIMIT = 150 * 1024;

await rm(out, { recursive: true, force: true });
await mkdir(path.join(out, 'assets'), { recursive: true });
const { version } = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8'));
await build({
  entryPoints: [path.join(root, 'ui', 'src', 'main.tsx')],
  outfile: path.join(out, 'assets', 'app.js'),
  tsconfig: path.join(root, 'ui', 'tsconfig.json'),
  bundle: true,
  minify: true,
  format: 'esm',
  target: ['es2022', 'chrome110', 'firefox110', 'safari16'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  define: { __VERSION__: JSON.stringify(version) },
  banner: { js: '/*! rakuten-pipeline console; includes Preact (MIT, (c) Jason Miller) */' },
  legalComments: 'none',
  logLevel: 'warning',
});
await copyFile(path.join(root, 'ui', 'index.html'), path.join(out, 'index.html'));

let total = 0;
for (const file of ['index.html', 'assets/app.js', 'assets/app.css']) {
  const { size } = await stat(path.join(out, file));
  total += size;
  console.log(`dist/ui/${file}: ${(size / 1024).toFixed(1)} KiB`);
}
if (total > LIMIT) {
  console.error(`build-ui: the console is ${(total / 1024).toFixed(1)} KiB, over the ${LIMIT / 1024} KiB budget`);
  process.exit(1);
}
