/**
 * A small typed client of the rakuten-pipeline HTTP API, on Node's own fetch, shared by
 * examples/predict-client.ts and examples/http-pipeline-client.ts (run one of those).
 */
import { parseArgs } from 'node:util';
import type { ProgressEvent } from 'rakuten-pipeline';

/** A job as the job routes answer it. */
export interface Job {
  id: string;
  kind: 'load' | 'prepare' | 'train' | 'evaluate' | 'predict';
  state: 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';
  progress: ProgressEvent | null;
  result: unknown;
  error: { message: string } | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

/** Answer of `POST /predict/product`. */
export interface ProductAnswer {
  prdtypecode: number;
  top: { prdtypecode: number; probability: number }[];
  modelVersion: number;
  usedImage: boolean;
  /** Server-side milliseconds. */
  ms: number;
}

/** One product to classify (`image`: the file's bytes). */
export interface ProductQuery {
  designation: string;
  description?: string;
  image?: Uint8Array;
  topK?: number;
}

/** A non-2xx answer: its status, the API's error code and message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(`HTTP ${status} ${code}: ${message}`);
    this.name = 'ApiError';
  }
}

const FINAL_STATES: readonly Job['state'][] = ['succeeded', 'failed', 'cancelled'];

/** The API at `baseUrl` (e.g. http://127.0.0.1:8000, or http://host/api when mounted under a prefix). */
export class RakutenApiClient {
  readonly baseUrl: string;

  constructor(
    baseUrl: string,
    private readonly apiKey?: string,
  ) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
  }

  /** Calls a route; a JSON body or a FormData (multipart) body; throws {@link ApiError} on non-2xx. */
  async call<T>(method: string, route: string, body?: object | FormData): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.apiKey) headers['authorization'] = `Bearer ${this.apiKey}`;
    let payload: string | FormData | undefined;
    if (body instanceof FormData) payload = body; // fetch sets the multipart boundary itself
    else if (body !== undefined) {
      headers['content-type'] = 'application/json';
      payload = JSON.stringify(body);
    }
    const response = await fetch(`${this.baseUrl}${route}`, { method, headers, ...(payload !== undefined ? { body: payload } : {}) });
    const text = await response.text();
    const json: unknown = text && response.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text;
    if (!response.ok) {
      const err = (json && typeof json === 'object' ? json : {}) as { code?: string; message?: string };
      throw new ApiError(response.status, err.code ?? response.statusText, err.message ?? text.slice(0, 200));
    }
    return json as T;
  }

  /** Classifies one product: JSON (image in base64) or, with `multipart`, a form with the image as a file part. */
  predictProduct(product: ProductQuery, options: { multipart?: boolean } = {}): Promise<ProductAnswer> {
    const { image, ...fields } = product;
    if (!options.multipart) return this.call('POST', '/predict/product', { ...fields, ...(image ? { image: Buffer.from(image).toString('base64') } : {}) });
    const form = new FormData();
    for (const [name, value] of Object.entries(fields)) if (value !== undefined) form.append(name, String(value));
    if (image) form.append('image', new Blob([image], { type: 'image/jpeg' }), 'image.jpg');
    return this.call('POST', '/predict/product', form);
  }

  /**
   * Starts a job (`POST route`, answered 202) and polls `GET /jobs/{id}` until it ends, passing
   * each new progress event on. Resolves with the succeeded job; rejects when it failed or was
   * cancelled. Ctrl-C while waiting cancels the job on the server (`DELETE /jobs/{id}`).
   */
  async runJob(route: string, body: object, options: { onProgress?: (e: ProgressEvent) => void; pollMs?: number } = {}): Promise<Job> {
    let job = await this.call<Job>('POST', route, body);
    const cancel = () => {
      process.stderr.write(`\ncancelling job ${job.id}...\n`);
      this.call('DELETE', `/jobs/${job.id}`).catch(() => undefined);
    };
    process.once('SIGINT', cancel);
    try {
      let seen = '';
      while (!FINAL_STATES.includes(job.state)) {
        await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 500));
        job = await this.call<Job>('GET', `/jobs/${job.id}`);
        const key = JSON.stringify(job.progress);
        if (job.progress && key !== seen) options.onProgress?.(job.progress);
        seen = key;
      }
    } finally {
      process.removeListener('SIGINT', cancel);
    }
    if (job.state !== 'succeeded') throw new Error(`${job.kind} job ${job.id} ${job.state}${job.error ? `: ${job.error.message}` : ''}`);
    return job;
  }
}

/**
 * The client named by the command line (`--url`, `--key`) or the environment
 * (`RAKUTEN_API_URL`, default http://127.0.0.1:8000; `RAKUTEN_API_KEY`), the positional arguments,
 * and the values of the other `--name value` options the example accepts (`extra`).
 */
export function clientFromArgs(extra: readonly string[] = [], argv = process.argv.slice(2)) {
  const options: Record<string, { type: 'string' }> = { url: { type: 'string' }, key: { type: 'string' } };
  for (const name of extra) options[name] = { type: 'string' };
  const { values, positionals } = parseArgs({ args: argv, options, allowPositionals: true });
  const url = values['url'] ?? process.env['RAKUTEN_API_URL'] ?? 'http://127.0.0.1:8000';
  const key = values['key'] ?? process.env['RAKUTEN_API_KEY'];
  return { client: new RakutenApiClient(String(url), key === undefined ? undefined : String(key)), args: positionals, options: values as Record<string, string | undefined> };
}

/** `1234 (0.87), 1281 (0.05)`. */
export const formatTop = (a: ProductAnswer): string => a.top.map((t) => `${t.prdtypecode} (${t.probability.toFixed(2)})`).join(', ');
