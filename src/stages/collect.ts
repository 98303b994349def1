/**
 * Garbage collection of original images that no committed generation refers to any more (left by
 * failed or killed loads, or by rows gone from the source).
 *
 * @module
 */
import { COLLECTIONS, RAW_IMAGE_PREFIX } from '../collections.js';
import { liveRuns, pipelineState, type LiveRun } from '../stores/generations.js';
import type { Store } from '../stores/types.js';
import { dataView } from './views.js';

/** Whether any load or prepare other than `self` is running (its images are not referenced yet). */
async function othersRunning(store: Store, self: string): Promise<boolean> {
  for (const name of [COLLECTIONS.runs, COLLECTIONS.pipelineMetadata]) {
    for await (const run of liveRuns(store.documents.collection<LiveRun>(name))) if (run._id !== self) return true;
  }
  return false;
}

/**
 * Deletes the original images (`raw/`) that neither the committed data generation nor the one it
 * replaced refers to: those of rows gone from the source, or stored by a load that failed or was
 * killed. Skipped while another load or prepare runs. `committedKeys`: the image keys of the
 * committed generation when the caller knows them (the load that just committed it), which saves
 * reading its rows. Returns how many were deleted.
 */
export async function collectRawImages(store: Store, self: string, committedKeys?: ReadonlySet<string>): Promise<number> {
  const started = new Date().toISOString();
  if (await othersRunning(store, self)) return 0;
  const pointer = (await pipelineState(store)).data;
  if (!pointer) return 0;
  // Candidates first: on a store where nothing changed, no row needs to be read at all.
  const candidates: string[] = [];
  for await (const info of store.images.list({ prefix: RAW_IMAGE_PREFIX })) {
    // Stored since this collection began: a run that started meanwhile may need it.
    if (info.storedAt < started && !committedKeys?.has(info.key)) candidates.push(info.key);
  }
  if (candidates.length === 0) return 0;
  const referenced = new Set<string>();
  for (const generation of [committedKeys ? null : pointer.generation, pointer.previous]) {
    if (!generation) continue;
    const rows = dataView(store, generation);
    for (const coll of [rows.xTrain, rows.xTest]) for await (const row of coll.find()) if (row.image) referenced.add(row.image);
  }
  const stale = candidates.filter((key) => !referenced.has(key));
  // Checked again now that the listing is done: a load that started meanwhile stores images no
  // committed row refers to yet.
  if (stale.length === 0 || (await othersRunning(store, self))) return 0;
  for (const key of stale) await store.images.delete(key);
  return stale.length;
}
