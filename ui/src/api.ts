// The console's only way to the server: fetch() on the API under the prefix it is served from.
//
// The API key lives in sessionStorage (this tab, until it closes) and nowhere else: not in
// localStorage, cookies, the URL or the page. It is asked for when an action that changes state
// is first made, or when a read is refused with 401 (a server with protectReads), and asked again
// when the server calls it invalid.

const STORAGE_KEY = 'rakuten-pipeline.apiKey';

/**
 * The API's prefix P: everything before `/ui` in the console's own path (`/api/ui/` -> `/api`,
 * `/ui/` -> ``).
 */
export function basePath(pathname: string): string {
  const match = /^(.*)\/ui(?:\/(?:index\.html)?)?$/.exec(pathname);
  return match ? (match[1] ?? '') : '';
}

/** The API prefix of this page. */
export const BASE = basePath(location.pathname);

/** A URL of the API (path starting with `/`). */
export function apiUrl(path: string): string {
  return `${BASE}${path}`;
}

// --- the key -------------------------------------------------------------------------------

const keyListeners = new Set<() => void>();

/** The key of this browser session, if one was given. */
export function currentKey(): string | null {
  try {
    return sessionStorage.getItem(STORAGE_KEY);
  } catch {
    return null;
  }
}

function storeKey(key: string | null): void {
  try {
    if (key === null) sessionStorage.removeItem(STORAGE_KEY);
    else sessionStorage.setItem(STORAGE_KEY, key);
  } catch {
    // Storage refused (private mode quotas): the key is then asked for on each action.
  }
  for (const listener of keyListeners) listener();
}

/** Forgets the key (the "Forget key" button; an invalid key). */
export function forgetKey(): void {
  storeKey(null);
}

/** Calls `listener` whenever the key is set or forgotten; returns the unsubscribe function. */
export function onKeyChange(listener: () => void): () => void {
  keyListeners.add(listener);
  return () => keyListeners.delete(listener);
}

/** Shows the key dialog with a reason; resolves to the key typed, or null when cancelled. */
export type KeyAsker = (reason: string) => Promise<string | null>;
let asker: KeyAsker | null = null;
let asking: Promise<string | null> | null = null;

/** Installs the dialog that asks for the key (the KeyDialog component). */
export function setKeyAsker(next: KeyAsker | null): void {
  asker = next;
}

/** Asks for a key once, however many requests need it at the same time; stores it. */
export function askForKey(reason: string): Promise<string | null> {
  if (!asker) return Promise.resolve(null);
  const ask = asker;
  asking ??= ask(reason)
    .then((key) => {
      const trimmed = key?.trim() ?? '';
      if (!trimmed) return null;
      storeKey(trimmed);
      return trimmed;
    })
    .finally(() => {
      asking = null;
    });
  return asking;
}

// --- requests ------------------------------------------------------------------------------

/** An answer other than 2xx, with the API's error message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** Options of {@link request}. */
export interface RequestOptions {
  /** Sent as JSON. */
  json?: unknown;
  /** Sent as multipart/form-data. */
  form?: FormData;
  /** The route changes state: a key is asked for before the first call. */
  write?: boolean;
  /** Extra headers. */
  headers?: Record<string, string>;
  /** Aborts the request. */
  signal?: AbortSignal;
}

async function errorOf(response: Response): Promise<ApiError> {
  const text = await response.text().catch(() => '');
  try {
    const body = JSON.parse(text) as { message?: unknown; code?: unknown };
    if (typeof body.message === 'string') return new ApiError(response.status, typeof body.code === 'string' ? body.code : '', body.message);
  } catch {
    // Not JSON: the status says it.
  }
  return new ApiError(response.status, '', `${response.status} ${response.statusText}`.trim());
}

/** Whether a 401 is worth asking a key for (not "this server has no keys at all"). */
function keyMayHelp(error: ApiError): boolean {
  return !/no API keys configured/i.test(error.message);
}

/**
 * One API call with the session's key; a 401 asks for a key (again) and retries. Answers the
 * Response (2xx); throws {@link ApiError} otherwise, or when no key is given.
 */
export async function send(method: string, path: string, options: RequestOptions = {}): Promise<Response> {
  let key = currentKey();
  if (options.write && !key) {
    key = await askForKey('This action changes the server’s state: it needs an API key.');
    if (!key) throw new ApiError(401, 'NO_KEY', 'no API key given: the action was not sent');
  }
  for (let attempt = 0; ; attempt++) {
    const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
    if (key) headers['authorization'] = `Bearer ${key}`;
    let body: BodyInit | undefined;
    if (options.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.json);
    } else if (options.form) body = options.form;
    const response = await fetch(apiUrl(path), { method, headers, credentials: 'omit', cache: 'no-store', ...(body !== undefined ? { body } : {}), ...(options.signal ? { signal: options.signal } : {}) });
    if (response.ok) return response;
    const error = await errorOf(response);
    if (response.status !== 401 || !keyMayHelp(error) || attempt >= 3) throw error;
    if (/invalid API key/i.test(error.message)) forgetKey();
    key = await askForKey(key ? `The server refused the key: ${error.message}. Enter another one.` : `The server asks for a key: ${error.message}.`);
    if (!key) throw error;
  }
}

/** A call answered with JSON. */
export async function request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
  const response = await send(method, path, options);
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}

/** GET answered with JSON. */
export function get<T>(path: string, signal?: AbortSignal): Promise<T> {
  return request<T>('GET', path, signal ? { signal } : {});
}

/** A state-changing call (a key is asked for first). */
export function write<T>(method: 'POST' | 'DELETE', path: string, json?: unknown): Promise<T> {
  return request<T>(method, path, { write: true, ...(json !== undefined ? { json } : {}) });
}

/** An image (or any bytes) of the API as a blob: URL (so that a key can be sent); revoke it when done. */
export async function blobUrl(path: string, signal?: AbortSignal): Promise<string> {
  const response = await send('GET', path, { headers: { accept: 'image/*' }, ...(signal ? { signal } : {}) });
  return URL.createObjectURL(await response.blob());
}

/** The message of anything thrown. */
export function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
