/**
 * Generations: how a stage's output becomes visible all at once.
 *
 * A stage that rewrites a set of collections (a load: the X, Y and test rows; a prepare: the three
 * splits) writes every document under a new *generation* — the stage run's id — and then moves a
 * pointer document in `pipeline_state` to it with one compare-and-set. Readers resolve the pointer
 * first and read only that generation, so they see either the whole previous output or the whole
 * new one, never a mix; an interrupted run leaves its partial generation unreferenced, and the next
 * run of the same slot deletes it. Two runs racing: the second commit finds the pointer moved and
 * fails with a {@link GenerationConflictError} instead of overwriting the first.
 *
 * Built only on {@link DocumentCollection}'s portable operations (a generation-prefixed `_id` and
 * `$prefix` ranges on it), so every store driver gets it for free.
 *
 * @module
 */
import { hostname } from 'node:os';
import { COLLECTIONS } from '../collections.js';
import { sha256Hex } from './hash.js';
import type { BaseDocument, DocumentCollection, Filter, FindOptions, Scalar, ScalarKeys, Store, WriteResult } from './types.js';

/** What a generation holds: the loaded data, or the prepared splits. */
export type GenerationSlot = 'data' | 'prepare';

/** The collections each slot versions. */
export const GENERATION_COLLECTIONS: Record<GenerationSlot, readonly string[]> = {
  data: [COLLECTIONS.xTrain, COLLECTIONS.yTrain, COLLECTIONS.xTest],
  prepare: [COLLECTIONS.labeledTrain, COLLECTIONS.labeledVal, COLLECTIONS.labeledTest, COLLECTIONS.prepareStaging],
};

/** The committed generation of a slot, stored in `pipeline_state` under the slot's name. */
export interface GenerationPointer extends BaseDocument {
  /** The slot (`data` or `prepare`). */
  _id: GenerationSlot;
  /** Generation readers use: the id of the run that wrote it. */
  generation: string;
  /** The generation it replaced, kept until the next commit so readers already on it can finish. */
  previous: string | null;
  /** When it was committed (ISO-8601). */
  committedAt: string;
  /** For `prepare`: the data generation the splits were made from. */
  dataGeneration: string | null;
  /** Documents per collection in this generation, as written; readers can check what they read. */
  counts: Record<string, number>;
}

/** The committed generations of a store. */
export interface PipelineState {
  /** Loaded data, `null` before the first completed load. */
  data: GenerationPointer | null;
  /** Prepared splits, `null` before the first completed prepare. */
  prepare: GenerationPointer | null;
}

/** Another run committed the same slot while this one was writing; this one's output was discarded. */
export class GenerationConflictError extends Error {
  /** The generation that won. */
  readonly committed: string;
  /** Creates the error. */
  constructor(slot: GenerationSlot, mine: string, committed: string) {
    super(
      `Another ${slot === 'data' ? 'load' : 'prepare'} (${committed}) committed while ${mine} was running; ` +
        `its result stays current and this run's output was discarded`,
    );
    this.name = 'GenerationConflictError';
    this.committed = committed;
  }
}

function stateCollection(store: Store): DocumentCollection<GenerationPointer> {
  return store.documents.collection<GenerationPointer>(COLLECTIONS.state);
}

/** The committed generation of each slot. */
export async function pipelineState(store: Store): Promise<PipelineState> {
  const state = stateCollection(store);
  return { data: (await state.get('data')) ?? null, prepare: (await state.get('prepare')) ?? null };
}

/**
 * One collection seen through one generation: documents keep their own `_id`s, stored as
 * `<generation>/<_id>`, so a generation's documents are one range of the primary key.
 */
class GenerationView<T extends BaseDocument> implements DocumentCollection<T> {
  private readonly prefix: string;

