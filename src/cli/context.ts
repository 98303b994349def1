import { openStore } from '../stores/registry.js';
import type { Store } from '../stores/types.js';
import type { ProgressListener } from '../progress.js';
import { progressBars } from './output.js';

/** Runs `work` with a store, progress bars and Ctrl-C cancellation; closes everything after. */
export async function withStore<T>(
  uri: string | undefined,
  work: (store: Store, progress: ProgressListener, signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const store = await openStore(uri);
  const bars = progressBars();
  const controller = new AbortController();
  const onSignal = () => controller.abort(new Error('interrupted'));
  process.once('SIGINT', onSignal);
  try {
    return await work(store, bars.listener, controller.signal);
  } finally {
    bars.stop();
    process.off('SIGINT', onSignal);
    await store.close();
  }
}

