import type { Pipeline } from '../pipeline/pipeline.js';
import { pluginsFromEnv } from '../pipeline/plugins.js';
import type { PreprocessorOptions } from '../stages/preprocess/preprocessor.js';
import { resolveStoreUri } from '../stores/registry.js';
import { StoreNotFoundError } from '../stores/errors.js';
import { redactUri } from '../stores/uri.js';
import type { ProgressListener } from '../progress.js';
import { progressBars } from './output.js';

/** How a command opens its store. */
export interface StoreUse {
  /** Create the store when missing: only for commands that fill one (`load`, `run`). Default false. */
  create?: boolean;
}

// SQLite's read-only errors do not say which file; EACCES/EROFS from the image files do.
const READ_ONLY = /^SQLITE_(READONLY|CANTOPEN)/;

/** Plugin modules of this command line: `--plugin` (global, repeatable), else `$RAKUTEN_PLUGINS`. */
let pluginSpecifiers: string[] | undefined;

/** Sets the plugins `--plugin` named (called by the program before each command). */
export function setCliPlugins(plugins: readonly string[] | undefined): void {
  pluginSpecifiers = plugins?.length ? [...plugins] : undefined;
}

/** The plugin modules of this command line. */
export function cliPlugins(): string[] {
  return pluginSpecifiers ?? pluginsFromEnv();
}

/** What a command's pipeline is built from. */
export interface PipelineUse extends StoreUse {
  /** Preprocessing of `prepare` (`--image-size`). */
  preprocessing?: PreprocessorOptions;
}

/** Builds the pipeline on the store named by `--store`, with messages that name the flag and the path. */
async function open(uri: string | undefined, use: PipelineUse): Promise<Pipeline> {
  if (uri !== undefined && uri.trim() === '') throw new Error('--store: empty; give a folder path or mongodb://host:port/db');
  try {
    // The pipeline (and what it loads) is imported when a command runs, not for `--help`.
    const { createPipeline } = await import('../pipeline/pipeline.js');
    return await createPipeline({
      ...(uri !== undefined ? { store: uri } : {}),
      create: use.create ?? false,
      plugins: cliPlugins(),
      ...(use.preprocessing ? { preprocessing: use.preprocessing } : {}),
    });
  } catch (e) {
    if (e instanceof StoreNotFoundError) throw new Error(`${e.message}: check --store (\`rakuten-pipeline load\` creates a store)`, { cause: e });
    const message = (e as Error).message;
    const shown = redactUri(resolveStoreUri(uri));
    throw new Error(message.includes(shown) || message.startsWith('plugin ') ? message : `cannot open the store ${shown}: ${message}`, { cause: e });
  }
}

/** Runs `work` on a pipeline, with progress bars and Ctrl-C cancellation; closes everything after. */
export async function withPipeline<T>(
  uri: string | undefined,
  work: (pipeline: Pipeline, progress: ProgressListener, signal: AbortSignal) => Promise<T>,
  use: PipelineUse = {},
): Promise<T> {
  const pipeline = await open(uri, use);
  const bars = progressBars();
  const controller = new AbortController();
  const onSignal = () => controller.abort(new Error('interrupted'));
  process.once('SIGINT', onSignal);
  try {
    return await work(pipeline, bars.listener, controller.signal);
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && READ_ONLY.test(code)) throw new Error(`the store at ${pipeline.store.uri} cannot be written: ${(e as Error).message}`, { cause: e });
    throw e;
  } finally {
    bars.stop();
    process.off('SIGINT', onSignal);
    await pipeline.close();
  }
}