  constructor(
    private readonly base: DocumentCollection<BaseDocument>,
    generation: string,
  ) {
    // A short key per generation keeps ids (and the primary-key index) small: 48 bits of a hash,
    // among the few generations a collection holds at once.
    this.prefix = `${sha256Hex(generation).slice(0, 12)}/`;
  }

  get name(): string {
    return this.base.name;
  }

  private wrap(doc: T): BaseDocument {
    return { ...doc, _id: this.prefix + doc._id };
  }

  private unwrap(doc: BaseDocument): T {
    doc._id = doc._id.slice(this.prefix.length);
    return doc as T;
  }

  private scoped(filter: Filter<T> | undefined): Filter<BaseDocument> {
    const out: Record<string, unknown> = { ...(filter ?? {}) };
    const id = out['_id'] as Scalar | { $in: readonly Scalar[] } | undefined;
    if (id === undefined) {
      // The generation is the `_id` prefix: a range on the primary key, no index of its own.
      out['_id'] = { $prefix: this.prefix };
    } else {
      // Prefixed ids name the generation already (ids of generations hold no "/").
      out['_id'] =
        typeof id === 'object' && id !== null ? { $in: id.$in.map((v) => this.prefix + String(v)) } : this.prefix + String(id);
    }
    return out as Filter<BaseDocument>;
  }

  async upsertMany(docs: readonly T[]): Promise<WriteResult> {
    return this.base.upsertMany(docs.map((d) => this.wrap(d)));
  }

  async insertIfAbsent(doc: T): Promise<boolean> {
    return this.base.insertIfAbsent(this.wrap(doc));
  }

  async compareAndSet(id: string, expected: Filter<T>, next: T): Promise<boolean> {
    return this.base.compareAndSet(this.prefix + id, this.scoped(expected), this.wrap(next));
  }

  async get(id: string): Promise<T | undefined> {
    const doc = await this.base.get(this.prefix + id);
    return doc ? this.unwrap(doc) : undefined;
  }

  async *find(filter?: Filter<T>, options?: FindOptions<T>): AsyncIterable<T> {
    for await (const doc of this.base.find(this.scoped(filter), options as unknown as FindOptions<BaseDocument>)) yield this.unwrap(doc);
  }

  async count(filter?: Filter<T>): Promise<number> {
    return this.base.count(this.scoped(filter));
  }

  async deleteMany(filter?: Filter<T>): Promise<number> {
    return this.base.deleteMany(this.scoped(filter));
  }

  async ensureIndex(fields: readonly ScalarKeys<T>[], options?: { readonly unique?: boolean }): Promise<void> {
    await this.base.ensureIndex(fields as readonly ScalarKeys<BaseDocument>[], options);
  }
}

/** Collection `name` seen through `generation`. */
export function generationCollection<T extends BaseDocument>(store: Store, name: string, generation: string): DocumentCollection<T> {
  return new GenerationView<T>(store.documents.collection<BaseDocument>(name), generation);
}

/** Deletes every document of `generation` in the slot's collections; returns how many. */
export async function dropGeneration(store: Store, slot: GenerationSlot, generation: string): Promise<number> {
  let n = 0;
  for (const name of GENERATION_COLLECTIONS[slot]) n += await generationCollection(store, name, generation).deleteMany();
  return n;
}

/**
 * Writes one new generation of a slot and commits it. Create it with {@link GenerationWriter.begin}
 * before reading what the run depends on, write through {@link GenerationWriter.collection}, then
 * {@link GenerationWriter.commit} or {@link GenerationWriter.discard}.
 */
export class GenerationWriter {
  private constructor(
    private readonly store: Store,
    /** The slot written. */
    readonly slot: GenerationSlot,
    /** The generation written (the run's id). */
    readonly generation: string,
    /** The pointer as it was when the run began (`null`: nothing committed yet). */
    readonly base: GenerationPointer | null,
  ) {}

