import { openStore, resolveStoreUri } from '../stores/registry.js';
import { StoreNotFoundError } from '../stores/errors.js';
import type { Store } from '../stores/types.js';
import type { ProgressListener } from '../progress.js';
import { progressBars } from './output.js';

/** How a command opens its store. */
export interface StoreUse {
  /** Create the store when missing: only for commands that fill one (`load`, `run`). Default false. */
  create?: boolean;
}

// SQLite's read-only errors do not say which file; EACCES/EROFS from the image files do.
const READ_ONLY = /^SQLITE_(READONLY|CANTOPEN)/;

/** Opens the store named by `--store`, with messages that name the flag and the path. */
async function open(uri: string | undefined, use: StoreUse): Promise<Store> {
  if (uri !== undefined && uri.trim() === '') throw new Error('--store: empty; give a folder path or mongodb://host:port/db');
  try {
    return await openStore(uri, { create: use.create ?? false });
  } catch (e) {
    if (e instanceof StoreNotFoundError) throw new Error(`${e.message}: check --store (\`rakuten-pipeline load\` creates a store)`, { cause: e });
    const message = (e as Error).message;
    throw new Error(message.includes(resolveStoreUri(uri)) ? message : `cannot open the store ${resolveStoreUri(uri)}: ${message}`, { cause: e });
  }
}

/** Runs `work` with a store, progress bars and Ctrl-C cancellation; closes everything after. */
export async function withStore<T>(
  uri: string | undefined,
  work: (store: Store, progress: ProgressListener, signal: AbortSignal) => Promise<T>,
  use: StoreUse = {},
): Promise<T> {
  const store = await open(uri, use);
  const bars = progressBars();
  const controller = new AbortController();
  const onSignal = () => controller.abort(new Error('interrupted'));
  process.once('SIGINT', onSignal);
  try {
    return await work(store, bars.listener, controller.signal);
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && READ_ONLY.test(code)) throw new Error(`the store at ${store.uri} cannot be written: ${(e as Error).message}`, { cause: e });
    throw e;
  } finally {
    bars.stop();
    process.off('SIGINT', onSignal);
    await store.close();
  }
}
