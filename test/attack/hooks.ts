// Test helper for the attack suite: a view of a store whose calls can be intercepted, so that
// races can be replayed deterministically (another run's step happens exactly between two steps).
import type { BaseDocument, DocumentCollection, ImageFilter, ImageInfo, Store } from '../../src/stores/types.js';

export interface Hooks {
  /** Before `upsertMany` on collection `name` starts (a slow write, say). */
  beforeUpsert?: (name: string, docs: readonly BaseDocument[]) => Promise<void> | void;
  /** Before `compareAndSet(id, expected, next)` on collection `name` starts. */
  beforeCompareAndSet?: (name: string, id: string, next: BaseDocument) => Promise<void> | void;
  /** After `upsertMany` on collection `name` returned. */
  afterUpsert?: (name: string, docs: readonly BaseDocument[]) => Promise<void> | void;
  /** Before `images.list` starts. */
  beforeList?: (filter: ImageFilter | undefined) => Promise<void> | void;
  /** Before `images.delete(key)`. */
  beforeDelete?: (key: string) => Promise<void> | void;
}

/** `store` with `hooks` called around some of its operations (everything else passes through). */
export function hookStore(store: Store, hooks: Hooks): Store {
  const documents = {
    collection<T extends BaseDocument>(name: string): DocumentCollection<T> {
      const base = store.documents.collection<T>(name);
      return new Proxy(base, {
        get(target, prop, receiver) {
          if (prop === 'upsertMany') {
            return async (docs: readonly T[]) => {
              await hooks.beforeUpsert?.(name, docs);
              const r = await target.upsertMany(docs);
              await hooks.afterUpsert?.(name, docs);
              return r;
            };
          }
          if (prop === 'compareAndSet') {
            return async (id: string, expected: Parameters<typeof target.compareAndSet>[1], next: T) => {
              await hooks.beforeCompareAndSet?.(name, id, next);
              return target.compareAndSet(id, expected, next);
            };
          }
          const v = Reflect.get(target, prop, receiver) as unknown;
          return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
        },
      });
    },
    listCollections: () => store.documents.listCollections(),
  };
  const images = new Proxy(store.images, {
    get(target, prop, receiver) {
      if (prop === 'list') {
        return async function* (filter?: ImageFilter): AsyncIterable<ImageInfo> {
          await hooks.beforeList?.(filter);
          yield* target.list(filter);
        };
      }
      if (prop === 'delete') {
        return async (key: string) => {
          await hooks.beforeDelete?.(key);
          return target.delete(key);
        };
      }
      const v = Reflect.get(target, prop, receiver) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  return { uri: store.uri, driver: store.driver, documents, images, close: () => store.close() };
}