  /** Starts writing generation `generation` of `slot`. */
  static async begin(store: Store, slot: GenerationSlot, generation: string): Promise<GenerationWriter> {
    if (generation.includes('/')) throw new TypeError(`Generation ids may not contain "/": ${generation}`);
    const base = (await stateCollection(store).get(slot)) ?? null;
    return new GenerationWriter(store, slot, generation, base);
  }

  /** Collection `name` of the generation being written. */
  collection<T extends BaseDocument>(name: string): DocumentCollection<T> {
    return generationCollection<T>(this.store, name, this.generation);
  }

  /** Collection `name` of the generation committed when the run began, if any. */
  previous<T extends BaseDocument>(name: string): DocumentCollection<T> | undefined {
    return this.base ? generationCollection<T>(this.store, name, this.base.generation) : undefined;
  }

  /**
   * Makes the generation current with one compare-and-set of the slot's pointer. Throws a
   * {@link GenerationConflictError} (after discarding this generation) when another run of the
   * slot committed since {@link GenerationWriter.begin}.
   */
  async commit(details: { counts: Record<string, number>; dataGeneration?: string | null }): Promise<GenerationPointer> {
    const state = stateCollection(this.store);
    const next: GenerationPointer = {
      _id: this.slot,
      generation: this.generation,
      previous: this.base?.generation ?? null,
      committedAt: new Date().toISOString(),
      dataGeneration: details.dataGeneration ?? null,
      counts: details.counts,
    };
    const won = this.base
      ? await state.compareAndSet(this.slot, { generation: this.base.generation }, next)
      : await state.insertIfAbsent(next);
    if (!won) {
      const current = await state.get(this.slot);
      await this.discard();
      throw new GenerationConflictError(this.slot, this.generation, current?.generation ?? '?');
    }
    return next;
  }

  /** Deletes what this run wrote (after a failure or a cancellation). */
  async discard(): Promise<void> {
    await dropGeneration(this.store, this.slot, this.generation);
  }
}

/** Who runs a stage: enough to tell, from another process, whether it is still alive. */
export interface RunOwner {
  /** Host name. */
  host: string;
  /** Process id on that host. */
  pid: number;
}

/** Fields every stage run record has for liveness and garbage collection. */
export interface LiveRun extends BaseDocument {
  /** Outcome so far. */
  status: string;
  /** Process running it. */
  owner?: RunOwner;
  /** Last sign of life while running (ISO-8601). */
  heartbeatAt?: string | null;
  /** Whether its generation's documents were deleted (superseded, failed or interrupted). */
  collected?: boolean;
}

/** A running stage writes its record at least this often. */
export const HEARTBEAT_MS = 5_000;
/** A running record silent for this long belongs to a dead process. */
export const STALE_RUN_MS = 60_000;

