// Small shared state: the route, async loads, the category names, the API key's presence.
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { currentKey, get, onKeyChange } from './api.js';
import type { Category } from './types.js';

/** The page named by the location hash (`#/models` -> `models`). */
export function useRoute(): string {
  const read = () => location.hash.replace(/^#\/?/, '').split(/[/?]/)[0] ?? '';
  const [route, setRoute] = useState(read);
  useEffect(() => {
    const listener = () => setRoute(read());
    window.addEventListener('hashchange', listener);
    return () => window.removeEventListener('hashchange', listener);
  }, []);
  return route;
}

/** State of a load. */
export interface Loaded<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload: () => void;
}

/** Runs `load` on mount and when `deps` change (the older answer is dropped); `reload` runs it again. */
export function useLoad<T>(load: (signal: AbortSignal) => Promise<T>, deps: readonly unknown[] = []): Loaded<T> {
  const [state, setState] = useState<{ data: T | undefined; error: unknown; loading: boolean }>({ data: undefined, error: undefined, loading: true });
  const [tick, setTick] = useState(0);
  const latest = useRef(load);
  latest.current = load;
  useEffect(() => {
    const controller = new AbortController();
    setState((s) => ({ ...s, loading: true }));
    latest.current(controller.signal).then(
      (data) => {
        if (!controller.signal.aborted) setState({ data, error: undefined, loading: false });
      },
      (error: unknown) => {
        if (!controller.signal.aborted) setState((s) => ({ data: s.data, error, loading: false }));
      },
    );
    return () => controller.abort();
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { ...state, reload };
}

let categories: Map<number, Category> | undefined;
let loading: Promise<Map<number, Category>> | undefined;

/** The 27 categories by code (GET /categories, once); empty until they arrive or when the server has no such route. */
export function useCategories(): Map<number, Category> {
  const [value, setValue] = useState<Map<number, Category>>(categories ?? new Map());
  useEffect(() => {
    if (categories) return;
    loading ??= get<Category[]>('/categories').then(
      (list) => (categories = new Map(list.map((c) => [c.prdtypecode, c]))),
      () => new Map<number, Category>(),
    );
    let live = true;
    void loading.then((map) => live && setValue(map));
    return () => {
      live = false;
    };
  }, []);
  return value;
}

/** `2583 — Pool and garden` (the code alone when its name is unknown). */
export function categoryLabel(categories: Map<number, Category>, code: number | string | null | undefined, fallback?: string | null): string {
  if (code === null || code === undefined) return '–';
  const name = categories.get(Number(code))?.en ?? fallback;
  return name ? `${code} — ${name}` : String(code);
}

/** Whether this session holds an API key (follows "Forget key" and the dialog). */
export function useHasKey(): boolean {
  const [has, setHas] = useState(() => currentKey() !== null);
  useEffect(() => onKeyChange(() => setHas(currentKey() !== null)), []);
  return has;
}

const listeners = new Map<string, Set<() => void>>();

/** Tells whoever listens that something changed (`models` after a promotion, `jobs` when one finished). */
export function announce(topic: string): void {
  for (const listener of listeners.get(topic) ?? []) listener();
}

/** Calls `listener` on each {@link announce} of `topic` while mounted. */
export function useAnnounced(topic: string, listener: () => void): void {
  const latest = useRef(listener);
  latest.current = listener;
  useEffect(() => {
    const call = () => latest.current();
    const set = listeners.get(topic) ?? new Set();
    listeners.set(topic, set);
    set.add(call);
    return () => set.delete(call);
  }, [topic]);
}
