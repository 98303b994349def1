import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * Starts a worker thread on one of the package's worker entries. Built, the entry is a bundle of
 * its own beside the chunk of the calling code (`dist/<built>`, see tsup.config.ts); from the
 * sources (tests, tsx) it is the TypeScript file, imported through tsx's API: Node 20 does not
 * pass `--import` loaders on to worker threads.
 *
 * @param here - `import.meta.url` of the calling module.
 * @param built - File name of the bundled entry, relative to `dist/`.
 * @param source - Path of the TypeScript entry, relative to the calling module.
 */
export function startEntryWorker(here: string, built: string, source: string, options: WorkerOptions = {}): Worker {
  if (!here.endsWith('.ts')) return new Worker(new URL(`./${built}`, here), options);
  const tsx = pathToFileURL(createRequire(here).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href;
  const entry = new URL(source, here).href;
  const code = `import { tsImport } from ${JSON.stringify(tsx)}; await tsImport(${JSON.stringify(entry)}, ${JSON.stringify(here)});`;
  return new Worker(new URL(`data:text/javascript,${encodeURIComponent(code)}`), options);
}