/** The current process as a run owner. */
export function currentOwner(): RunOwner {
  return { host: hostname(), pid: process.pid };
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Whether a run recorded as `running` can no longer finish: on this host, its process is gone; on
 * another host, its heartbeat is older than {@link STALE_RUN_MS}.
 */
export function isInterrupted(run: LiveRun, now = Date.now()): boolean {
  if (run.status !== 'running') return false;
  const gone = ownerGone(run.owner);
  if (gone !== undefined) return gone;
  const beat = Date.parse(run.heartbeatAt ?? '');
  return Number.isNaN(beat) || now - beat > STALE_RUN_MS;
}

/**
 * Whether the owning process has ended: known only on this host, where the process table is the
 * truth (a live process may be busy and silent for long); `undefined` for another host's process.
 */
export function ownerGone(owner: RunOwner | undefined): boolean | undefined {
  if (!owner || owner.host !== hostname()) return undefined;
  return owner.pid !== process.pid && !processAlive(owner.pid);
}

/** The runs of `runs` recorded as running whose process is still alive. */
export async function* liveRuns<R extends LiveRun>(runs: DocumentCollection<R>): AsyncIterable<R> {
  for await (const run of runs.find({ status: 'running' } as unknown as Filter<R>)) if (!isInterrupted(run)) yield run;
}

/**
 * Keeps a run record current: saves are serialised (a slow store never applies an older state
 * after a newer one) and a timer stamps the heartbeat while the run lasts.
 */
export class RunRecorder<T extends LiveRun> {
  private chain: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private stored = false;
  private revoked = false;

  /** Records `run` in `collection`. */
  constructor(
    private readonly collection: DocumentCollection<T>,
    /** The record; mutate it, then {@link RunRecorder.save}. */
    readonly run: T,
  ) {
    run.owner = currentOwner();
  }

  /** Saves the record now (and starts the heartbeat on the first call). */
  save(): Promise<void> {
    this.timer ??= setInterval(() => void this.save().catch(() => undefined), HEARTBEAT_MS).unref();
    this.run.heartbeatAt = new Date().toISOString();
    const snapshot = structuredClone(this.run);
    const next = this.chain.then(async () => {
      if (!this.stored) {
        await this.collection.upsertMany([snapshot]);
        this.stored = true;
        return;
      }
      // Only over a `running` record: another process may have judged this run dead (marked it
      // `interrupted` and deleted its output); a heartbeat must not bring it back to life.
      const kept = await this.collection.compareAndSet(snapshot._id, { status: 'running' } as unknown as Filter<T>, snapshot);
      if (!kept) this.revoked = true;
    });
    this.chain = next.catch(() => undefined);
    return next;
  }

  /**
   * Throws when another process judged this run dead (so its output may be gone): call it right
   * before committing.
   */
  async assertAlive(): Promise<void> {
    await this.save();
    const stored = await this.collection.get(this.run._id);
    if (this.revoked || stored?.status !== 'running') {
      throw new Error(
        `${this.run._id} was judged dead by another process (no sign of life for a minute) and its output may have been ` +
          'collected: not committed, run it again',
      );
    }
  }

  /** Stops the heartbeat and saves the final record. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    this.run.heartbeatAt = new Date().toISOString();
    const snapshot = structuredClone(this.run);
    await this.chain;
    await this.collection.upsertMany([snapshot]);
  }
}

/**
 * Deletes the documents of every generation of `slot` that no reader can need any more: not the
 * committed one nor the one it replaced, not one a running stage writes or reads (`protect`).
 * Runs whose process died are marked `interrupted` on the way. Returns the generations collected.
 */
export async function collectGenerations<R extends LiveRun>(
  store: Store,
  slot: GenerationSlot,
  runs: DocumentCollection<R>,
  protect: ReadonlySet<string> = new Set(),
): Promise<string[]> {
  const pointer = (await stateCollection(store).get(slot)) ?? null;
  const keep = new Set<string>(protect);
  if (pointer) keep.add(pointer.generation);
  if (pointer?.previous) keep.add(pointer.previous);
  const collected: string[] = [];
  const candidates: R[] = [];
  for await (const run of runs.find({ collected: null } as Filter<R>)) candidates.push(run);
  for (const run of candidates) {
    if (keep.has(run._id)) continue;
    let record: R = run;
    if (run.status === 'running') {
      if (!isInterrupted(run)) continue;
      record = { ...run, status: 'interrupted', errors: [...((run as { errors?: string[] }).errors ?? []), 'process ended while running'] };
      // Mark it first, and only if its heartbeat did not move meanwhile: a run that was merely
      // late then finds its record changed and refuses to commit (RunRecorder.assertAlive).
      const marked = await runs.compareAndSet(run._id, { status: 'running', heartbeatAt: run.heartbeatAt ?? null } as Filter<R>, record);
      if (!marked) continue;
    }
    await dropGeneration(store, slot, run._id);
    await runs.compareAndSet(run._id, { status: record.status } as unknown as Filter<R>, { ...record, collected: true });
    collected.push(run._id);
  }
  return collected;
}
